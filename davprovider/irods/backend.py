"""The storage contract over python-irodsclient: one share root, one identity.

Listings are two GenQueries per collection (subcollections, data objects), paged by
PRC; dead properties are AVUs named ``dav:<Clark name>``, so imeta shows them and they
move with the object (see ``avus.py``). Uploads go to a hidden temporary object in the
target collection and are renamed over the target on commit (``upload.py``; readers
see the old or the new object, never a gap). Paths, row lookups and AVU reads (every
GenQuery page on one connection, a cut answer an error): ``catalog.py``; modification
times and digests: ``sync.py``; leftovers of crashes: ``sweep.py``.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import posixpath
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from irods import keywords as kw
from irods.column import Criterion, Like
from irods.meta import AVUOperation, iRODSMeta
from irods.models import Collection, CollectionMeta, DataObject, DataObjectMeta

from davprovider.backend import Backend, Entry, Upload
from davprovider.pipeline import ReadAhead

from .avus import DIGEST_PREFIX, META_PREFIX, check_dead, decode_meta, encode_meta
from .catalog import (
    COLL_COLUMNS,
    DATA_COLUMNS,
    TEMP_PREFIX,
    all_rows,
    best_replicas,
    coll_entry,
    data_entry,
)
from .errors import DENIED, NOT_FOUND, retried
from .memo import DATA, changing
from .parallel import ParallelReader, ParallelWriter
from .sync import SyncExtensions
from .upload import IrodsUpload
from .wire import READ, WRITE, create_collection, open_raw

READ_BLOCK = 4 << 20  # largest DATA_OBJ_READ, fetched one block ahead
SMALL = 256 << 10  # objects below this are read whole at the open (one DATA_OBJ_READ)


class _Small(io.BytesIO):
    """A small object's whole content, read at the open (its handle already closed)."""

    entry: Entry


