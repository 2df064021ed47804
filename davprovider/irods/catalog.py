"""One identity's view of the zone's catalog: its session, share paths -> iRODS paths,
the row lookups (GenQuery) the backend, its sync calls and uploads all use, and the
entries those rows make.

``IrodsBackend`` (``backend.py``) is a ``Catalog``; the upload (``upload.py``) and the
sync-client calls (``sync.py``) work through one.

GenQuery results come with every page on one connection (``all_rows``): a GenQuery
continuation index belongs to the connection that opened it (in iRODS as in the
local zone). python-irodsclient's ``get_results()`` takes any pooled connection for each
page, so once a session holds several idle connections a listing can stop after its first
page without an error. ``all_rows`` holds one connection for the whole query.
"""

from __future__ import annotations

import dataclasses
import errno
import posixpath
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from irods import exception as ex
from irods.api_number import api_number
from irods.message import (
    FileOpenRequest,
    GenQueryResponse,
    OpenedDataObjRequest,
    StringStringMap,
    iRODSMessage,
)
from irods.models import Collection, DataObject
from irods.results import ResultSet

from davprovider.backend import Entry

from .avus import META_PREFIX, decode_meta
from .errors import retried

if TYPE_CHECKING:
    from davprovider.backend import Identity

    from .options import Options
    from .pool import Pooled, SessionPool

TEMP_PREFIX = ".davprovider-upload-"
DATA_COLUMNS = (
    DataObject.id, DataObject.name, DataObject.size, DataObject.checksum,
    DataObject.create_time, DataObject.modify_time,
)  # fmt: skip
COLL_COLUMNS = (Collection.id, Collection.name, Collection.create_time, Collection.modify_time)


def all_rows(query: Any) -> Iterator[Mapping[Any, Any]]:
    """Every row of ``query`` (a PRC ``Query``), all pages fetched on one connection."""
    with query.sess.pool.get_connection() as conn:
        page = query
        while True:
            # PRC builds the request; only the connection it goes over is ours to choose.
            request = page._message()
            conn.send(
                iRODSMessage("RODS_API_REQ", msg=request, int_info=api_number["GEN_QUERY_AN"])
            )
            try:
                result_set = ResultSet(conn.recv().get_main_message(GenQueryResponse))
            except ex.CAT_NO_ROWS_FOUND:
                return
            yield from result_set
            if result_set.continue_index <= 0:
                return
            page = page.continue_index(result_set.continue_index)


