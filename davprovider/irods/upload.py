"""An upload into a hidden temporary object, renamed over the target on commit.

Replacing an object: the old one is renamed aside (a hidden name, ``Catalog.aside_name``),
the new one renamed in, then the old one removed; a reader that looks in between sees
the aside and looks again (``Catalog.settle``), and one that opened the old object
keeps reading it. A crash leaves hidden objects only, removed by ``sweep.py``.

With ``register_checksums`` iRODS registers the temporary object's checksum when it is
closed; commit compares it with the SHA-256 the gateway computed while the body
streamed, when it computed one (``set_digests``; see ``checksums`` in the settings),
and refuses on a mismatch (``OSError(EIO)``: the bytes in
iRODS are not the bytes received). The digests and the old object's dead properties
are put on the temporary object in one atomic AVU operation before it is renamed.
The body goes to iRODS in ``WRITE_BLOCK`` pieces from a thread (``pipeline.py``), so
receiving the next piece overlaps the DATA_OBJ_WRITE round trip of the last.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import posixpath
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from irods import exception as ex
from irods.meta import AVUOperation
from irods.models import DataObject

from davprovider.backend import Entry, Upload
from davprovider.digests import checksum_digests
from davprovider.pipeline import WriteBehind

from .avus import add_dead, digest_binding, replace_digests
from .catalog import data_entry
from .errors import BROKEN, NOT_FOUND, translated
from .wire import apply_then_rename, rename, write

if TYPE_CHECKING:
    from .catalog import Catalog

log = logging.getLogger("davprovider.irods")
WRITE_BLOCK = 4 << 20  # bytes per DATA_OBJ_WRITE
ROWS_FOR = 1.0  # seconds: rows the request read before the body are trusted at commit


class IrodsUpload(Upload):
    """Bytes stream into ``temp``; nothing shows at ``path`` until ``commit()``."""

    def __init__(
        self,
        catalog: Catalog,
        path: str,
        temp: str,
        handle: Any,
        size: int | None,
        behind: Any = None,
    ) -> None:
        self.catalog, self.path, self.temp = catalog, path, temp
        self.handle: Any = handle
        self.size = size
        self.opened = time.monotonic()
        self.written = 0
        self.done = False
        self.digests: dict[str, str] = {}
        # A thread sends WRITE_BLOCK pieces, one DATA_OBJ_WRITE round trip each, while
        # the request thread receives the next: the two legs overlap.
        # (or ``behind``: several streams, ``parallel.ParallelWriter``)
        self.behind = behind or WriteBehind(partial(write, handle), WRITE_BLOCK)

    @translated
    def write(self, data: bytes) -> None:
        self.behind.write(data)
        self.written += len(data)

    def set_digests(self, digests: Mapping[str, str]) -> None:
        self.digests = dict(digests)

    @translated
    def commit(self) -> Entry:
        if self.done:
            raise ValueError("upload already finished")
        if self.size is not None and self.written != self.size:
            self.abort()
            raise ValueError(f"body has {self.written} bytes, Content-Length said {self.size}")
        try:
            self.behind.finish()
            handle, self.handle = self.handle, None  # closed below, whatever happens
            row = self.catalog.closed_temp_row(handle, self.temp)
        except BaseException:
            self.abort()
            raise
        try:
            self._check_checksum(row[DataObject.checksum] or None)
            ops = []
            binding = digest_binding(self.digests, row[DataObject.checksum] or None)
            if binding is not None:
                ops += replace_digests((), self.digests, binding)
                self.digests_as_given = True  # kept as AVUs bound to the catalog checksum
            stale = time.monotonic() - self.opened > ROWS_FOR  # rows read before the body
            self._place(self.catalog.data_row(self.path, fresh=stale) is not None, ops)
        except BaseException:
            self.abort()
            raise
        finally:
            self.catalog.rows.clear()
        self.done = True
        if not row[DataObject.checksum]:  # its etag is its time, which a rename may set
            return self.catalog.stat(self.path)
        return dataclasses.replace(data_entry(row), name=posixpath.basename(self.path))

    def _place(self, replacing: bool, ops: list[AVUOperation]) -> None:
        """The temporary object, with ``ops`` applied, renamed to the target: over the
        old object (``_replace``, its dead properties kept) when there is one, else
        straight; a target that appears in between is replaced after all."""
        target = self.catalog.irods_path(self.path)
        session = self.catalog.session
        if replacing:
            ops = [*ops, *add_dead(self._old_meta())]
            if ops:
                session.metadata.apply_atomic_operations(DataObject, self.temp, *ops)
            self._replace(target)
            return
        try:
            if not ops:
                rename(session, self.temp, target)
                return
            failed = apply_then_rename(session, self.temp, [_as_json(op) for op in ops], target)
        except (ex.CAT_NAME_EXISTS_AS_DATAOBJ, ex.CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME):
            self._place(True, [])
            return
        if failed is not None:  # in place without them: digests are computed when asked
            self.digests_as_given = False
            log.warning("upload of %s: its digests were not kept: %r", self.path, failed)

    def _old_meta(self) -> dict[str, str]:
        try:
            return self.catalog.get_meta(self.path)
        except FileNotFoundError:  # removed in between: nothing to keep
            return {}

    def _replace(self, target: str) -> None:
        """The old object renamed aside, the new one renamed in, the old one removed: the
        target never goes missing for longer than between two renames, and readers
        that meet that moment look again (``Catalog.settle``). An open reader
        of the old object keeps reading it. An old object already gone is not waited
        for."""
        session = self.catalog.session
        aside = self.catalog.aside_name(self.path)
        try:
            rename(session, target, aside)
        except NOT_FOUND:
            rename(session, self.temp, target)
            return
        try:
            rename(session, self.temp, target)
        except BaseException:
            rename(session, aside, target)  # the old content back in place
            raise
        try:
            session.data_objects.unlink(aside, force=True)
        except (*BROKEN, ex.iRODSException) as exc:  # the sweep removes it later
            log.warning("could not remove %s after replacing %s: %r", aside, self.path, exc)

    def _check_checksum(self, catalog: str | None) -> None:
        ours, theirs = self.digests.get("sha-256"), checksum_digests(catalog).get("sha-256")
        if ours and theirs and ours != theirs:
            log.error(
                "upload of %s: iRODS has sha-256 %s, gateway sent %s", self.path, theirs, ours
            )
            raise OSError(errno.EIO, f"iRODS stored other bytes than received for {self.path}")

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        self.behind.stop(self.catalog.timeout)
        if self.handle is not None:
            try:
                self.handle.close()
            except (*BROKEN, ex.iRODSException, OSError) as exc:
                log.info("closing the upload of %s failed: %r", self.path, exc)
        failure: BaseException | None = None
        for _ in range(2):  # a broken connection gets one retry on a fresh session
            try:
                self.catalog.session.data_objects.unlink(self.temp, force=True)
                return
            except BROKEN as exc:
                failure = exc
                self.catalog.renew()
            except (ex.iRODSException, ex.PycommandsException, OSError) as exc:
                failure = exc
                break
        log.warning("could not remove temporary upload %s: %r", self.temp, failure)


def _as_json(op: AVUOperation) -> dict[str, str]:
    """An AVU operation as the atomic metadata API takes it (as PRC sends it)."""
    sent = {"operation": op.operation, "attribute": op.avu.name, "value": op.avu.value}
    if op.avu.units:
        sent["units"] = op.avu.units
    return sent
