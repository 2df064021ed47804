"""The storage contract over python-swiftclient: the account's containers, then
pseudo-directories (see ``names.py``).

``SwiftBackend`` composes this package: an ``Account`` (``account.py``: the
connection, lookups and what a request remembers of them), its sync-client calls
(``sync.py``), folder-wide work: recursive DELETE, COPY, MOVE (``bulk.py``), dead
properties (``props.py``), uploads (``upload.py``) and reads (``reader.py``).

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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO

from davprovider.backend import Backend, Entry, Upload

from .bulk import parallel, transfer
from .bulk import remove as remove_tree
from .entries import dir_entry, iso_time, row_entry, swift_etag, writes
from .errors import translated
from .names import dead_properties, is_dir_type, user_meta
from .props import all_meta, flag, flagged, member_meta
from .props import set_meta as set_props
from .reader import SwiftReader
from .sync import SyncExtensions
from .upload import SwiftUpload

if TYPE_CHECKING:
    from .account import Account
    from .names import Location


class SwiftBackend(SyncExtensions, Backend):
    """One identity's view of its Swift account (an ``Account``, for one request)."""

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
                if not self.hidden(name):
                    entries.append(dir_entry(name, iso_time(row.get("last_modified"))))
            if len(page) < limit:
                return entries
            marker = page[-1]["name"]

    @translated
    def open_read(self, path: str, *, known: Entry | None = None) -> BinaryIO:
        """The size and ETag come from ``known`` (the caller's stat, perhaps cached)
        or this request's lookup of ``path``; the GET starts here (a deleted object is
        a 404 now, not a failed body) and carries ``If-Match`` (see ``SwiftReader``:
        an object replaced since is read whole in its current version)."""
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        entry = known if known is not None and known.etag else self.lookup(loc)[0]
        if entry.is_dir:
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        conn = self.pool.acquire(self.identity)
        etag = f'"{swift_etag(entry.etag)}"' if entry.etag else None
        reader = SwiftReader(conn, self.pool.release, loc.container, loc.obj, entry.size or 0, etag)
        try:
            reader.start()  # a vanished object fails here, a replaced one is taken as it is
        except BaseException:
            reader.close()
            raise
        reader.entry = dataclasses.replace(  # type: ignore[attr-defined]
            entry, size=reader.size, etag=reader.etag or entry.etag
        )
        return reader  # type: ignore[return-value]

    @translated
    def open_write(
        self,
        path: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        absent: bool = False,
    ) -> Upload:
        """The target and its parent as this request looked them up; a HEAD only for
        an object being replaced (its dead properties stay, an SLO's segments go).
        ``absent`` (the caller's fresh listing of the parent lacks the name): no
        lookup at all, the PUT alone."""
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            if path in ("", "/") or self.find(loc) is not None:
                raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
            raise PermissionError(errno.EACCES, "the share root holds containers only")
        if size is not None and size < 0:
            raise ValueError("negative Content-Length")
        if absent:
            return SwiftUpload(self, path, loc, size, self._type_header(loc, content_type), None)
        found = self.find(loc)
        old = self.head_object(loc.container, loc.obj) if found and not found[0].is_dir else None
        if (found and found[0].is_dir) or (old and is_dir_type(old.get("content-type"))):
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        self.require_dir(loc.parent())
        kept = {k: v for k, v in user_meta(old or {}, "object").items() if k.startswith("dav-")}
        if kept:
            flag(self, loc.container)
        headers = self._type_header(loc, content_type)
        headers.update({f"X-Object-Meta-{k}": v for k, v in kept.items()})
        old_slo = old.get("x-manifest-etag") if old else None
        return SwiftUpload(self, path, loc, size, headers, old_slo)

    @staticmethod
    def _type_header(loc: Location, content_type: str | None) -> dict[str, str]:
        guessed = mimetypes.guess_type(loc.name)[0]
        return {"Content-Type": content_type or guessed or "application/octet-stream"}

    @translated
    @writes
    def mkdir(self, path: str) -> None:
        loc = self.locate(path)
        if path in ("", "/"):
            raise FileExistsError(errno.EEXIST, "the share root exists")
        if loc.is_container:
            if self.hidden(loc.container):
                raise PermissionError(errno.EACCES, f"{loc.container} is a segments container")
            if self.find(loc) is not None:
                raise FileExistsError(errno.EEXIST, f"already exists: {path}")
            self.conn.put_container(loc.container)
            return
        if self.find(loc) is not None:
            raise FileExistsError(errno.EEXIST, f"already exists: {path}")
        self.require_dir(loc.parent())
        self.put_marker(loc, {})

    @translated
    @writes
    def remove(self, path: str, *, recursive: bool = False) -> None:
        loc = self.locate(path)
        if path in ("", "/"):
            raise PermissionError(errno.EACCES, "the share root cannot be removed")
        entry, row = self.lookup(loc)
        remove_tree(self, loc, entry, row, recursive=recursive)

    @translated
    @writes
    def copy(
        self, src: str, dst: str, *, depth_infinity: bool = True, overwrite: bool = False
    ) -> None:
        transfer(self, src, dst, depth_infinity=depth_infinity, overwrite=overwrite)

    @translated
    @writes
    def move(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        transfer(self, src, dst, depth_infinity=True, overwrite=overwrite, move=True)

    # --- dead properties (props.py) ---------------------------------------------------

    @translated
    def get_meta(self, path: str) -> dict[str, str]:
        loc = self.locate(path)
        return {} if loc.is_account else dead_properties(all_meta(self, loc)[1])

    @translated
    @writes
    def set_meta(self, path: str, updates: Mapping[str, str | None]) -> None:
        set_props(self, path, updates)

    @translated
    def list_meta(self, path: str, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """One HEAD per member (Swift listings carry no metadata), in parallel; none
        in a container without ``PROPS_FLAG`` (its headers came with the listing)."""
        base = self.locate(path)
        if not base.is_account and not flagged(self, base.container):
            return {}

        def fetch(worker: Account, name: str) -> tuple[str, dict[str, str]]:
            return name, member_meta(worker, base.child(name))

        return dict(parallel(self, fetch, list(names)))
