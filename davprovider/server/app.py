"""The WSGI application: WsgiDAV over one ``GatewayProvider`` per share, our domain
controller, behind the request guard (``guard.py``: syntax refused before WsgiDAV runs)
and an access log (one line per request, never credentials)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from wsgidav.http_authenticator import HTTPAuthenticator
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from auth.controller import SETTINGS_KEY, GatewayDomainController
from davprovider import plugins
from davprovider.backend import BackendFactory
from davprovider.dav.browser import Browser
from davprovider.dav.pages import StatusPages
from davprovider.dav.provider import GatewayProvider
from davprovider.dav.root import RootProvider
from davprovider.dav.tpc import ThirdPartyCopy
from davprovider.server.guard import RequestGuard
from davprovider.settings import Settings

access_log = logging.getLogger("davprovider.access")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def create_factories(settings: Settings) -> dict[str, BackendFactory]:
    """One backend factory per share, keyed by share path."""
    factories: dict[str, BackendFactory] = {}
    for share in settings.shares:
        module = plugins.load_backend(share.backend)
        factories[share.path] = module.create_factory(share.options)
    return factories


def build_app(
    settings: Settings, factories: Mapping[str, BackendFactory] | None = None
) -> AccessLog:
    """The whole WSGI application; ``factories`` overrides per share path."""
    made = create_factories(settings) if factories is None else dict(factories)
    providers: dict[str, Any] = {
        s.path: GatewayProvider(s, made[s.path], settings) for s in settings.shares
    }
    providers.setdefault("/", RootProvider([s.path for s in settings.shares]))
    config = {
        "provider_mapping": providers,
        SETTINGS_KEY: settings,
        "http_authenticator": {
            "domain_controller": GatewayDomainController,
            "accept_basic": True,
            "accept_digest": False,
            "default_to_digest": False,
            "trusted_auth_header": None,
        },
        "middleware_stack": [
            StatusPages,
            HTTPAuthenticator,
            ThirdPartyCopy,
            Browser,
            RequestResolver,
        ],
        "block_size": settings.block_size,
        "lock_storage": True if settings.lock_storage == "memory" else None,
        "property_manager": None,
        "dir_browser": {"enable": False},  # ours is dav/browser.py
        "logging": {"enable": False},
        "verbose": 2,
        "suppress_version_info": True,
    }
    dav = WsgiDAVApp(config)
    access = AccessLog(RequestGuard(dav), enabled=settings.logging.access_log, factories=made)
    access.dav = dav
    access.sweeps = start_sweeps(made)
    return access


def start_sweeps(factories: Mapping[str, BackendFactory]) -> threading.Event:
    """Each factory's ``sweep()`` (leftovers of crashed uploads) now, in a daemon thread,
    and again after the seconds it returns; set the returned event to stop."""
    stop = threading.Event()

    def run() -> None:
        due = {path: 0.0 for path, f in factories.items() if hasattr(f, "sweep")}
        while due and not stop.is_set():
            path = min(due, key=due.__getitem__)
            if stop.wait(max(0.0, due[path] - time.monotonic())):
                return
            try:
                after = factories[path].sweep()
            except Exception:  # noqa: BLE001 - a sweep must never end the sweeping
                logging.getLogger("davprovider").exception("sweep of %s failed", path)
                after = 3600.0
            if after is None:
                del due[path]
            else:
                due[path] = time.monotonic() + after

    threading.Thread(target=run, name="sweep", daemon=True).start()
    return stop


class AccessLog:
    """WSGI middleware: one line per request with client, user, method,
    path, status, body bytes in and out, and duration. Never credentials."""

    def __init__(
        self, app: WsgiApp, *, enabled: bool, factories: Mapping[str, BackendFactory]
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.factories = factories
        self.dav: Any = None  # the WsgiDAV application inside (its lock manager)
        self.sweeps: threading.Event | None = None  # set: stop sweeping (start_sweeps)

    def close(self) -> None:
        """Release the backends' pooled sessions."""
        if self.sweeps is not None:
            self.sweeps.set()
        for factory in self.factories.values():
            factory.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.monotonic()
        request = (environ.get("REQUEST_METHOD", "-"), environ.get("REQUEST_URI", "-"))
        state = {"status": "-"}

        def recording(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            state["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        body = self.app(environ, recording)
        return self._relay(body, environ, request, state, started)

    def _relay(
        self,
        body: Iterable[bytes],
        environ: dict[str, Any],
        request: tuple[str, str],
        state: dict[str, str],
        started: float,
    ) -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            if self.enabled:
                received = getattr(environ.get("wsgi.input"), "received", 0)
                access_log.info(
                    '%s %s "%s %s" %s in=%d out=%d %.1fms',
                    environ.get("REMOTE_ADDR", "-"),
                    environ.get("wsgidav.auth.user_name") or "-",
                    request[0],
                    request[1].split("?", 1)[0],
                    state["status"],
                    received,
                    sent,
                    (time.monotonic() - started) * 1000,
                )
