"""WsgiDAV resources over any ``Backend``: the only layer that speaks WsgiDAV.

- Backend errors (built-in exceptions) become ``DAVError`` here, once
  (``backend_errors``).
- A collection lists its members with ONE ``Backend.list`` call and builds
  every child from that listing, so PROPFIND Depth:1 never stats per child;
  dead properties of the members come from one ``list_meta`` call, on demand.
- Every write drops the request's resource cache (``forget``; the cache
  itself is filled by ``GatewayProvider.get_resource_inst``).
- PUT streams into ``Backend.open_write``'s ``Upload``: committed only when
  the body arrived complete and matches the client's checksums, aborted
  otherwise (old content stays; ``uploads.py``).
- Properties and headers of sync clients (modification times, checksums,
  quota) are computed only when asked for (``liveprops.py``); a listing's
  members share one ``list_digests`` call as they share one ``list_meta``.
- DELETE, COPY and MOVE are single server-side backend calls (WsgiDAV's
  "native" handlers); MOVE falls back to copy + remove when the backend
  cannot rename. When the backend reports that some members of a collection
  failed (``PartialFailure``), the answer is 207 Multi-Status naming each
  failed member with its status; what succeeded stays done, and only the
  locks of what is gone are dropped.
- GET of an object the backend can hand out directly (``Backend.redirect_url``,
  e.g. a Swift temp URL for this client's address and User-Agent) is answered
  ``307 Temporary Redirect`` to it, after the conditional headers were evaluated;
  HEAD, a GET asking for digests (``Want-Digest``, ``Want-Repr-Digest``), and
  clients that never follow redirects (``clients.py``) are answered by the
  gateway. A PUT's redirect is ``redirect.py``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, BinaryIO

from wsgidav import util
from wsgidav.dav_error import (
    ERROR_DESCRIPTIONS,
    HTTP_CONFLICT,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_NOT_FOUND,
    HTTP_TEMP_REDIRECT,
    DAVError,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection

from davprovider.backend import DIGEST_ALGORITHMS, Backend, Entry
from davprovider.dav.clients import oc_mtime, redirect_client
from davprovider.dav.copymove import CREATED_KEY, NamespaceMethods, backend_path
from davprovider.dav.errors import backend_errors, optional, to_dav_error
from davprovider.dav.liveprops import (
    CACHE_KEY,
    OC_MTIME_KEY,
    DigestLoader,
    LiveProperties,
    apply_oc_mtime,
    entry_content_type,
    entry_created,
    entry_etag,
    forget,
)
from davprovider.dav.properties import (
    COMPUTED,
    MAX_PER_REQUEST,
    MetaLoader,
    SiblingMeta,
    decode_value,
    encode_value,
    is_dead,
    property_problem,
)
from davprovider.dav.put import Writer, client_checksums, expected_length

__all__ = [
    "CACHE_KEY",
    "CREATED_KEY",
    "FileResource",
    "FolderResource",
    "backend_errors",
    "backend_path",
    "child_path",
    "expected_length",
    "forget",
    "make_resource",
    "to_dav_error",
]

log = logging.getLogger(__name__)

# WsgiDAV has no reason phrase for 307 (it would answer "307 Status").
ERROR_DESCRIPTIONS.setdefault(HTTP_TEMP_REDIRECT, "307 Temporary Redirect")


#: Environ key of the streams a request opened early (closed when its answer ends).
STREAMS_KEY = "davprovider.streams"


def _wants_digests(environ: dict[str, Any]) -> bool:
    return "HTTP_WANT_DIGEST" in environ or "HTTP_WANT_REPR_DIGEST" in environ


def child_path(parent: str, name: str) -> str:
    return backend_path(parent).rstrip("/") + "/" + name


def make_resource(
    path: str,
    environ: dict[str, Any],
    backend: Backend,
    entry: Entry,
    meta: MetaLoader | None = None,
    digests: DigestLoader | None = None,
) -> Any:
    """Build the resource class matching ``entry``; ``meta`` and ``digests`` are the
    loaders of a listing member (one backend call for the whole collection)."""
    cls = FolderResource if entry.is_dir else FileResource
    return cls(path, environ, backend, entry, meta, digests)


class _BackendResource(NamespaceMethods, LiveProperties):
    """Behaviour shared by files and folders (mixed into WsgiDAV's classes)."""

    path: str
    environ: dict[str, Any]
    provider: Any
    is_collection: bool

    def _setup(
        self,
        backend: Backend,
        entry: Entry | None,
        meta: MetaLoader | None,
        digests: DigestLoader | None,
    ) -> None:
        self.backend = backend
        self.entry = entry
        self._meta_loader = meta or (lambda: self.backend.get_meta(self.path))
        self._meta_cache: dict[str, str] | None = None
        self._pending_meta: dict[str, str | None] = {}  # a PROPPATCH's, until its first write
        self._meta_error: DAVError | None = None
        self._setup_live(digests)

    # --- live properties -------------------------------------------------

    def get_creation_date(self) -> float | None:
        return None if self.entry is None else entry_created(self.entry)

    def get_last_modified(self) -> float | None:
        return self.entry.modified if self.entry else None

    # --- dead properties -------------------------------------------------

    def _meta(self) -> dict[str, str]:
        if self.entry is None:
            return {}
        if self._meta_cache is None:
            with backend_errors(self.path):
                self._meta_cache = self._meta_loader()
        return self._meta_cache

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)  # type: ignore[misc]
        return names + [name for name in self._meta() if is_dead(name)]

    def get_property_value(self, name: str) -> Any:
        if name in COMPUTED:
            return self.computed_value(name)
        if not is_dead(name):
            return super().get_property_value(name)  # type: ignore[misc]
        stored = self._meta().get(name)
        if stored is None:
            raise DAVError(HTTP_NOT_FOUND)
        return decode_value(name, stored)

    def set_property_value(self, name: str, value: Any, *, dry_run: bool = False) -> Any:
        """PROPPATCH, all or nothing (RFC 4918 §9.2): WsgiDAV calls this for every
        property with ``dry_run`` first, then again for real only if all succeeded.
        Dead properties are checked and gathered in the dry run and written with ONE
        ``set_meta`` on the first real call, before anything else is applied; if that
        fails, every property of the request fails with it."""
        if not dry_run:
            self._flush_dead_properties()
        if self.set_live_property(name, value, dry_run=dry_run):
            return None
        if not is_dead(name):
            return super().set_property_value(name, value, dry_run=dry_run)  # type: ignore[misc]
        if dry_run:
            self._gather_dead_property(name, value)
        return None

    def _gather_dead_property(self, name: str, value: Any) -> None:
        stored = None if value is None else encode_value(value)
        problem = property_problem(name, stored)
        if problem is None and len(self._pending_meta) >= MAX_PER_REQUEST:
            problem = HTTP_INSUFFICIENT_STORAGE, f"over {MAX_PER_REQUEST} properties in a request"
        if problem is not None:
            raise DAVError(problem[0], problem[1])
        self._pending_meta[name] = stored

    def _flush_dead_properties(self) -> None:
        if self._meta_error is not None:
            raise self._meta_error
        pending, self._pending_meta = self._pending_meta, {}
        if not pending:
            return
        try:
            with backend_errors(self.path):
                self.backend.set_meta(self.path, pending)
        except DAVError as error:
            self._meta_error = error
            raise
        self._meta_cache = None

    def store_dead_property(self, name: str, value: Any) -> None:
        """Store (or, for ``None``, remove) one dead property in the backend."""
        stored = None if value is None else encode_value(value)
        with backend_errors(self.path):
            self.backend.set_meta(self.path, {name: stored})
        self._meta_cache = None

    def remove_all_properties(self, *, recursive: bool) -> None:
        """Dead properties live with the object: the backend removes them."""


