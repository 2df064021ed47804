"""``auth: {chain: [x509]}``: the verified client certificate, mapped to a user.

The TLS layer (``davprovider/server/tls.py``) verified the chain (client CAs, CRLs for the
whole chain, RFC 3820 proxies) and computed the caller's ``PeerCertificate`` from it;
this authenticator maps the end-entity subject to a user:

- ``x509.mapping: gridmap``: through the grid-mapfile ``x509.gridmap`` (``auth/gridmap.py``);
- ``x509.mapping: irods``: through the iRODS zone's DN registry (the DNs ``iadmin aua``
  stores), read with python-irodsclient as the rodsadmin of ``x509.irods`` or, without
  it, the share's own ``proxy_user``; answers are cached for ``x509.cache_seconds``.

No certificate: ``None`` (the next authenticator tries). A certificate that breaks a rule
(``problem``), has expired since the handshake, or maps to no user: 403 with the reason,
not a password prompt (``x509.unmapped: continue`` lets the chain go on instead). The
``Identity`` is ``(user, "x509", dn=<subject in RFC 4514>)``; backends act for it
through a proxy session (iRODS) or a credential profile (Swift).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from wsgidav.dav_error import HTTP_BAD_GATEWAY, HTTP_FORBIDDEN, DAVError

from auth.certchain import (
    PEER_KEY,
    DNError,
    DNParts,
    PeerCertificate,
    oneline_dn,
    parse_dn,
    slash_dn,
)
from auth.gridmap import GridMap
from auth.identity import Identity
from davprovider.settings import IrodsRegistrySettings, Settings, X509Settings

if TYPE_CHECKING:
    from auth.controller import ShareAccess

log = logging.getLogger("auth.x509")


class IrodsRegistry:
    """DN -> users from an iRODS zone's ``UserAuth`` table (GenQuery ``USER_DN``)."""

    def __init__(self, settings: X509Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, int, str, str], Any] = {}
        self._cache: dict[tuple[tuple[str, int, str, str], DNParts], tuple[float, list[str]]] = {}

    def _target(self, share: ShareAccess) -> tuple[tuple[str, int, str, str], str]:
        """(host, port, zone, user) and password of the account reading the registry."""
        reg = self.settings.irods
        if reg is None:
            o = getattr(share.factory, "options", None)
            if o is None or not getattr(o, "proxy_user", ""):
                raise DAVError(HTTP_FORBIDDEN, "no iRODS DN registry for this share")
            reg = IrodsRegistrySettings(
                host=o.host, port=o.port, zone=o.zone, user=o.proxy_user, password=o.proxy_password
            )
        return (reg.host, reg.port, reg.zone, reg.user), reg.password

    def users(self, parts: DNParts, share: ShareAccess) -> list[str]:
        target, password = self._target(share)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get((target, parts))
        if cached is not None and cached[0] > now:
            return cached[1]
        users = self._query(target, password, parts)
        with self._lock:
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[(target, parts)] = (now + self.settings.cache_seconds, users)
        return users

    def _session(self, target: tuple[str, int, str, str], password: str) -> Any:
        from irods.session import iRODSSession

        with self._lock:
            session = self._sessions.get(target)
            if session is None:
                host, port, zone, user = target
                timeout = self.settings.irods.timeout if self.settings.irods else 10
                session = iRODSSession(
                    host=host, port=port, zone=zone, user=user, password=password,
                    connection_timeout=timeout, application_name="davprovider-x509",
                )  # fmt: skip
                self._sessions[target] = session
            return session

    def _query(self, target: tuple[str, int, str, str], password: str, parts: DNParts) -> list[str]:
        from irods.exception import NetworkException, iRODSException
        from irods.models import User, UserAuth

        session = self._session(target, password)
        found: set[str] = set()
        try:
            for candidate in {oneline_dn(parts), slash_dn(parts)}:
                query = session.query(User.name, UserAuth.user_dn)
                for row in query.filter(UserAuth.user_dn == candidate):
                    if _same_dn(row[UserAuth.user_dn], parts):
                        found.add(str(row[User.name]))
        except (NetworkException, OSError, iRODSException) as exc:
            with self._lock:
                self._sessions.pop(target, None)
            session.cleanup()
            log.warning("x509: DN registry of %s:%d unavailable: %r", target[0], target[1], exc)
            raise DAVError(HTTP_BAD_GATEWAY, "the iRODS DN registry is unavailable") from None
        return sorted(found)

    def close(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.cleanup()


def _same_dn(stored: str, parts: DNParts) -> bool:
    try:
        return parse_dn(stored) == parts
    except DNError:
        return False


class Authenticator:
    """Verified client certificate -> ``Identity(user, "x509", dn=...)``."""

    name = "x509"
    challenges = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.x509
        self.gridmap: GridMap | None = None
        self.registry: IrodsRegistry | None = None
        if self.settings.mapping == "gridmap":
            self.gridmap = GridMap(self.settings.gridmap)
        else:
            self.registry = IrodsRegistry(self.settings)

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        """Map the connection's verified certificate (if any) to a user."""
        peer: PeerCertificate | None = environ.get(PEER_KEY)
        if peer is None:
            return None
        refusal = self._refusal(peer)
        if refusal:
            raise DAVError(HTTP_FORBIDDEN, f"client certificate refused: {refusal}")
        users = self._users(peer, share)
        if not users:
            if self.settings.unmapped == "continue":
                log.info("x509: %s is not mapped; the chain goes on", peer.subject_slash)
                return None
            reason = f"certificate subject {peer.subject_slash} is not mapped to a user"
            raise DAVError(HTTP_FORBIDDEN, reason)
        if self.registry is not None and len(users) > 1:
            reason = (
                f"certificate subject {peer.subject_slash} is registered for {len(users)} users"
            )
            raise DAVError(HTTP_FORBIDDEN, reason)
        return Identity(user=users[0], method="x509", dn=peer.subject)

    def _refusal(self, peer: PeerCertificate) -> str | None:
        if peer.problem:
            return peer.problem
        if peer.expires <= dt.datetime.now(dt.UTC):
            return f"expired at {peer.expires.isoformat()}"
        if peer.limited and not self.settings.limited_proxies:
            return "limited proxies are not accepted"
        return None

    def _users(self, peer: PeerCertificate, share: ShareAccess) -> list[str]:
        if self.gridmap is not None:
            return self.gridmap.users(peer.parts)
        assert self.registry is not None
        return self.registry.users(peer.parts, share)
