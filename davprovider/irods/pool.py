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

if TYPE_CHECKING:
    from auth.identity import Identity

    from .options import Options

log = logging.getLogger("davprovider.irods")


@dataclass
class Pooled:
    """One identity's session; ``renew()`` replaces it after its connection died."""

    key: tuple[str, str, str]
    session: Any
    last_used: float


class SessionPool:
    """Hands out an iRODSSession per identity; idle sessions expire after ``ttl``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str], Pooled] = OrderedDict()

    def _key(self, identity: Identity) -> tuple[str, str, str]:
        secret = hashlib.sha256((identity.password or "").encode()).hexdigest()
        return (identity.method, identity.user, secret)

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
        if identity.method == "anonymous":  # the share's fixed read-only account
            return iRODSSession(user=identity.user, password=identity.password or "", **common)
        if not o.proxy_user:
            raise PermissionError(f"no proxy_user configured for {identity.method} logins")
        return iRODSSession(
            user=o.proxy_user, password=o.proxy_password, client_user=identity.user, **common
        )

    def get(self, identity: Identity) -> Pooled:
        key = self._key(identity)
        now = time.monotonic()
        expired: list[Pooled] = []
        with self._lock:
            for k, entry in list(self._entries.items()):
                if now - entry.last_used > self.options.pool_ttl:
                    expired.append(self._entries.pop(k))
            entry_or_none = self._entries.pop(key, None)
            if entry_or_none is None:
                entry_or_none = Pooled(key, self.new_session(identity), now)
            entry_or_none.last_used = now
            self._entries[key] = entry_or_none
            while len(self._entries) > self.options.pool_size:
                expired.append(self._entries.popitem(last=False)[1])
        for old in expired:
            self._dispose(old)
        return entry_or_none

    def put(self, identity: Identity, session: Any) -> None:
        """Adopt a session that just logged in (so the first request reuses it)."""
        key = self._key(identity)
        with self._lock:
            old = self._entries.pop(key, None)
            self._entries[key] = Pooled(key, session, time.monotonic())
        if old is not None:
            self._dispose(old)

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
        try:
            entry.session.cleanup()
        except Exception as exc:  # noqa: BLE001 - a dead session may fail any way on cleanup
            log.debug("cleanup of an expired session failed: %r", exc)

    def close(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            self._dispose(entry)