class FileResource(_BackendResource, DAVNonCollection):
    """An object. ``entry`` is ``None`` for a PUT target that does not exist yet."""

    def __init__(
        self,
        path: str,
        environ: dict[str, Any],
        backend: Backend,
        entry: Entry | None,
        meta: MetaLoader | None = None,
        digests: DigestLoader | None = None,
    ) -> None:
        DAVNonCollection.__init__(self, backend_path(path), environ)
        self._setup(backend, entry, meta, digests)
        self._writer: Writer | None = None
        self._pinned = False  # the upload gives the new content the client's mtime
        self._stream: BinaryIO | None = None  # opened by prepare_get
        self._redirect: str | None = None

    def get_content_length(self) -> int:
        return (self.entry.size or 0) if self.entry else 0

    def get_content_type(self) -> str:
        config = self.environ["wsgidav.config"]
        if self.entry is None:
            return str(util.guess_mime_type(self.path, config))
        return entry_content_type(self.path, self.entry, config)

    def get_etag(self) -> str | None:
        return None if self.entry is None else entry_etag(self.path, self.entry)

    def support_etag(self) -> bool:
        return True

    def support_ranges(self) -> bool:
        return True

    def get_content(self) -> BinaryIO:
        stream, self._stream = self._stream, None
        if stream is not None:
            return stream
        with backend_errors(self.path):
            return self.backend.open_read(self.path)

    def prepare_get(self) -> None:
        """Before WsgiDAV computes a GET's headers: ask for a redirect, else open the
        content now. A stream that names the version it reads (``entry``, see the
        contract) makes the announced size and ETag that version's, so a GET racing
        with an overwrite answers the old or the new content, whole."""
        if self.entry is None or _wants_digests(self.environ):
            return
        client = redirect_client(self.environ)
        with backend_errors(self.path):
            if client is not None:
                self._redirect = optional(
                    lambda: self.backend.redirect_url(
                        self.path, address=client[0], agent=client[1]
                    ),
                    lambda: None,
                    "redirect",
                )
            if self._redirect:
                return
            self._stream = self.backend.open_read(self.path, known=self.entry)
        opened = getattr(self._stream, "entry", None)
        if isinstance(opened, Entry):
            self.entry = opened
        self.environ.setdefault(STREAMS_KEY, []).append(self._stream)

    def finalize_headers(self, environ: dict[str, Any], response_headers: list[Any]) -> None:
        """Called by WsgiDAV's GET/HEAD after the conditional headers, before the
        answer starts: a GET the backend can redirect becomes a 307."""
        if self._redirect:
            log.info("GET %s redirected to the backend", self.path)
            headers = [("Location", self._redirect), ("Cache-Control", "no-store")]
            raise DAVError(HTTP_TEMP_REDIRECT, add_headers=headers)

    def begin_write(self, *, content_type: str | None = None) -> Writer:
        """Open an ``Upload`` announcing the body length for commit's check; the
        body is hashed on its way for the client's checksums and ``checksums``' lists."""
        size = expected_length(self.environ)
        expected = client_checksums(self.environ)
        with backend_errors(self.path, missing=HTTP_CONFLICT):
            upload = self.backend.open_write(self.path, size=size, content_type=content_type)
        algorithms = self.provider.settings.checksums.for_upload(size, bool(expected))
        self._writer = Writer(upload, self.path, expected, algorithms)
        mtime = oc_mtime(self.environ)  # validated by the provider before the request ran
        self._pinned = mtime is not None and upload.pin_mtime(mtime)
        return self._writer

    def end_write(self, *, with_errors: bool) -> None:
        """Abort unless the body arrived complete and ``close()`` committed it;
        then apply ``X-OC-Mtime``."""
        writer, self._writer = self._writer, None
        forget(self.environ)
        if writer is None:
            return
        if with_errors or writer.entry is None:
            log.warning("PUT %s failed: upload aborted, old content kept", self.path)
            writer.abort()
            return
        self.entry = writer.entry
        self._meta_cache = None
        self._digests = None
        if self._pinned:  # the commit gave it the client's time (``Upload.pin_mtime``)
            self.environ[OC_MTIME_KEY] = True
        elif apply_oc_mtime(self.backend, self.path, self.environ):
            with backend_errors(self.path):
                self.entry = self.backend.stat(self.path)


