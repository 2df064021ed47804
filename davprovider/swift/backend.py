"""The storage contract over python-swiftclient: the account's containers, then
pseudo-directories (see ``names.py``).

Listings are container GETs with ``delimiter=/`` paged through ``marker`` (one
request per 10,000 names); ``stat`` is a one-row listing (plus one for a
folder), so ``list`` and ``stat`` describe an object identically. Folder-wide
work (recursive DELETE, COPY, MOVE) lives in ``tree.py``.

A backend serves one request, and WsgiDAV looks up the target and its parent
before it writes: the backend remembers the listing rows and container headers
it fetched (every container GET carries the container's headers too) for a
couple of seconds or until it writes (``entries.Recent``), so that the checks of
``open_write``, ``mkdir``, ``open_read`` and the metadata calls repeat no request.
A new small object costs two listings, the PUT, and nothing after it (the entry
comes from the PUT's answer, ``upload.py``).

PROPFIND ``allprop`` Depth 1 reads each member's dead properties with a HEAD,
but only in a container flagged as holding some (``props.py``): objects given
``X-Object-Meta-Dav-*`` by other tools in an unflagged container are not shown
in such listings.
"""

from __future__ import annotations

import builtins
import dataclasses
import errno
import mimetypes
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from swiftclient.exceptions import ClientException

from davprovider.backend import Backend, Entry, Upload

from . import props, tree
from .entries import (
    Recent,
    Row,
    dir_entry,
    header_time,
    iso_time,
    mtime_text,
    row_entry,
    with_mtime,
    writes,
)
from .errors import status_of, translated
from .names import MARKER_TYPE, Location, dead_properties, is_dir_type, locate, user_meta
from .reader import SwiftReader
from .sync import SyncExtensions
from .upload import SwiftUpload, segment_size_for

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from davprovider.backend import Identity

    from . import Limits, SwiftFactory


