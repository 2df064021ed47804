"""GatewayProvider: one WsgiDAV provider per share.

It maps a request path to a resource (``resources.resolve``) and the caller's
``Identity`` (put into the environ by ``auth/controller.py``) to a backend
from the share's ``BackendFactory``. It also enforces what WsgiDAV leaves to
providers: PROPFIND Depth:infinity refused unless configured, read-only
anonymous access, a bound on XML request bodies, and 201 (not 204) when a
native COPY/MOVE created its destination. For sync and desktop clients
(``clients.py``): a malformed ``X-OC-Mtime`` is a 400 before anything runs,
an applied one is answered ``X-OC-Mtime: accepted``; GET/HEAD answer
``Want-Digest``/``Want-Repr-Digest``; macOS side files are refused with 403
when ``apple_files: refuse``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    HTTP_UNAUTHORIZED,
    DAVError,
    PRECONDITION_CODE_PropfindFiniteDepth,
)
from wsgidav.dav_provider import DAVProvider

from auth.controller import ENVIRON_KEY, READ_METHODS
from davprovider.backend import Backend, BackendFactory, Identity
from davprovider.dav.cache import CachingBackend, fleet_feed, wants_fresh
from davprovider.dav.clients import created_name, is_apple_file, oc_mtime
from davprovider.dav.errors import optional
from davprovider.dav.liveprops import OC_MTIME_KEY, digest_headers
from davprovider.dav.propfind import fast_propfind, read_request
from davprovider.dav.redirect import check_put_redirect
from davprovider.dav.resources import (
    CACHE_KEY,
    CREATED_KEY,
    STREAMS_KEY,
    backend_errors,
    backend_path,
    make_resource,
)
from davprovider.settings import Settings, ShareSettings

log = logging.getLogger(__name__)

BACKEND_KEY = "davprovider.backend"
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)

StartResponse = Callable[..., Any]


#: Methods whose target is about to be written: its lookup may be cheaper (``stat_target``).
WRITE_TARGETS = frozenset({"PUT", "MKCOL"})
#: Conditions on the target's current state: its lookup must be the full ``stat``.
CONDITIONS = ("HTTP_IF", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def _stat(backend: Backend, key: str, environ: dict[str, Any]) -> Any:
    """The entry at ``key``: ``stat_target`` for the target of a PUT or MKCOL that
    states no condition on it."""
    if (
        environ.get("REQUEST_METHOD") in WRITE_TARGETS
        and key == backend_path(environ.get("PATH_INFO", ""))
        and not any(environ.get(name) for name in CONDITIONS)
    ):
        return optional(lambda: backend.stat_target(key), lambda: backend.stat(key), "stat_target")
    return backend.stat(key)


class GatewayProvider(DAVProvider):
    """Serves one share (``share.path``) from backends made by ``factory``."""

    def __init__(self, share: ShareSettings, factory: BackendFactory, settings: Settings) -> None:
        super().__init__()
        self.share = share
        self.factory = factory
        self.settings = settings
        self._cache_scope = f"{share.path} {uuid.uuid4().hex}"  # this provider's listings
        self._fleet = fleet_feed(settings) if settings.listing_cache > 0 else None

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
            if self.settings.listing_cache > 0:
                ticket = hashlib.sha256((identity.ticket or "").encode()).hexdigest()
                scope = (self._cache_scope, identity.method, identity.user, ticket)
                fresh = wants_fresh(environ)
                seconds = self.settings.listing_cache
                cached = CachingBackend(backend, scope, seconds, fresh, self._fleet)
                backend = cast(Backend, cached)
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
                    entry = _stat(backend, key, environ)
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
        """Check what WsgiDAV does not, then answer: a PROPFIND of common live
        properties from the listing (``propfind.py``), anything else by WsgiDAV."""
        method = environ["REQUEST_METHOD"]
        self._check_identity(environ, method)
        self._check_depth(environ, method)
        self._check_body(environ, method)
        self._cap_lock_timeout(environ, method)
        names = read_request(environ) if method == "PROPFIND" else None
        self._check_client_files(environ)
        self._check_oc_mtime(environ, method)
        if method == "PUT":
            check_put_redirect(self, environ)  # a 307 to the backend, or nothing
        extra: list[tuple[str, str]] = []
        if method in ("GET", "HEAD"):
            extra = self._digest_headers(environ)
        answer = _answering(environ, start_response, extra)
        if method == "PROPFIND" and (fast := fast_propfind(self, environ, answer, names)):
            return fast  # common live properties at Depth 0/1, from the listing
        if method == "GET":
            return self._get(environ, answer, default_handler)
        return default_handler(environ, answer)

    def _get(
        self, environ: dict[str, Any], answer: StartResponse, default_handler: Any
    ) -> Iterable[bytes]:
        """A file's GET opens its content before WsgiDAV writes the headers
        (``FileResource.prepare_get``); the stream is closed when the answer ends."""
        resource = self.get_resource_inst(environ["PATH_INFO"], environ)
        if resource is None or resource.is_collection:
            return default_handler(environ, answer)
        try:
            resource.prepare_get()
            return _closing(default_handler(environ, answer), environ)
        except BaseException:
            _close_streams(environ)
            raise

    def _check_client_files(self, environ: dict[str, Any]) -> None:
        mode = self.share.apple_files or self.settings.clients.apple_files
        name = created_name(environ) if mode == "refuse" else None
        if name is not None and is_apple_file(name):
            log.info("refused macOS side file %s (apple_files: refuse)", name)
            raise DAVError(HTTP_FORBIDDEN, f"{name}: macOS side files are not stored here")

    def _check_oc_mtime(self, environ: dict[str, Any], method: str) -> None:
        if method not in ("PUT", "COPY", "MOVE"):
            return
        try:
            oc_mtime(environ)
        except ValueError as exc:
            raise DAVError(HTTP_BAD_REQUEST, str(exc)) from None

    def _digest_headers(self, environ: dict[str, Any]) -> list[tuple[str, str]]:
        """``Digest``/``Repr-Digest`` for a GET/HEAD asking for them; a failure to
        get digests costs the headers, not the download."""
        if "HTTP_WANT_DIGEST" not in environ and "HTTP_WANT_REPR_DIGEST" not in environ:
            return []
        try:
            resource = self.get_resource_inst(environ["PATH_INFO"], environ)
            return digest_headers(resource, environ)
        except DAVError as error:
            log.warning("no digests for %s: %s", environ["PATH_INFO"], error.get_user_info())
            return []

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

    def _check_body(self, environ: dict[str, Any], method: str) -> None:
        """A body other than PUT's is read here, once, at most ``max_xml_body`` bytes
        (a chunked one too), and handed on in memory; a DTD in it is refused (WebDAV
        bodies need none, and entities are how XML attacks start)."""
        if method in ("PUT", "POST"):
            return
        limit = self.settings.max_xml_body
        length = environ.get("CONTENT_LENGTH", "").strip()
        if length.isdigit() and int(length) > limit:
            raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, f"{method} body too large")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not (chunked or (length.isdigit() and int(length) > 0)):
            return
        body = environ["wsgi.input"].read(limit + 1 if chunked else int(length))
        if len(body) > limit:
            raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, f"{method} body too large")
        if _DTD.search(body):
            raise DAVError(HTTP_BAD_REQUEST, "DTDs and entities are not accepted in XML bodies")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)

    def _cap_lock_timeout(self, environ: dict[str, Any], method: str) -> None:
        """A LOCK's ``Timeout`` (``Infinite``, absent or too long) is capped at
        ``lock_max_timeout`` seconds; the client may refresh the lock."""
        if method != "LOCK":
            return
        cap = self.settings.lock_max_timeout
        asked = util.read_timeout_value_header(environ.get("HTTP_TIMEOUT", ""))
        seconds = cap if asked is None or asked < 0 else min(asked, cap)
        environ["HTTP_TIMEOUT"] = f"Second-{seconds}"


def _closing(answer: Iterable[bytes], environ: dict[str, Any]) -> Iterator[bytes]:
    """``answer``, then close the streams the request opened early (a 304, a 412 or an
    error never reads them; closing one WsgiDAV read already is harmless)."""
    try:
        yield from answer
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
        _close_streams(environ)


def _close_streams(environ: dict[str, Any]) -> None:
    for stream in environ.pop(STREAMS_KEY, []):
        try:
            stream.close()
        except (OSError, ValueError) as exc:
            log.debug("closing a stream of %s: %s", environ.get("PATH_INFO"), exc)


def _answering(
    environ: dict[str, Any], start_response: StartResponse, extra: list[tuple[str, str]]
) -> StartResponse:
    """Finish the response head: 201 (not WsgiDAV's 204) when a native COPY/MOVE
    created its destination (``resources`` notes that), ``X-OC-Mtime: accepted``,
    and ``extra`` headers (digests) on a 200 or 206."""

    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if status.startswith("204") and environ.get(CREATED_KEY):
            status = "201 Created"
        if status.startswith(("200", "206")):
            headers = [*headers, *extra]
        if environ.get(OC_MTIME_KEY) and status.startswith("2"):
            headers = [*headers, ("X-OC-Mtime", "accepted")]
        return start_response(status, headers, exc_info)

    return wrapped
