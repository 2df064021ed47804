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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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
from auth.gridmap import GridMap, GridMapError, load_gridmap
from auth.voms import Voms, VomsError, VomsSettings
from auth.voms import check_settings as check_voms
from davprovider import schema
from davprovider.backend import Identity
from davprovider.schema import ConfigError
from davprovider.settings import Settings, shares_using

if TYPE_CHECKING:
    from auth.controller import ShareAccess

log = logging.getLogger("auth.x509")

#: Identities carry no password: an iRODS share acts for them as its proxy user.
PASSWORDLESS = True


@dataclass(frozen=True)
class IrodsRegistrySettings:
    """``x509.irods:``: where the zone's DN registry is read (as a rodsadmin)."""

    host: str = "127.0.0.1"
    port: int = field(default=1247, metadata={"check": schema.port})
    zone: str = "tempZone"
    user: str = "rods"
    password: str = field(default="", repr=False)
    timeout: int = field(default=10, metadata={"check": schema.positive})


@dataclass(frozen=True)
class Options:
    """``x509:``: how a verified client certificate's subject becomes a user.

    ``mapping``: ``gridmap`` (the file ``gridmap``, re-read when it changes) or
    ``irods`` (the zone's DN registry: ``x509.irods``, or else the share's own iRODS
    options with their ``proxy_user``). ``unmapped``: ``deny`` (403 with a reason) or
    ``continue`` (let the rest of the chain try). ``voms``: VOMS attribute
    certificates in proxies (``auth/voms.py``).
    """

    mapping: Literal["gridmap", "irods"] = "gridmap"
    gridmap: str = field(default="", metadata={"check": schema.readable})
    irods: IrodsRegistrySettings | None = None
    cache_seconds: float = 60.0
    unmapped: Literal["deny", "continue"] = "deny"
    limited_proxies: bool = True
    voms: VomsSettings | None = None


def check_settings(settings: Settings) -> None:
    """An x509 chain needs client certificates, a readable grid-mapfile or a DN
    registry for every share."""
    source, options = settings.source, settings.x509
    tls = settings.tls
    if tls is None or tls.client_certificates == "none":
        problem = "must be optional or required for the x509 authenticator"
        raise ConfigError(source, "tls.client_certificates", problem)
    if options.mapping == "gridmap":
        if not options.gridmap:
            raise ConfigError(source, "x509.gridmap", "required when x509.mapping is gridmap")
        try:
            load_gridmap(options.gridmap)
        except (OSError, UnicodeDecodeError, GridMapError) as exc:
            raise ConfigError(source, "x509.gridmap", str(exc)) from None
    if options.mapping == "irods" and options.irods is None:
        for index, share in shares_using(settings, "x509"):
            if share.backend != "irods":
                problem = "x509.irods is required to map DNs for a share that is not iRODS"
                raise ConfigError(source, f"shares[{index}]", problem)
    if options.voms is not None:
        check_voms(settings)


class IrodsRegistry:
    """DN -> users from an iRODS zone's ``UserAuth`` table (GenQuery ``USER_DN``)."""

    def __init__(self, settings: Options) -> None:
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
        self.voms = Voms(settings) if self.settings.voms is not None else None

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        """Map the connection's verified certificate (if any) to a user."""
        peer: PeerCertificate | None = environ.get(PEER_KEY)
        if peer is None:
            return None
        refusal = self._refusal(peer)
        if refusal:
            raise DAVError(HTTP_FORBIDDEN, f"client certificate refused: {refusal}")
        fqans = self._fqans(peer)
        users = self._users(peer, share, fqans)
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
        return Identity(user=users[0], method="x509", dn=peer.subject, fqans=fqans)

    def _fqans(self, peer: PeerCertificate) -> tuple[str, ...]:
        """The verified VOMS FQANs of the proxy (empty without ``x509.voms`` or an AC)."""
        if self.voms is None:
            return ()
        try:
            attributes = self.voms.check(peer)
        except VomsError as exc:
            raise DAVError(HTTP_FORBIDDEN, f"VOMS attributes refused: {exc}") from None
        return attributes.fqans if attributes is not None else ()

    def _refusal(self, peer: PeerCertificate) -> str | None:
        if peer.problem:
            return peer.problem
        if peer.expires <= dt.datetime.now(dt.UTC):
            return f"expired at {peer.expires.isoformat()}"
        if peer.limited and not self.settings.limited_proxies:
            return "limited proxies are not accepted"
        return None

    def _users(
        self, peer: PeerCertificate, share: ShareAccess, fqans: tuple[str, ...] = ()
    ) -> list[str]:
        if self.voms is not None:
            return self.voms.users(fqans, lambda: self._dn_users(peer, share))
        return self._dn_users(peer, share)

    def _dn_users(self, peer: PeerCertificate, share: ShareAccess) -> list[str]:
        if self.gridmap is not None:
            return self.gridmap.users(peer.parts)
        assert self.registry is not None
        return self.registry.users(peer.parts, share)