class FolderResource(_BackendResource, DAVCollection):
    """A collection; its members come from one cached ``Backend.list``."""

    def __init__(
        self,
        path: str,
        environ: dict[str, Any],
        backend: Backend,
        entry: Entry,
        meta: MetaLoader | None = None,
        digests: DigestLoader | None = None,
    ) -> None:
        DAVCollection.__init__(self, backend_path(path), environ)
        self._setup(backend, entry, meta, digests)
        self._members: dict[str, Any] | None = None

    def get_etag(self) -> str | None:
        return None if self.entry is None else entry_etag(self.path, self.entry)

    def support_etag(self) -> bool:
        return self.get_etag() is not None

    def _listing(self) -> dict[str, Any]:
        if self._members is None:
            with backend_errors(self.path):
                entries = self.backend.list(self.path)
            by_name = {e.name: e for e in entries}
            siblings = SiblingMeta(self._list_meta)
            sums = SiblingMeta(lambda names: self._list_digests([by_name[n] for n in names]))
            self._members = {
                e.name: make_resource(
                    child_path(self.path, e.name),
                    self.environ,
                    self.backend,
                    e,
                    siblings.loader(e.name),
                    sums.loader(e.name),
                )
                for e in entries
            }
        return self._members

    def _list_meta(self, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """Dead properties of members: one ``list_meta``, else ``get_meta`` each."""
        return optional(
            lambda: self.backend.list_meta(self.path, names),
            lambda: {n: self.backend.get_meta(child_path(self.path, n)) for n in names},
            "list_meta",
        )

    def _list_digests(self, entries: list[Entry]) -> dict[str, dict[str, str]]:
        files = [e for e in entries if not e.is_dir]
        with backend_errors(self.path):
            return self.backend.list_digests(self.path, files, DIGEST_ALGORITHMS)

    def get_member_names(self) -> list[str]:
        return list(self._listing())

    def get_member(self, name: str) -> Any:
        return self._listing().get(name)

    def get_member_list(self) -> list[Any]:
        return list(self._listing().values())

    def support_recursive_delete(self) -> bool:
        return True

    def support_recursive_move(self, dest_path: str) -> bool:
        return False

    def create_collection(self, name: str) -> None:
        path = child_path(self.path, name)
        with backend_errors(path, missing=HTTP_CONFLICT):
            self.backend.mkdir(path)
        forget(self.environ)

    def create_empty_resource(self, name: str) -> FileResource:
        """For PUT: a pending resource (created by the upload's commit). For
        LOCK on an unmapped URL: an empty object, created now."""
        path = child_path(self.path, name)
        if self.environ.get("REQUEST_METHOD") == "PUT":
            return FileResource(path, self.environ, self.backend, None)
        with backend_errors(path, missing=HTTP_CONFLICT):
            entry = self.backend.open_write(path, size=0).commit()
        forget(self.environ)
        return FileResource(path, self.environ, self.backend, entry)
