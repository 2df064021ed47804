"""The WsgiDAV domain controller that runs the configured authenticator chain.

All decisions happen in ``require_authentication`` (called by WsgiDAV's
``HTTPAuthenticator`` before anything else): the chain's authenticators are
asked in order and the first ``Identity`` wins. It is stored in the environ
(``auth.identity.ENVIRON_KEY``) for the provider, and its user name becomes
WsgiDAV's user (the lock principal). When nothing matched:

- a share with ``anonymous:`` lets read methods through as its fixed account;
- if an authenticator in the chain can challenge (Basic), the client gets a
  401 with ``WWW-Authenticate`` (malformed credentials are dropped first, so
  WsgiDAV never parses them: no 500);
- otherwise the request is refused with 403. An empty chain denies.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Protocol

from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
from wsgidav.dc.base_dc import BaseDomainController

from auth import AUTHENTICATORS
from auth.identity import ENVIRON_KEY, READ_METHODS, Identity
from davprovider.backend import BackendFactory
from davprovider.settings import Settings, ShareSettings

log = logging.getLogger(__name__)

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
        MAY raise ``DAVError`` (e.g. 502 when a backend cannot answer)."""
        ...


def build_chain(settings: Settings) -> list[Authenticator]:
    """Instantiate the authenticators named in ``settings.auth.chain``."""
    chain: list[Authenticator] = []
    for name in settings.auth.chain:
        module = importlib.import_module(AUTHENTICATORS[name])
        chain.append(module.Authenticator(settings))
    return chain


class GatewayDomainController(BaseDomainController):
    """Runs the chain; WsgiDAV's own Basic/Digest handling is only used to
    send the 401 challenge."""

    def __init__(self, wsgidav_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, config)
        settings: Settings = config[SETTINGS_KEY]
        self.chain = build_chain(settings)

    def __str__(self) -> str:
        return f"GatewayDomainController(chain={[a.name for a in self.chain]})"

    def get_domain_realm(self, path_info: str, environ: dict[str, Any] | None) -> str:
        return str(self._calc_realm_from_path_provider(path_info, environ))

    def require_authentication(self, realm: str, environ: dict[str, Any] | None) -> bool:
        """Authenticate now; True only when a 401 challenge should follow."""
        if environ is None:
            return True  # startup probe: no share is anonymous for writes
        share: Any = environ.get("wsgidav.provider")
        if not hasattr(share, "factory"):
            return False  # not one of our shares (WsgiDAV's dir-browser assets, 404s)
        identity = self._run_chain(environ, share)
        if identity is None:
            identity = self._anonymous(environ, share)
        if identity is not None:
            environ[ENVIRON_KEY] = identity
            environ["wsgidav.auth.user_name"] = identity.user
            return False
        if any(a.challenges for a in self.chain):
            environ.pop("HTTP_AUTHORIZATION", None)
            return True
        client = environ.get("REMOTE_ADDR", "-")
        log.warning("auth: no authenticator accepted %s for %s", client, realm)
        raise DAVError(HTTP_FORBIDDEN, "not authorized")

    def _run_chain(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        for authenticator in self.chain:
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
