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
import hashlib
import io
import posixpath
import time
import uuid
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from irods import exception as ex
from irods.api_number import api_number
from irods.column import In, Like
from irods.message import (
    FileOpenRequest,
    GenQueryResponse,
    OpenedDataObjRequest,
    StringStringMap,
    iRODSMessage,
)
from irods.meta import AVUOperation, iRODSMeta
from irods.models import Collection, CollectionMeta, DataObject, DataObjectMeta
from irods.query import query_number
from irods.results import ResultSet

from davprovider.backend import Entry

from .avus import META_PREFIX, decode_meta
from .errors import retried
from .memo import COLL, DATA, Rows
from .wire import close_message, send_pair

if TYPE_CHECKING:
    from davprovider.backend import Identity

    from .options import Options
    from .pool import Pooled, SessionPool

TEMP_PREFIX = ".davprovider-upload-"
DATA_COLUMNS = (
    DataObject.id, DataObject.name, DataObject.size, DataObject.checksum,
    DataObject.create_time, DataObject.modify_time,
    DataObject.replica_number, DataObject.replica_status,
)  # fmt: skip
RACE_TRIES, RACE_PAUSE = 12, 0.01  # a reader waits up to ~0.8 s for an overwrite's renames
RETURN_TOTAL_ROW_COUNT = query_number["RETURN_TOTAL_ROW_COUNT"]
COLL_COLUMNS = (Collection.id, Collection.name, Collection.create_time, Collection.modify_time)


def all_rows(query: Any, *, counted: bool = True) -> Generator[Mapping[Any, Any], None, None]:
    """Every row of ``query`` (a PRC ``Query``), all pages fetched on one connection.

    The zone is asked for the total row count with the first page; an answer that
    ends before that many rows came (a continuation the zone no longer knows, an
    empty page) raises ``ConnectionError``: a listing or an AVU set is never cut
    short in silence. Where the zone gives no total, an empty continuation ends the
    rows only after a full page (iRODS' answer when the rows fill the last page
    exactly), and is an error after a short one. A consumer that stops early closes
    the query on the zone.
    """
    with query.sess.pool.get_connection() as conn:
        page, seen, total, cursor, sizes = query, 0, 0, 0, (0, 0)
        try:
            while True:
                raw = _ask(conn, page, counted=counted and page is query)
                if raw is None:  # no rows (first page), or an empty continuation
                    _check_count(query, seen, total, page is query or sizes[1] >= sizes[0])
                    return
                total = total or int(raw.totalRowCount or 0)
                result_set = ResultSet(raw)
                cursor = result_set.continue_index
                seen += len(result_set)
                sizes = (sizes[0] or len(result_set), len(result_set))  # first, last page
                yield from result_set
                if cursor <= 0:
                    _check_count(query, seen, total, True)
                    return
                page = page.continue_index(cursor)
        except GeneratorExit:
            if cursor > 0:
                _ask(conn, query.continue_index(cursor).limit(0), counted=False)  # free it
            raise


def best_replicas(rows: Iterable[Mapping[Any, Any]]) -> list[Mapping[Any, Any]]:
    """One row per data object (GenQuery answers one per replica): a good replica
    (status 1), the lowest-numbered first; a stale one only when none is good. Its size,
    time and checksum are what the object reports."""
    best: dict[Any, Mapping[Any, Any]] = {}
    for row in rows:
        key = row[DataObject.id]
        if key not in best or _replica_rank(row) < _replica_rank(best[key]):
            best[key] = row
    return list(best.values())


def _replica_rank(row: Mapping[Any, Any]) -> tuple[bool, int]:
    return str(row[DataObject.replica_status]) != "1", int(row[DataObject.replica_number] or 0)


def first_row(query: Any) -> Mapping[Any, Any] | None:
    """The first row of ``query`` on one connection (the zone's cursor freed after)."""
    rows = all_rows(query, counted=False)
    try:
        return next(rows, None)
    finally:
        rows.close()


