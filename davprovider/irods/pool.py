"""iRODS sessions pooled per identity, with a TTL and a size bound."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from irods.session import iRODSSession
from irods.ticket import Ticket

if TYPE_CHECKING:
    from davprovider.backend import Identity

    from .options import Options

log = logging.getLogger("davprovider.irods")


@dataclass
class Pooled:
    """One identity's session; ``renew()`` replaces it after its connection died."""

    key: tuple[str, str, str]
    session: Any
    last_used: float


def _busy(session: Any) -> bool:
    """True while one of the session's connections is checked out by a request."""
    return bool(getattr(getattr(session, "pool", None), "active", None))


class SessionPool:
    """Hands out an iRODSSession per identity; idle sessions expire after ``ttl``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], Pooled] = OrderedDict()
        self._retiring: list[Pooled] = []

    def _key(self, identity: Identity) -> tuple[str, str, str]:
        secrets = f"{identity.password or ''}\0{identity.ticket or ''}"
        return (identity.method, identity.user, hashlib.sha256(secrets.encode()).hexdigest())

    def new_session(self, identity: Identity) -> Any:
        """A fresh session: the user's own for passwords, a rodsadmin proxy otherwise."""
        o = self.options
        common: dict[str, Any] = {
            "host": o.host, "port": o.port, "zone": o.zone,
            "connection_timeout": o.timeout, "application_name": "davprovider",
        }  # fmt: skip
        if identity.method == "basic":
            session = iRODSSession(
                user=identity.user, password=identity.password or "",
                authentication_scheme=o.auth_scheme, **common,
            )  # fmt: skip
            if o.auth_scheme == "pam_password":
                session.set_auth_option_for_scheme("pam_password", "ensure_ssl_is_active", False)
            return session
        if identity.method in ("anonymous", "ticket"):  # a fixed account (and its ticket)
            session = iRODSSession(user=identity.user, password=identity.password or "", **common)
            if identity.ticket:
                Ticket(session, identity.ticket).supply()  # on every pooled connection
            return session
        if not o.proxy_user:
            raise PermissionError(f"no proxy_user configured for {identity.method} logins")
        return iRODSSession(
            user=o.proxy_user, password=o.proxy_password, client_user=identity.user, **common
        )

    def get(self, identity: Identity) -> Pooled:
        key = self._key(identity)
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                entry = Pooled(key, self.new_session(identity), time.monotonic())
            entry.last_used = time.monotonic()
            self._entries[key] = entry
            done = self._trim()
        for old in done:
            self._dispose(old)
        return entry

    def pooled(self) -> list[Pooled]:
        """The sessions pooled now (a snapshot)."""
        with self._lock:
            return list(self._entries.values())

    def lookup(self, identity: Identity) -> Pooled | None:
        """The pooled, unexpired session of exactly this identity (password included)."""
        with self._lock:
            entry = self._entries.get(self._key(identity))
            if entry is None or time.monotonic() - entry.last_used > self.options.pool_ttl:
                return None
            return entry

    def put(self, identity: Identity, session: Any) -> None:
        """Adopt a session that just logged in (so the first request reuses it).

        Logins of one identity may race (a client's first requests in parallel): the
        first session pooled stays, since requests may hold it already; a later one is
        closed. Only an expired entry is replaced."""
        key = self._key(identity)
        with self._lock:
            old = self._entries.get(key)
            if old is not None and time.monotonic() - old.last_used <= self.options.pool_ttl:
                done = [Pooled(key, session, time.monotonic())]
            else:
                if old is not None:
                    self._retiring.append(self._entries.pop(key))
                self._entries[key] = Pooled(key, session, time.monotonic())
                done = self._trim()
        for entry in done:
            self._dispose(entry)

    def _trim(self) -> list[Pooled]:
        """Under the lock: retire expired and surplus sessions; return those now idle.

        A session with a checked-out connection (an upload or a download in progress)
        is never closed under its request: it waits among the retiring until it is idle.
        """
        now = time.monotonic()
        for key, entry in list(self._entries.items()):
            if now - entry.last_used > self.options.pool_ttl:
                self._retiring.append(self._entries.pop(key))
        while len(self._entries) > self.options.pool_size:
            self._retiring.append(self._entries.popitem(last=False)[1])
        idle = [e for e in self._retiring if not _busy(e.session)]
        self._retiring = [e for e in self._retiring if _busy(e.session)]
        return idle

    def renew(self, entry: Pooled, identity: Identity) -> None:
        """Replace a session whose connections died (the zone restarted, say)."""
        log.info("replacing the iRODS session of %s after a broken connection", identity.user)
        old_session = entry.session
        entry.session = self.new_session(identity)
        try:
            old_session.pool.idle.clear()
        except AttributeError:
            pass

    def _dispose(self, entry: Pooled) -> None:
        """Close a retired session's idle connections.

        They are taken under python-irodsclient's own pool lock, the one its checkout
        holds, so a request that still holds this session and checks a connection out
        meanwhile gets a new one rather than one shut under it. Connections out at that
        moment close when the session is collected."""
        pool: Any = getattr(entry.session, "pool", None)
        lock = getattr(pool, "_lock", None)
        if pool is None or lock is None:
            self._cleanup(entry)
            return
        with lock:
            idle = list(pool.idle)
            pool.idle.clear()
        for conn in idle:
            try:
                conn.disconnect()
            except Exception as exc:  # noqa: BLE001 - a dead connection may fail any way
                log.debug("closing an idle connection of a retired session failed: %r", exc)

    def _cleanup(self, entry: Pooled) -> None:
        try:
            entry.session.cleanup()
        except Exception as exc:  # noqa: BLE001 - a dead session may fail any way on cleanup
            log.debug("cleanup of an expired session failed: %r", exc)

    def close(self) -> None:
        with self._lock:
            entries = list(self._entries.values()) + self._retiring
            self._entries.clear()
            self._retiring = []
        for entry in entries:
            self._cleanup(entry)
