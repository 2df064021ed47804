"""The WsgiDAV domain controller that runs the configured authenticator chain.

All decisions happen in ``require_authentication`` (called by WsgiDAV's
``HTTPAuthenticator`` before anything else): the share's chain (``shares[].auth``,
else ``auth.chain``) is asked in order and the first ``Identity`` wins. It is stored
in the environ (``ENVIRON_KEY``) for the provider, and its user name
becomes WsgiDAV's user (the lock principal). An authenticator may also refuse outright
by raising ``DAVError`` (403 with a reason, e.g. a certificate mapped to no user).
When nothing matched:

- a share with ``anonymous:`` lets read methods through as its fixed account;
- if an authenticator in the chain can challenge (Basic), the client gets a
  401 with ``WWW-Authenticate`` (malformed credentials are dropped first, so
  WsgiDAV never parses them: no 500);
- otherwise the request is refused with 403. An empty chain denies.

Every decision is logged with the client address, the method and path, and the reason
or the identity (never a password).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
from wsgidav.dc.base_dc import BaseDomainController

from auth.loginlimit import LoginLimit
from davprovider import plugins
from davprovider.backend import BackendFactory, Identity
from davprovider.settings import Settings, ShareSettings, chain_for

log = logging.getLogger(__name__)

#: Environ key under which the controller stores the caller's ``Identity``.
ENVIRON_KEY = "davprovider.identity"
#: Environ key of the caller's primary VOMS FQAN (for the access log), when it has one.
FQAN_KEY = "davprovider.fqan"

#: Methods an anonymous (read-only) identity may use.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND"})

#: Key of the WsgiDAV config dict that carries our ``Settings``.
SETTINGS_KEY = "davprovider"


class ShareAccess(Protocol):
    """What authenticators may know about the requested share."""

    share: ShareSettings
    factory: BackendFactory


class Authenticator(Protocol):
    """One link of the chain (see ``auth/basic.py``)."""

    name: str
    challenges: bool

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        """Return the caller's identity, or ``None`` to let the next one try.
        MAY raise ``DAVError`` (403 to refuse with a reason, 502 when a backend
        cannot answer)."""
        ...


def make_authenticator(name: str, settings: Settings) -> Authenticator:
    """Instantiate authenticator ``name`` (a short name or a dotted module path)."""
    module = plugins.load_authenticator(name)
    authenticator: Authenticator = module.Authenticator(settings)
    return authenticator


def build_chains(settings: Settings) -> dict[str, list[Authenticator]]:
    """Share path -> its chain; each authenticator is made once and shared."""
    made: dict[str, Authenticator] = {}
    chains: dict[str, list[Authenticator]] = {}
    for share in settings.shares:
        chain = []
        for name in chain_for(settings, share):
            if name not in made:
                made[name] = make_authenticator(name, settings)
            chain.append(made[name])
        chains[share.path] = chain
    return chains


def _request(environ: dict[str, Any]) -> str:
    """``ADDRESS METHOD PATH`` for log lines."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return f"{environ.get('REMOTE_ADDR', '-')} {environ.get('REQUEST_METHOD', '-')} {path}"


class GatewayDomainController(BaseDomainController):
    """Runs the share's chain; WsgiDAV's own Basic/Digest handling is only used to
    send the 401 challenge."""

    def __init__(self, wsgidav_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, config)
        settings: Settings = config[SETTINGS_KEY]
        self.chains = build_chains(settings)
        self.login_limit = LoginLimit(settings)  # 429 after repeated failed logins
        # an accepted password login says no more than the access log's line of the
        # request (its user): with the access log on, it is logged at DEBUG
        self.basic_level = logging.DEBUG if settings.logging.access_log else logging.INFO

    def __str__(self) -> str:
        chains = {path: [a.name for a in chain] for path, chain in self.chains.items()}
        return f"GatewayDomainController(chains={chains})"

    def get_domain_realm(self, path_info: str, environ: dict[str, Any] | None) -> str:
        return str(self._calc_realm_from_path_provider(path_info, environ))

    def require_authentication(self, realm: str, environ: dict[str, Any] | None) -> bool:
        """Authenticate now; True only when a 401 challenge should follow."""
        if environ is None:
            return True  # startup probe: no share is anonymous for writes
        share: Any = environ.get("wsgidav.provider")
        if not hasattr(share, "factory"):
            return False  # not one of our shares (WsgiDAV's dir-browser assets, 404s)
        chain = self.chains.get(share.share.path, [])
        try:
            self.login_limit.check(environ)
            identity = self._run_chain(chain, environ, share)
        except DAVError as error:
            reason = error.context_info or str(error.value)
            log.warning("auth: %s refused (%s): %s", _request(environ), error.value, reason)
            raise
        if identity is None:
            identity = self._anonymous(environ, share)
        if identity is not None:
            environ[ENVIRON_KEY] = identity
            environ["wsgidav.auth.user_name"] = identity.user
            dn = f" dn={identity.dn!r}" if identity.dn else ""
            if identity.fqans:
                environ[FQAN_KEY] = identity.fqans[0]
                dn += f" fqan={identity.fqans[0]}"
            log.log(
                self.basic_level if identity.method == "basic" else logging.INFO,
                "auth: %s accepted as %s by %s%s",
                _request(environ),
                identity.user,
                identity.method,
                dn,
            )
            return False
        if any(a.challenges for a in chain):
            if environ.pop("HTTP_AUTHORIZATION", None) is not None:
                self.login_limit.failed(environ)
            log.info("auth: %s challenged: no credentials accepted (401)", _request(environ))
            return True
        reason = "no authenticator accepted the request" if chain else "the auth chain is empty"
        log.warning("auth: %s refused (403): %s", _request(environ), reason)
        raise DAVError(HTTP_FORBIDDEN, f"not authorized: {reason}")

    def _run_chain(
        self, chain: list[Authenticator], environ: dict[str, Any], share: ShareAccess
    ) -> Identity | None:
        for authenticator in chain:
            identity = authenticator.authenticate(environ, share)
            if identity is not None:
                return identity
        return None

    def _anonymous(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        anonymous = share.share.anonymous
        if anonymous is None or environ.get("REQUEST_METHOD") not in READ_METHODS:
            return None
        if "HTTP_AUTHORIZATION" in environ:
            return None  # credentials were sent but refused: challenge again
        return Identity(user=anonymous.user, method="anonymous", password=anonymous.password)

    def basic_auth_user(
        self, realm: str, user_name: str, password: str, environ: dict[str, Any]
    ) -> bool:
        """Never reached: the chain consumed (or dropped) Basic credentials."""
        return False

    def supports_http_digest_auth(self) -> bool:
        return False
