"""GatewayProvider: one WsgiDAV provider per share.

It maps a request path to a resource (``resources.resolve``) and the caller's
``Identity`` (put into the environ by ``auth/controller.py``) to a backend
from the share's ``BackendFactory``. It also enforces what WsgiDAV leaves to
providers: PROPFIND Depth:infinity refused unless configured, read-only
anonymous access, a bound on XML request bodies, and 201 (not 204) when a
native COPY/MOVE created its destination.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from wsgidav.dav_error import (
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    HTTP_UNAUTHORIZED,
    DAVError,
    PRECONDITION_CODE_PropfindFiniteDepth,
)
from wsgidav.dav_provider import DAVProvider

from auth.identity import ENVIRON_KEY, READ_METHODS, Identity
from davprovider.backend import Backend, BackendFactory
from davprovider.resources import (
    CACHE_KEY,
    CREATED_KEY,
    backend_errors,
    backend_path,
    make_resource,
)
from davprovider.settings import Settings, ShareSettings

log = logging.getLogger(__name__)

BACKEND_KEY = "davprovider.backend"

StartResponse = Callable[..., Any]


class GatewayProvider(DAVProvider):
    """Serves one share (``share.path``) from backends made by ``factory``."""

    def __init__(self, share: ShareSettings, factory: BackendFactory, settings: Settings) -> None:
        super().__init__()
        self.share = share
        self.factory = factory
        self.settings = settings

    def __repr__(self) -> str:
        return f"GatewayProvider({self.share.path!r}, backend={self.share.backend!r})"

    def is_readonly(self) -> bool:
        return self.share.read_only

    def backend(self, environ: dict[str, Any]) -> Backend:
        """The backend acting as the request's identity (one per request)."""
        backend: Backend | None = environ.get(BACKEND_KEY)
        if backend is None:
            identity: Identity | None = environ.get(ENVIRON_KEY)
            if identity is None:
                raise DAVError(HTTP_UNAUTHORIZED, "no identity for this request")
            with backend_errors(self.share.path):
                backend = self.factory(identity)
            environ[BACKEND_KEY] = backend
        return backend

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        """Resource at ``path`` (share-relative) or ``None``: one ``stat``,
        cached for the request until it writes (WsgiDAV asks several times)."""
        cache: dict[str, Any] = environ.setdefault(CACHE_KEY, {})
        key = backend_path(path)
        if key not in cache:
            backend = self.backend(environ)
            try:
                with backend_errors(key):
                    entry = backend.stat(key)
            except DAVError as error:
                if error.value not in (HTTP_NOT_FOUND, HTTP_CONFLICT):
                    raise
                cache[key] = None
            else:
                cache[key] = make_resource(key, environ, backend, entry)
        return cache[key]

    def custom_request_handler(
        self, environ: dict[str, Any], start_response: StartResponse, default_handler: Any
    ) -> Iterable[bytes]:
        """Check what WsgiDAV does not, then run WsgiDAV's handler."""
        method = environ["REQUEST_METHOD"]
        self._check_identity(environ, method)
        self._check_depth(environ, method)
        self._check_body_size(environ, method)
        if method in ("COPY", "MOVE"):
            start_response = _created_status(environ, start_response)
        return default_handler(environ, start_response)

    def _check_identity(self, environ: dict[str, Any], method: str) -> None:
        identity: Identity | None = environ.get(ENVIRON_KEY)
        if identity is not None and identity.is_anonymous and method not in READ_METHODS:
            raise DAVError(HTTP_FORBIDDEN, "anonymous access is read-only")

    def _check_depth(self, environ: dict[str, Any], method: str) -> None:
        if method != "PROPFIND" or self.settings.propfind_infinity:
            return
        depth = environ.get("HTTP_DEPTH", "infinity").strip().lower()
        if depth == "infinity":
            raise DAVError(
                HTTP_FORBIDDEN,
                "PROPFIND with Depth: infinity (or no Depth header) is disabled",
                err_condition=PRECONDITION_CODE_PropfindFiniteDepth,
            )

    def _check_body_size(self, environ: dict[str, Any], method: str) -> None:
        if method == "PUT":
            return
        length = environ.get("CONTENT_LENGTH", "").strip()
        if length.isdigit() and int(length) > self.settings.max_xml_body:
            raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, f"{method} body too large")


def _created_status(environ: dict[str, Any], start_response: StartResponse) -> StartResponse:
    """WsgiDAV answers 204 to every native COPY/MOVE; RFC 4918 wants 201
    when the destination did not exist (``resources`` notes that)."""

    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if status.startswith("204") and environ.get(CREATED_KEY):
            status = "201 Created"
        return start_response(status, headers, exc_info)

    return wrapped
