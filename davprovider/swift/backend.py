"""The storage contract over python-swiftclient: the account's containers, then
pseudo-directories (see ``names.py``).

Listings are container GETs with ``delimiter=/`` paged through ``marker`` (one
request per 10,000 names); ``stat`` is a one-row listing (plus one for a
folder), so ``list`` and ``stat`` describe an object identically. Folder-wide
work (recursive DELETE, COPY, MOVE) lives in ``tree.py``.
"""

from __future__ import annotations

import builtins
import dataclasses
import errno
import mimetypes
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO

from swiftclient.exceptions import ClientException

from davprovider.backend import Backend, Entry, Upload

from . import tree
from .entries import Row, dir_entry, header_time, iso_time, mtime_text, row_entry, with_mtime
from .errors import status_of, translated
from .names import (
    MARKER_TYPE,
    Location,
    check_limits,
    dead_properties,
    is_dir_type,
    locate,
    meta_headers,
    user_meta,
)
from .reader import SwiftReader
from .sync import SyncExtensions, post_object
from .upload import SwiftUpload, segment_size_for

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from auth.identity import Identity

    from . import Limits, SwiftFactory


class SwiftBackend(SyncExtensions, Backend):
    """One identity's view of its Swift account."""

    def __init__(self, factory: SwiftFactory, identity: Identity) -> None:
        self.factory, self.identity = factory, identity
        self.options, self.pool = factory.options, factory.pool
        self.root = f"/{self.options.container}" if self.options.container else ""
        self._conn: Connection | None = None
        self._stated: tuple[str, Entry] | None = None  # GET: the stat just before open_read

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
    def limits(self) -> Limits:
        return self.factory.limits(self.conn)

    def segment_size_for(self, size: int | None) -> int:
        limits = self.limits
        return segment_size_for(
            size, self.options.segment_size, limits.max_segments, limits.max_file
        )

    # --- lookups -------------------------------------------------------------------------

    def rows(self, container: str, prefix: str, delimiter: str | None = "/") -> Iterator[Row]:
        """Every row of a container listing, page by page through ``marker``."""
        marker, limit = "", self.limits.listing
        while True:
            _, page = self.conn.get_container(
                container, marker=marker, prefix=prefix or None, delimiter=delimiter, limit=limit
            )
            yield from page
            if len(page) < limit:
                return
            marker = page[-1].get("name") or page[-1]["subdir"]

    def first_row(self, container: str, prefix: str) -> Row | None:
        _, page = self.conn.get_container(container, prefix=prefix, limit=1)
        return page[0] if page else None

    def lookup(self, loc: Location) -> tuple[Entry, Row | None]:
        """The entry at ``loc`` and its own listing row (``None`` for a container or
        an implicit folder); ``FileNotFoundError`` when nothing is there."""
        if loc.is_account:
            return dir_entry(""), None
        if loc.is_container:
            self.check_visible(loc.container)
            headers = self.conn.head_container(loc.container)
            return dir_entry(loc.container, header_time(headers.get("x-timestamp"))), None
        row = self.first_row(loc.container, loc.obj)
        if row is not None and row.get("name") == loc.obj:
            return row_entry(row, loc.name), row
        row = self.first_row(loc.container, loc.prefix)
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
        self._stated = (path, entry)
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
        stated, self._stated = self._stated, None
        entry = stated[1] if stated and stated[0] == path else self.lookup(loc)[0]
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
        self._stated = None
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            if path in ("", "/") or self.find(loc) is not None:
                raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
            raise PermissionError(errno.EACCES, "the share root holds containers only")
        if size is not None and size < 0:
            raise ValueError("negative Content-Length")
        old = self.head_object(loc.container, loc.obj)
        if (old is not None and is_dir_type(old.get("content-type"))) or (
            old is None and self.first_row(loc.container, loc.prefix) is not None
        ):
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        self.require_dir(loc.parent())
        kept = {k: v for k, v in user_meta(old or {}, "object").items() if k.startswith("dav-")}
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
    def mkdir(self, path: str) -> None:
        self._stated = None
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
    def remove(self, path: str, *, recursive: bool = False) -> None:
        self._stated = None
        loc = self.locate(path)
        if path in ("", "/"):
            raise PermissionError(errno.EACCES, "the share root cannot be removed")
        entry, row = self.lookup(loc)
        tree.remove(self, loc, entry, row, recursive=recursive)

    @translated
    def copy(
        self, src: str, dst: str, *, depth_infinity: bool = True, overwrite: bool = False
    ) -> None:
        self._stated = None
        tree.transfer(self, src, dst, depth_infinity=depth_infinity, overwrite=overwrite)

    @translated
    def move(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        self._stated = None
        tree.transfer(self, src, dst, depth_infinity=True, overwrite=overwrite, move=True)

    # --- dead properties -----------------------------------------------------------------

    def meta_target(self, loc: Location) -> tuple[str, str | None]:
        """Where ``loc``'s metadata lives: ``("container", None)``, ``("object",
        name)``, or ``("implicit", marker name)`` for a folder without marker."""
        if loc.is_account:
            raise PermissionError(errno.EACCES, "the share root has no properties")
        entry, row = self.lookup(loc)
        if loc.is_container:
            return "container", None
        if row is None:
            return "implicit", loc.prefix
        return "object", row["name"]

    @translated
    def get_meta(self, path: str) -> dict[str, str]:
        loc = self.locate(path)
        if loc.is_account:
            return {}
        return dead_properties(self.all_meta(loc)[1])

    def all_meta(
        self, loc: Location
    ) -> tuple[tuple[str, str | None], dict[str, str], dict[str, str]]:
        """Where ``loc``'s metadata lives, its user metadata, and the HEAD it came from."""
        target = self.meta_target(loc)
        if target[0] == "container":
            head = self.conn.head_container(loc.container)
            return target, user_meta(head, "container"), head
        if target[0] == "implicit":
            return target, {}, {}
        assert target[1] is not None
        head = self.conn.head_object(loc.container, target[1])
        return target, user_meta(head, "object"), head

    @translated
    def set_meta(self, path: str, updates: Mapping[str, str | None]) -> None:
        self._stated = None
        loc = self.locate(path)
        (kind, name), current, head = self.all_meta(loc)
        props = dead_properties(current)
        for key, value in updates.items():
            if value is None:
                props.pop(key, None)
            else:
                props[key] = value
        limits = self.limits.meta
        others = {k: v for k, v in current.items() if not k.startswith("dav-")}
        new = {**others, **meta_headers(props, limits)}
        check_limits(new, limits, path)
        if kind == "container":
            headers = {f"X-Container-Meta-{k}": v for k, v in new.items()}
            for gone in set(current) - set(new):
                headers[f"X-Remove-Container-Meta-{gone}"] = "x"
            self.conn.post_container(loc.container, headers)
        elif kind == "implicit":
            self.put_marker(loc, new)
        else:
            assert name is not None
            post_object(self.conn, loc.container, name, head, new)

    @translated
    def list_meta(self, path: str, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """One HEAD per member (Swift listings carry no metadata), in parallel."""
        base = self.locate(path)

        def fetch(worker: SwiftBackend, name: str) -> tuple[str, dict[str, str]]:
            return name, worker.child_meta(base.child(name))

        return dict(tree.parallel(self, fetch, list(names)))

    def child_meta(self, loc: Location) -> dict[str, str]:
        """Dead properties of a listed member: its object, else its folder marker."""
        if loc.is_container:
            return dead_properties(user_meta(self.conn.head_container(loc.container), "container"))
        for name in (loc.obj, loc.prefix):
            headers = self.head_object(loc.container, name)
            if headers is not None:
                return dead_properties(user_meta(headers, "object"))
        return {}

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