def _ask(conn: Any, page: Any, *, counted: bool) -> Any:
    """One GenQuery page over ``conn``; ``None`` for CAT_NO_ROWS_FOUND."""
    conn.send(_query_message(page, counted=counted))
    return _answer(conn)


def _query_message(page: Any, *, counted: bool) -> iRODSMessage:
    request = page._message()  # PRC builds the request; the connection is ours to choose
    if counted:
        request.options = int(request.options or 0) | RETURN_TOTAL_ROW_COUNT
    return iRODSMessage("RODS_API_REQ", msg=request, int_info=api_number["GEN_QUERY_AN"])


def _drop(conn: Any) -> None:
    """Close a connection that may be broken already."""
    try:
        conn.disconnect()
    except (ex.NetworkException, OSError):
        pass  # gone already


def _answer(conn: Any) -> Any:
    """A GenQuery page read from ``conn``; ``None`` for CAT_NO_ROWS_FOUND."""
    try:
        return conn.recv().get_main_message(GenQueryResponse)
    except ex.CAT_NO_ROWS_FOUND:
        return None


def _check_count(query: Any, seen: int, total: int, ended: bool) -> None:
    """An end of rows before the announced total (or, without one, an end that came
    where no end can come: ``ended`` false) is a broken answer, not the end."""
    if (total and seen != total) or not ended and not total:
        raise ConnectionError(
            errno.EIO,
            f"GenQuery answer cut short: {seen} of {total or 'more'} rows "
            f"({', '.join(sorted(c.icat_key for c in query.columns))})",
        )


def _replaced_key(name: str) -> str:
    """The name part of an object's aside names (hex only: no GenQuery wildcard)."""
    return "replaced-" + hashlib.sha256(name.encode()).hexdigest()[:20] + "-"