class SwiftBackend(SyncExtensions, Backend):
    """One identity's view of its Swift account."""

    def __init__(self, factory: SwiftFactory, identity: Identity) -> None:
        self.factory, self.identity = factory, identity
        self.options, self.pool = factory.options, factory.pool
        self.root = f"/{self.options.container}" if self.options.container else ""
        self._conn: Connection | None = None
        self.recent = Recent()  # this request's listing rows and container headers

    def locate(self, path: str) -> Location:
        """The Swift location of a share path (below ``options.container`` if set)."""
        return locate(self.root + path if path not in ("", "/") else self.root or "/")

    def share_path(self, container: str, name: str) -> str:
        """The share path of object ``name`` in ``container`` (inverse of ``locate``)."""
        full = f"/{container}/{name}".rstrip("/")
        return (full[len(self.root) :] or "/") if self.root else full

    @property
    def conn(self) -> Connection:
        """This backend's connection, leased on first use, returned when it is dropped."""
        if self._conn is None:
            self._conn = self.pool.acquire(self.identity)
            weakref.finalize(self, self.pool.release, self._conn)
        return self._conn

    @property
    def open_conn(self) -> Connection | None:
        """This backend's connection if it leased one already (never leases)."""
        return self._conn

    @property
    def limits(self) -> Limits:
        return self.factory.limits(self.conn)

    def segment_size_for(self, size: int | None) -> int:
        limits = self.limits
        return segment_size_for(
            size, self.options.segment_size, limits.max_segments, limits.max_file
        )

    # --- lookups -------------------------------------------------------------------------

    def listing(self, container: str, **params: Any) -> builtins.list[Row]:
        """One page of a container listing (its headers are remembered)."""
        headers, page = self.conn.get_container(container, **params)
        self.recent.put(("container", container), headers)
        return page

    def rows(self, container: str, prefix: str, delimiter: str | None = "/") -> Iterator[Row]:
        """Every row of a container listing, page by page through ``marker``."""
        marker, limit = "", self.limits.listing
        while True:
            page = self.listing(
                container, marker=marker, prefix=prefix or None, delimiter=delimiter, limit=limit
            )
            yield from page
            if len(page) < limit:
                return
            marker = page[-1].get("name") or page[-1]["subdir"]

    def first_row(self, container: str, prefix: str) -> Row | None:
        """The first object whose name starts with ``prefix`` (asked now, remembered)."""
        page = self.listing(container, prefix=prefix, limit=1)
        row = page[0] if page else None
        self.recent.put(("row", container, prefix), row)
        return row

    def known_row(self, container: str, prefix: str) -> Row | None:
        """``first_row``, as this request saw it already when it did."""
        known, row = self.recent.get(("row", container, prefix))
        return row if known else self.first_row(container, prefix)

    def container_head(self, container: str) -> dict[str, str]:
        """The container's headers (from this request's listings or one HEAD)."""
        known, headers = self.recent.get(("container", container))
        if not known:
            headers = self.conn.head_container(container)
            self.recent.put(("container", container), headers)
        return headers

    def lookup(self, loc: Location) -> tuple[Entry, Row | None]:
        """The entry at ``loc`` and its own listing row (``None`` for a container or
        an implicit folder); ``FileNotFoundError`` when nothing is there."""
        if loc.is_account:
            return dir_entry(""), None
        if loc.is_container:
            self.check_visible(loc.container)
            headers = self.container_head(loc.container)
            return dir_entry(loc.container, header_time(headers.get("x-timestamp"))), None
        row = self.known_row(loc.container, loc.obj)
        if row is not None and row.get("name") == loc.obj:
            return row_entry(row, loc.name), row
        row = self.known_row(loc.container, loc.prefix)
        if row is None:
            raise FileNotFoundError(errno.ENOENT, f"not found: /{loc.container}/{loc.obj}")
        if row.get("name") == loc.prefix:
            return row_entry(row, loc.name), row
        return dir_entry(loc.name), None

    def check_visible(self, container: str) -> None:
        """Segment containers are internals: hidden unless configured otherwise."""
        if self.options.hide_segment_containers and self.options.is_segment_container(container):
            raise FileNotFoundError(errno.ENOENT, f"not found: /{container}")

    def find(self, loc: Location) -> tuple[Entry, Row | None] | None:
        try:
            return self.lookup(loc)
        except FileNotFoundError:
            return None
        except ClientException as exc:
            if status_of(exc) == 404:
                return None
            raise

    def require_dir(self, loc: Location) -> None:
        """``loc`` must be a container or folder (the parent of something new)."""
        entry, _ = self.lookup(loc)
        if not entry.is_dir:
            raise NotADirectoryError(errno.ENOTDIR, f"not a collection: {loc.obj}")

    # --- the contract, in its order --------------------------------------------------

    @translated
    def stat(self, path: str) -> Entry:
        entry = self.lookup(self.locate(path))[0]
        return dataclasses.replace(entry, name="") if path in ("", "/") else entry

    @translated
    def list(self, path: str) -> Sequence[Entry]:
        loc = self.locate(path)
        if loc.is_account:
            return self._list_account()
        if loc.is_container:
            self.check_visible(loc.container)
        entries: dict[str, Entry] = {}
        for row in self.rows(loc.container, loc.prefix):
            name = (row.get("subdir") or row.get("name") or "")[len(loc.prefix) :].rstrip("/")
            if not name or name in (".", "..") or "/" in name:
                continue  # the folder's own marker, or a name WebDAV cannot show
            if "subdir" in row:
                entries.setdefault(name, dir_entry(name))
            else:
                entries[name] = row_entry(row, name)
        if not entries and not loc.is_container:
            entry, _ = self.lookup(loc)  # an empty folder, a file, or nothing
            if not entry.is_dir:
                raise NotADirectoryError(errno.ENOTDIR, f"not a collection: {path}")
        return list(entries.values())

    def _list_account(self) -> Sequence[Entry]:
        entries: builtins.list[Entry] = []
        marker, limit = "", self.limits.listing
        while True:
            _, page = self.conn.get_account(marker=marker, limit=limit)
            for row in page:
                name = row["name"]
                if not (
                    self.options.hide_segment_containers and self.options.is_segment_container(name)
                ):
                    entries.append(dir_entry(name, iso_time(row.get("last_modified"))))
            if len(page) < limit:
                return entries
            marker = page[-1]["name"]

    @translated
    def open_read(self, path: str) -> BinaryIO:
        """The size and ETag come from this request's ``stat`` of ``path`` when there
        was one; the GETs carry ``If-Match`` so that a changed object fails."""
        loc = self.locate(path)
        entry = self.lookup(loc)[0]
        if entry.is_dir:
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        conn = self.pool.acquire(self.identity)
        etag = f'"{entry.etag}"' if entry.etag else None
        reader = SwiftReader(conn, self.pool.release, loc.container, loc.obj, entry.size or 0, etag)
        return reader  # type: ignore[return-value]

    @translated
    def open_write(
        self, path: str, *, size: int | None = None, content_type: str | None = None
    ) -> Upload:
        """The target and its parent as this request looked them up; a HEAD only for
        an object being replaced (its dead properties stay, an SLO's segments go)."""
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            if path in ("", "/") or self.find(loc) is not None:
                raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
            raise PermissionError(errno.EACCES, "the share root holds containers only")
        if size is not None and size < 0:
            raise ValueError("negative Content-Length")
        found = self.find(loc)
        old = self.head_object(loc.container, loc.obj) if found and not found[0].is_dir else None
        if (found and found[0].is_dir) or (old and is_dir_type(old.get("content-type"))):
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        self.require_dir(loc.parent())
        kept = {k: v for k, v in user_meta(old or {}, "object").items() if k.startswith("dav-")}
        if kept:
            props.flag(self, loc.container)
        guessed = mimetypes.guess_type(loc.name)[0]
        headers = {"Content-Type": content_type or guessed or "application/octet-stream"}
        headers.update({f"X-Object-Meta-{k}": v for k, v in kept.items()})
        old_slo = old.get("x-manifest-etag") if old else None
        return SwiftUpload(self, path, loc, size, headers, old_slo)

    def head_object(self, container: str, obj: str) -> dict[str, str] | None:
        try:
            headers: dict[str, str] = self.conn.head_object(container, obj)
        except ClientException as exc:
            if status_of(exc) == 404:
                return None
            raise
        return headers

    @translated
    @writes
    def mkdir(self, path: str) -> None:
        loc = self.locate(path)
        if path in ("", "/"):
            raise FileExistsError(errno.EEXIST, "the share root exists")
        if loc.is_container:
            if self.options.hide_segment_containers and self.options.is_segment_container(
                loc.container
            ):
                raise PermissionError(errno.EACCES, f"{loc.container} is a segments container")
            if self.find(loc) is not None:
                raise FileExistsError(errno.EEXIST, f"already exists: {path}")
            self.conn.put_container(loc.container)
            return
        if self.find(loc) is not None:
            raise FileExistsError(errno.EEXIST, f"already exists: {path}")
        self.require_dir(loc.parent())
        self.put_marker(loc, {})

    def put_marker(
        self, loc: Location, meta: Mapping[str, str], mtime: float | None = None
    ) -> None:
        """Create the folder marker ``<obj>/`` with user metadata ``meta`` (and
        modification time ``mtime``, see ``entries.py``)."""
        headers = {f"X-Object-Meta-{k}": v for k, v in meta.items()}
        content_type = MARKER_TYPE
        if mtime is not None:
            content_type = with_mtime(MARKER_TYPE, mtime)
            headers["X-Object-Meta-Mtime"] = mtime_text(mtime)
        self.conn.put_object(
            loc.container, loc.prefix, b"", content_type=content_type, headers=headers
        )

    @translated
    @writes
    def remove(self, path: str, *, recursive: bool = False) -> None:
        loc = self.locate(path)
        if path in ("", "/"):
            raise PermissionError(errno.EACCES, "the share root cannot be removed")
        entry, row = self.lookup(loc)
        tree.remove(self, loc, entry, row, recursive=recursive)

    @translated
    @writes
    def copy(
        self, src: str, dst: str, *, depth_infinity: bool = True, overwrite: bool = False
    ) -> None:
        tree.transfer(self, src, dst, depth_infinity=depth_infinity, overwrite=overwrite)

    @translated
    @writes
    def move(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        tree.transfer(self, src, dst, depth_infinity=True, overwrite=overwrite, move=True)

    # --- dead properties (props.py) ---------------------------------------------------

    @translated
    def get_meta(self, path: str) -> dict[str, str]:
        loc = self.locate(path)
        return {} if loc.is_account else dead_properties(props.all_meta(self, loc)[1])

    @translated
    @writes
    def set_meta(self, path: str, updates: Mapping[str, str | None]) -> None:
        props.set_meta(self, path, updates)

    @translated
    def list_meta(self, path: str, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """One HEAD per member (Swift listings carry no metadata), in parallel; none
        in a container without ``PROPS_FLAG`` (its headers came with the listing)."""
        base = self.locate(path)
        if not base.is_account and not props.flagged(self, base.container):
            return {}

        def fetch(worker: SwiftBackend, name: str) -> tuple[str, dict[str, str]]:
            return name, props.member_meta(worker, base.child(name))

        return dict(tree.parallel(self, fetch, list(names)))

    # --- helpers for uploads and tree.py ---------------------------------------------------

    def slo_segments(self, loc: Location, manifest_etag: str | None) -> Sequence[str]:
        """Segment paths of the SLO at ``loc`` if it is still the one with
        ``manifest_etag`` (so that a replaced manifest's segments can go)."""
        if not manifest_etag:
            return []
        headers = self.head_object(loc.container, loc.obj)
        if headers is None or headers.get("x-manifest-etag") != manifest_etag:
            return []
        return [seg["path"] for seg in tree.manifest(self.conn, loc.container, loc.obj)]

    def delete_names(self, paths: Sequence[str]) -> None:
        """Delete ``/container/object`` paths (bulk delete; missing ones are fine)."""
        tree.bulk_delete(self, paths)