class IrodsBackend(SyncExtensions, Backend):
    """One identity's view of the share (a ``Catalog``); share paths map below ``root``.

    ``stat`` and ``get_meta`` come from ``catalog.py`` (uploads use them too).
    """

    # --- the contract, in its order --------------------------------------------------------

    @retried
    def list(self, path: str) -> Sequence[Entry]:
        full = self.irods_path(path)
        if self.coll_row(path) is None:
            if self.data_row(path) is not None:
                raise NotADirectoryError(errno.ENOTDIR, f"not a collection: {path}")
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        colls = self.session.query(*COLL_COLUMNS).filter(Collection.parent_name == full)
        entries = [coll_entry(r) for r in all_rows(colls) if r[Collection.name] != full]
        objs = self.session.query(*DATA_COLUMNS).filter(Collection.name == full)
        entries += [
            data_entry(r)
            for r in best_replicas(all_rows(objs))
            if not str(r[DataObject.name]).startswith(TEMP_PREFIX)
        ]
        return entries

    @retried
    def open_read(self, path: str, *, known: Entry | None = None) -> BinaryIO:
        """An open that meets an overwrite between its renames looks again (the
        object's row is looked up here: its replica and size decide the read)."""
        del known
        settle = self.settle(path)
        while True:
            try:
                return self._open_read(path)
            except (FileNotFoundError, PermissionError, *NOT_FOUND, *DENIED):
                if not settle.again():
                    raise

    def _open_read(self, path: str) -> BinaryIO:
        row = self.data_row(path)
        if row is None:
            if self.coll_row(path) is not None:
                raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        # The raw handle (no buffered layer: python-irodsclient's seeks before every read)
        raw = open_raw(self.session, self.irods_path(path), READ)
        try:
            small = self._read_small(path, raw, row)
            if small is not None:
                return small
            # the size of the version opened (an overwrite may have renamed another in)
            size = raw.seek(0, io.SEEK_END)
            raw.seek(0)
            if size != int(row[DataObject.size] or 0):
                row = self.data_row(path, fresh=True) or row  # another version: its etag
            stream: Any
            if self.streams > 1 and size >= self.threshold:
                full = self.irods_path(path)
                stream = ParallelReader(self.session, full, raw, size, self.streams)
            else:
                stream = ReadAhead(raw, READ_BLOCK)
        except BaseException:
            raw.close()
            raise
        stream.entry = dataclasses.replace(data_entry(row), size=size)
        return stream

    def _read_small(self, path: str, raw: Any, row: Mapping[Any, Any]) -> _Small | None:
        """A small object read whole with one DATA_OBJ_READ (asking one byte more than
        its row's size tells whether the version opened is that size) and closed at
        once; ``None`` (position 0 again) when it is not small or not the row's size."""
        size = int(row[DataObject.size] or 0)
        if size >= SMALL:
            return None
        data = raw.read(size + 1)
        if len(data) != size:  # another version: its row, if it is that one's
            row = self.data_row(path, fresh=True) or row
            if len(data) != int(row[DataObject.size] or 0):
                raw.seek(0)
                return None
        raw.close()
        small = _Small(data)
        small.entry = dataclasses.replace(data_entry(row), size=len(data))
        return small

    @retried
    def open_write(
        self,
        path: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        absent: bool = False,
    ) -> Upload:
        """``absent`` (the caller's fresh listing of the parent lacks the name): no
        GenQuery of the target or its parent; the commit's rename finds an object
        made since and replaces it then (``IrodsUpload._place``)."""
        if path in ("", "/"):
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        if absent:
            self.rows.keep(DATA, path, None)
        else:
            self._check_target(path)
        parent, name = self.split(path)
        temp = f"{parent}/{TEMP_PREFIX}{uuid.uuid4().hex}-{name}"[:1024]
        options = {kw.REG_CHKSUM_KW: ""} if self.register_checksums else {}
        if self.streams > 1 and size is not None and size >= self.threshold:
            options.update({kw.NUM_THREADS_KW: str(self.streams), kw.DATA_SIZE_KW: str(size)})
        handle = open_raw(self.session, temp, WRITE, options)
        if kw.NUM_THREADS_KW not in options:
            return IrodsUpload(self, path, temp, handle, size)
        try:
            behind = ParallelWriter(self.session, temp, handle, size or 0, self.streams)
        except BaseException:
            handle.close()
            self.session.data_objects.unlink(temp, force=True)
            raise
        return IrodsUpload(self, path, temp, handle, size, behind)

    def _check_target(self, path: str) -> None:
        if self.coll_row(path) is not None:
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        if self.coll_row(posixpath.dirname(path) or "/") is None:
            raise FileNotFoundError(errno.ENOENT, f"parent collection missing: {path}")

    @changing
    @retried
    def mkdir(self, path: str) -> None:
        if self.data_row(path) is not None:
            raise FileExistsError(errno.EEXIST, f"an object exists at {path}")
        create_collection(self.session, self.irods_path(path))

    @changing
    @retried
    def remove(self, path: str, *, recursive: bool = False) -> None:
        if self.data_row(path) is not None:
            self.session.data_objects.unlink(self.irods_path(path), force=not self.trash)
            return
        if self.coll_row(path) is None:
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        if path in ("", "/"):
            raise PermissionError(errno.EACCES, "the share root cannot be removed")
        self.session.collections.remove(
            self.irods_path(path), recurse=recursive, force=not self.trash
        )

    @changing
    @retried
    def copy(
        self, src: str, dst: str, *, depth_infinity: bool = True, overwrite: bool = False
    ) -> None:
        self._check_two_paths(src, dst, overwrite)
        if self.data_row(src) is not None:
            self.session.data_objects.copy(self.irods_path(src), self.irods_path(dst))
            self._copy_meta(src, dst)
            return
        self.session.collections.create(self.irods_path(dst), recurse=False)
        self._copy_meta(src, dst)
        if depth_infinity:
            for child in self.list(src):
                self.copy(f"{src.rstrip('/')}/{child.name}", f"{dst.rstrip('/')}/{child.name}")

    @changing
    @retried
    def move(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        self._check_two_paths(src, dst, overwrite)
        if self.data_row(src) is not None:
            self.session.data_objects.move(self.irods_path(src), self.irods_path(dst))
        else:
            self.session.collections.move(self.irods_path(src), self.irods_path(dst))

    def _check_two_paths(self, src: str, dst: str, overwrite: bool) -> None:
        """Common COPY/MOVE checks: source exists, no self-nesting, overwrite rules."""
        if dst == src or dst.startswith(src.rstrip("/") + "/"):
            raise ValueError("the destination is the source or lies below it")
        if src in ("", "/") or dst in ("", "/"):
            raise PermissionError(errno.EACCES, "the share root cannot be copied or moved")
        if self.data_row(src) is None and self.coll_row(src) is None:
            raise FileNotFoundError(errno.ENOENT, f"not found: {src}")
        if self.data_row(dst) is not None or self.coll_row(dst) is not None:
            if not overwrite:
                raise FileExistsError(errno.EEXIST, f"already exists: {dst}")
            self.remove(dst, recursive=True)

    def _copy_meta(self, src: str, dst: str) -> None:
        """Dead properties and, for an object, its digests (the copy keeps its checksum),
        every one of them (``avus``) in one atomic request."""
        kind, found = self.avus(src, "dav")  # META_PREFIX and DIGEST_PREFIX
        kept = [a for a in found if a.name.startswith((META_PREFIX, DIGEST_PREFIX))]
        self.apply_avus(kind, dst, [AVUOperation(operation="add", avu=a) for a in kept])

    @changing
    @retried
    def set_meta(self, path: str, updates: Mapping[str, str | None]) -> None:
        """All or nothing: names and values checked first (``avus.check_dead``), then
        one atomic AVU request; linear in the number of properties."""
        check_dead(updates)
        kind, found = self.avus(path)
        current: dict[str, list[iRODSMeta]] = {}
        for avu in found:
            current.setdefault(avu.name, []).append(avu)
        ops = []
        for name, value in updates.items():
            attr = META_PREFIX + name
            ops += [AVUOperation(operation="remove", avu=a) for a in current.get(attr, ())]
            if value is not None:
                ops.append(AVUOperation(operation="add", avu=iRODSMeta(attr, *encode_meta(value))))
        self.apply_avus(kind, path, ops)

    @retried
    def list_meta(self, path: str, names: Sequence[str]) -> dict[str, dict[str, str]]:
        full = self.irods_path(path)
        wanted = set(names)
        found: dict[str, dict[str, str]] = {name: {} for name in names}
        like = Like(DataObjectMeta.name, META_PREFIX + "%")
        q = self.session.query(
            DataObject.name, DataObjectMeta.name, DataObjectMeta.value, DataObjectMeta.units
        ).filter(Collection.name == full, like)
        for r in all_rows(q):
            if r[DataObject.name] in wanted:
                found[r[DataObject.name]][r[DataObjectMeta.name][len(META_PREFIX) :]] = decode_meta(
                    r[DataObjectMeta.value], r[DataObjectMeta.units]
                )
        cq = self.session.query(
            Collection.name, CollectionMeta.name, CollectionMeta.value, CollectionMeta.units
        ).filter(
            Criterion("=", Collection.parent_name, full),
            Like(CollectionMeta.name, META_PREFIX + "%"),
        )
        for r in all_rows(cq):
            base = posixpath.basename(r[Collection.name])
            if base in wanted:
                found[base][r[CollectionMeta.name][len(META_PREFIX) :]] = decode_meta(
                    r[CollectionMeta.value], r[CollectionMeta.units]
                )
        return found