def _stamp(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def _etag(checksum: str | None) -> str | None:
    """A compact etag from the catalog checksum: 30 hex digits of its digest (a
    ``sha2:`` base64 value is 52 characters of ``/+=``, which clients that keep ``If``
    headers in small buffers, such as litmus, cut short). Not 32: davix takes an etag of
    32 hex digits for the object's MD5 when ``Want-Digest: MD5`` gets no answer."""
    if not checksum:
        return None
    return hashlib.sha256(checksum.encode()).hexdigest()[:30]


def data_entry(row: Mapping[Any, Any]) -> Entry:
    """The entry of a data object's row (``DATA_COLUMNS``)."""
    checksum = row[DataObject.checksum] or None
    modified = _stamp(row[DataObject.modify_time])
    size = int(row[DataObject.size] or 0)
    etag = _etag(checksum) or f"{row[DataObject.id]}-{size}-{int(modified or 0)}"
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


class Settle:
    """Whether a reader that missed ``path`` should look again: while an overwrite of it
    is between its two renames (an aside object exists: ``Catalog.replacing``), after a
    short pause, at most ``RACE_TRIES`` times; and once more after a miss with no aside
    in sight (the overwrite may have ended between the two queries). Two misses in a
    row with no aside are a true miss."""

    def __init__(self, catalog: Catalog, path: str) -> None:
        self.catalog, self.path = catalog, path
        self.tries, self.quiet = 0, False

    def again(self) -> bool:
        if self.tries >= RACE_TRIES:
            return False
        self.tries += 1
        self.catalog.rows.clear()  # the next look asks the zone
        if self.catalog.replacing(self.path):
            self.quiet = False
            time.sleep(RACE_PAUSE * self.tries)
            return True
        if self.quiet:
            return False
        self.quiet = True
        return True


class Catalog:
    """One identity's session on the zone and the share below ``root``: paths, row
    lookups (remembered for the request: ``rows``, see ``memo.py``), and the lookups
    uploads share with the contract (``stat``, ``stat_target``, ``get_meta``)."""

    def __init__(self, pool: SessionPool, entry: Pooled, identity: Identity, options: Options):
        self.pool, self.entry, self.identity = pool, entry, identity
        self.rows = Rows()
        self.root = options.collection_for(identity.user)
        self.trash = options.trash
        self.register_checksums = options.register_checksums
        self.timeout = options.timeout
        self.streams, self.threshold = options.parallel_streams, options.parallel_threshold

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

    def data_row(self, path: str, *, fresh: bool = False) -> Mapping[Any, Any] | None:
        """The data object's row at ``path`` (``DATA_COLUMNS``, and its collection's
        ``COLL_COLUMNS``), ``None`` if there is none (or it is an upload's hidden
        temporary object). Remembered (``rows``) unless ``fresh``."""
        parent, name = self.split(path)
        if path in ("", "/") or name.startswith(TEMP_PREFIX):
            return None
        if not fresh and self.rows.known(DATA, path):
            return self.rows.get(DATA, path)
        q = self.session.query(*DATA_COLUMNS, *COLL_COLUMNS).filter(
            Collection.name == parent, DataObject.name == name
        )
        found = best_replicas(all_rows(q, counted=False))
        row = found[0] if found else None
        self.rows.keep(DATA, path, row)
        if row is not None:
            self.rows.keep(COLL, posixpath.dirname(path.rstrip("/")) or "/", row)
        return row

    def coll_row(self, path: str, *, fresh: bool = False) -> Mapping[Any, Any] | None:
        """The collection's row at ``path`` (``COLL_COLUMNS``), ``None`` if there is
        none. Remembered (``rows``) unless ``fresh``, with its parent's (same query)."""
        if not fresh and self.rows.known(COLL, path):
            return self.rows.get(COLL, path)
        wanted = {self.irods_path(path): path}
        if path not in ("", "/"):
            parent = posixpath.dirname(path.rstrip("/")) or "/"
            wanted.setdefault(self.irods_path(parent), parent)
        if len(wanted) > 1 and all("'" not in name for name in wanted):
            condition = In(Collection.name, list(wanted))  # both in one query
        else:
            wanted = {self.irods_path(path): path}
            condition = Collection.name == self.irods_path(path)
        rows = {
            r[Collection.name]: r
            for r in all_rows(self.session.query(*COLL_COLUMNS).filter(condition), counted=False)
        }
        for name, share_path in wanted.items():
            self.rows.keep(COLL, share_path, rows.get(name))
        return rows.get(self.irods_path(path))

    def closed_temp_row(self, handle: Any, temp: str) -> Mapping[Any, Any]:
        """Close ``handle``, an upload's raw handle, and read the row (``DATA_COLUMNS``)
        of its temporary object, iRODS path ``temp``.

        The GenQuery goes right behind the close on the handle's connection, before
        the close is answered: the zone answers in order, so the row it reads has the
        checksum the close registered. The handle is closed and its connection given
        back whatever happens; after a failure the connection is dropped, and the
        zone with it forgets the descriptor."""
        parent, name = posixpath.split(temp)
        query = self.session.query(*DATA_COLUMNS).filter(
            Collection.name == parent, DataObject.name == name
        )
        conn, ok = handle.conn, False
        try:
            closing = send_pair(conn, close_message(handle), _query_message(query, counted=False))
            raw = _answer(conn)
            if raw is not None and (cursor := ResultSet(raw).continue_index) > 0:
                _ask(conn, query.continue_index(cursor).limit(0), counted=False)  # free it
            if closing is not None:
                raise closing
            ok = True
        finally:
            conn.release(destroy=not ok)
            if not ok:
                _drop(conn)
            io.RawIOBase.close(handle)  # marked closed: its own close would send again
        found = best_replicas(ResultSet(raw)) if raw is not None else []
        if not found:
            raise FileNotFoundError(errno.ENOENT, f"upload vanished: {temp}")
        return found[0]

    def aside_name(self, path: str) -> str:
        """A hidden name the object at ``path`` is renamed to while an overwrite puts the
        new one in place (``replacing`` finds it; ``sweep`` removes a stale one)."""
        parent, name = self.split(path)
        return f"{parent}/{TEMP_PREFIX}{_replaced_key(name)}{uuid.uuid4().hex[:12]}"

    def replacing(self, path: str) -> bool:
        """Whether an overwrite of ``path`` is between its two renames (``upload.py``)."""
        parent, name = self.split(path)
        q = self.session.query(DataObject.id).filter(
            Collection.name == parent,
            Like(DataObject.name, f"{TEMP_PREFIX}{_replaced_key(name)}%"),
        )
        return first_row(q) is not None

    def settle(self, path: str) -> Settle:
        """After a miss at ``path``: whether to look again (``Settle.again``)."""
        return Settle(self, path)

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

    def avus(self, path: str, prefix: str = META_PREFIX) -> tuple[Any, list[iRODSMeta]]:
        """The kind of what is at ``path`` (PRC's ``DataObject`` or ``Collection``
        model) and its AVUs named ``prefix...``, every page on one connection
        (``all_rows``): none is lost however many there are."""
        if self.data_row(path) is not None:
            parent, name = self.split(path)
            kind, model = DataObject, DataObjectMeta
            where = [Collection.name == parent, DataObject.name == name]
        elif self.coll_row(path) is not None:
            kind, model = Collection, CollectionMeta
            where = [Collection.name == self.irods_path(path)]
        else:
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        q = self.session.query(model.name, model.value, model.units).filter(
            *where, Like(model.name, prefix + "%")
        )
        found = [
            iRODSMeta(r[model.name], r[model.value], r[model.units] or None)
            for r in all_rows(q)
            if str(r[model.name]).startswith(prefix)
        ]
        return kind, found

    def apply_avus(self, kind: Any, path: str, ops: Sequence[AVUOperation]) -> None:
        """``ops`` on the AVUs of the object or collection at share path ``path``, in
        one atomic request (iRODS' atomic metadata API): all of them or none."""
        if ops:
            self.session.metadata.apply_atomic_operations(kind, self.irods_path(path), *ops)

    # --- the contract's lookups (``IrodsBackend`` inherits them; uploads use them) -------

    def _lookup(self, path: str) -> Entry | None:
        """The entry at ``path`` from its rows, ``None`` when there is none."""
        row = self.data_row(path)
        if row is not None:
            return data_entry(row)
        coll = self.coll_row(path)
        if coll is None:
            return None
        entry = coll_entry(coll)
        return entry if path not in ("", "/") else dataclasses.replace(entry, name="")

    @retried
    def stat(self, path: str) -> Entry:
        """A miss during an overwrite's renames looks again (``Settle``); a miss tells
        an unreadable object (403) from none (``probe_hidden``)."""
        settle = self.settle(path)
        while True:
            entry = self._lookup(path)
            if entry is not None:
                return entry
            if not settle.again():
                break
        self.probe_hidden(path)
        raise FileNotFoundError(errno.ENOENT, f"not found: {path}")

    @retried
    def stat_target(self, path: str) -> Entry:
        """``stat`` of a path about to be written (PUT, MKCOL): a miss with no
        overwrite of it under way is final at once (no second look, no probe: the
        write itself fails on an object it may not see)."""
        entry = self._lookup(path)
        if entry is not None:
            return entry
        if self.replacing(path):
            self.rows.clear()
            return self.stat(path)
        raise FileNotFoundError(errno.ENOENT, f"not found: {path}")

    @retried
    def get_meta(self, path: str) -> dict[str, str]:
        _, found = self.avus(path)
        return {a.name[len(META_PREFIX) :]: decode_meta(a.value, a.units) for a in found}