def _stamp(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def data_entry(row: Mapping[Any, Any]) -> Entry:
    """The entry of a data object's row (``DATA_COLUMNS``)."""
    checksum = row[DataObject.checksum] or None
    modified = _stamp(row[DataObject.modify_time])
    size = int(row[DataObject.size] or 0)
    etag = checksum or f"{row[DataObject.id]}-{size}-{int(modified or 0)}"
    return Entry(
        name=row[DataObject.name], is_dir=False, size=size, modified=modified,
        etag=etag, content_type=None, checksum=checksum,
        created=_stamp(row[DataObject.create_time]),
    )  # fmt: skip


def coll_entry(row: Mapping[Any, Any]) -> Entry:
    """The entry of a collection's row (``COLL_COLUMNS``)."""
    modified = _stamp(row[Collection.modify_time])
    return Entry(
        name=posixpath.basename(row[Collection.name]), is_dir=True, size=None,
        modified=modified, etag=f"c{row[Collection.id]}-{int(modified or 0)}",
        content_type=None, checksum=None, created=_stamp(row[Collection.create_time]),
    )  # fmt: skip


class Catalog:
    """One identity's session on the zone and the share below ``root``: paths, row
    lookups, and the two lookups uploads share with the contract (``stat``,
    ``get_meta``)."""

    def __init__(self, pool: SessionPool, entry: Pooled, identity: Identity, options: Options):
        self.pool, self.entry, self.identity = pool, entry, identity
        self.root = options.collection_for(identity.user)
        self.trash = options.trash
        self.register_checksums = options.register_checksums
        self.timeout = options.timeout

    @property
    def session(self) -> Any:
        return self.entry.session

    def renew(self) -> None:
        """Replace the session after its connection died (``errors.retried``)."""
        self.pool.renew(self.entry, self.identity)

    def irods_path(self, path: str) -> str:
        if path in ("", "/"):
            return self.root
        return self.root.rstrip("/") + path

    def split(self, path: str) -> tuple[str, str]:
        """The iRODS parent collection and name of a share path."""
        full = self.irods_path(path)
        return posixpath.dirname(full), posixpath.basename(full)

    def data_row(self, path: str) -> Mapping[Any, Any] | None:
        """The data object's row at ``path`` (``DATA_COLUMNS``), ``None`` if there is
        none (or it is an upload's hidden temporary object)."""
        parent, name = self.split(path)
        if path in ("", "/") or name.startswith(TEMP_PREFIX):
            return None
        q = self.session.query(*DATA_COLUMNS).filter(
            Collection.name == parent, DataObject.name == name
        )
        return next(iter(q.get_results()), None)

    def coll_row(self, path: str) -> Mapping[Any, Any] | None:
        """The collection's row at ``path`` (``COLL_COLUMNS``), ``None`` if there is none."""
        q = self.session.query(*COLL_COLUMNS).filter(Collection.name == self.irods_path(path))
        return next(iter(q.get_results()), None)

    def probe_hidden(self, path: str) -> None:
        """Tell "exists but unreadable" (403) from "absent" (404) for a data object.

        With a strict ACL policy GenQuery hides what the user may not read; an open for
        reading still names the reason. Done by hand on a pooled connection because PRC's
        ``open`` keeps its connection checked out when the open fails.
        """
        if path in ("", "/"):
            return
        request = FileOpenRequest(
            objPath=self.irods_path(path), createMode=0, openFlags=0, offset=0, dataSize=-1,
            numThreads=0, oprType=0, KeyValPair_PI=StringStringMap({}),
        )  # fmt: skip
        with self.session.pool.get_connection() as conn:
            conn.send(
                iRODSMessage("RODS_API_REQ", msg=request, int_info=api_number["DATA_OBJ_OPEN_AN"])
            )
            try:
                fd = conn.recv().int_info
            except ex.CAT_NO_ACCESS_PERMISSION as exc:
                raise PermissionError(errno.EACCES, f"permission denied: {path}") from exc
            except (ex.OBJ_PATH_DOES_NOT_EXIST, ex.CAT_UNKNOWN_COLLECTION, ex.CAT_UNKNOWN_FILE):
                return
            close = OpenedDataObjRequest(
                l1descInx=fd, len=0, whence=0, oprType=0, offset=0, bytesWritten=0,
                KeyValPair_PI=StringStringMap({}),
            )  # fmt: skip
            conn.send(
                iRODSMessage("RODS_API_REQ", msg=close, int_info=api_number["DATA_OBJ_CLOSE_AN"])
            )
            conn.recv()

    def meta_target(self, path: str) -> Any:
        """The PRC data object or collection at ``path`` (it carries the AVUs)."""
        if self.data_row(path) is not None:
            return self.session.data_objects.get(self.irods_path(path))
        if self.coll_row(path) is not None:
            return self.session.collections.get(self.irods_path(path))
        raise FileNotFoundError(errno.ENOENT, f"not found: {path}")

    # --- the contract's lookups (``IrodsBackend`` inherits them; uploads use them) -------

    @retried
    def stat(self, path: str) -> Entry:
        row = self.data_row(path)
        if row is not None:
            return data_entry(row)
        coll = self.coll_row(path)
        if coll is None:
            self.probe_hidden(path)
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        entry = coll_entry(coll)
        return entry if path not in ("", "/") else dataclasses.replace(entry, name="")

    @retried
    def get_meta(self, path: str) -> dict[str, str]:
        target = self.meta_target(path)
        return {
            avu.name[len(META_PREFIX) :]: decode_meta(avu.value, avu.units)
            for avu in target.metadata.items()
            if avu.name.startswith(META_PREFIX)
        }
