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
from davprovider.dav.redislocks import install as install_fleet_locks
from davprovider.dav.root import RootProvider
from davprovider.dav.tokenrequest import TokenRequests
from davprovider.dav.tpc import ThirdPartyCopy
from davprovider.server import health, metrics, requestlog
from davprovider.server.badcert import CertificateRefusal
from davprovider.server.guard import RequestGuard
from davprovider.server.instrument import CLOCK, instrument
from davprovider.settings import Settings

access_log = logging.getLogger("davprovider.access")  # requestlog.setup_access_log

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
        s.path: GatewayProvider(s, instrument(made[s.path], s.backend), settings)
        for s in settings.shares
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
            TokenRequests,
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
    install_fleet_locks(dav, providers.values(), settings)  # with redis: locks in Redis
    requestlog.setup_access_log(settings.logging)
    metrics.install()
    access = AccessLog(
        CertificateRefusal(RequestGuard(dav)),  # badcert.py: unverified certificates
        enabled=settings.logging.access_log,
        factories=made,
        endpoints={
            health.PATH: health.HealthPage(made, settings.health),
            metrics.PATH: metrics.MetricsPage(settings.metrics),
        },
        json_lines=settings.logging.access_format == "json",
    )
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
    """WSGI middleware: one record per request (``requestlog.py``: id, client, user,
    method, path, status, body bytes in and out, duration, time in the backend, the
    primary VOMS FQAN when the caller has one; never credentials) to the access log and
    the metrics. The request id is echoed in ``X-Request-ID``. ``endpoints`` (health,
    metrics) are answered before anything else and neither logged nor counted."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        enabled: bool,
        factories: Mapping[str, BackendFactory],
        endpoints: Mapping[str, WsgiApp] | None = None,
        json_lines: bool = False,
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.factories = factories
        self.endpoints = dict(endpoints or {})
        self.json_lines = json_lines
        self.dav: Any = None  # the WsgiDAV application inside (its lock manager)
        self.sweeps: threading.Event | None = None  # set: stop sweeping (start_sweeps)

    def close(self) -> None:
        """Release the backends' pooled sessions."""
        if self.sweeps is not None:
            self.sweeps.set()
        for factory in self.factories.values():
            factory.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        endpoint = self.endpoints.get(environ.get("PATH_INFO", ""))
        if endpoint is not None:
            return endpoint(environ, start_response)
        method = environ.get("REQUEST_METHOD", "-")
        start = (
            time.monotonic(),
            method,
            environ.get("REQUEST_URI", "-"),
            requestlog.credentials_scheme(environ),
        )
        CLOCK.start()
        echo = (requestlog.HEADER, requestlog.request_id(environ))
        state = {"status": "-"}

        def recording(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            state["status"] = status.split(" ", 1)[0]
            return start_response(status, [*headers, echo], exc_info)

        transfer = metrics.TransferCount(method)
        try:
            body = self.app(environ, recording)
        except BaseException:
            transfer.done()
            raise
        return self._relay(body, environ, start, state, transfer)

    def _relay(
        self,
        body: Iterable[bytes],
        environ: dict[str, Any],
        start: tuple[float, str, str, str | None],
        state: dict[str, str],
        transfer: metrics.TransferCount,
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
            transfer.done()
            received = getattr(environ.get("wsgi.input"), "received", 0)
            record = requestlog.make_record(
                environ, start, state["status"], (received, sent), CLOCK.seconds
            )
            metrics.observe_request(record)
            if self.enabled:
                line = requestlog.json_line if self.json_lines else requestlog.text_line
                access_log.info("%s", line(record))
