"""iRODS API requests sent by hand on a pooled connection, where python-irodsclient's
own call costs more round trips than the request itself:

- ``open_raw``: DATA_OBJ_OPEN alone. PRC's ``open`` wraps the descriptor in a buffered
  handle whose construction asks the position (DATA_OBJ_LSEEK), and whose close asks
  again; the raw handle returned here reads, writes, seeks and closes with one request
  each. A failed open gives its connection back (PRC's keeps it checked out).
- ``rename``: DATA_OBJ_RENAME alone (PRC's ``move`` first asks whether the destination
  is a collection, two GenQueries: the callers here know it is not).
- ``create_collection``: COLL_CREATE alone (PRC's ``create`` reads the new collection
  back).
- ``write``: DATA_OBJ_WRITE with the block sent from the caller's buffer (PRC's copies
  it twice first).
- ``apply_then_rename``: an atomic AVU operation on a data object and its rename, sent
  together on one connection. The zone answers requests on a connection one after
  the other, in order, so the second needs no round trip of its own (so does an
  upload's close with the GenQuery of its row: ``close_message``,
  ``Catalog.closed_temp_row``).

The requests are the ones PRC builds (its message classes); only the extra round
trips around them are left out.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import Any

from irods import exception as ex
from irods import keywords as kw
from irods.api_number import api_number
from irods.data_object import iRODSDataObjectFileRaw
from irods.manager.data_object_manager import DataObjectManager as Objects
from irods.message import (
    CollectionRequest,
    FileOpenRequest,
    JSON_Message,
    ObjCopyRequest,
    OpenedDataObjRequest,
    StringStringMap,
    iRODSMessage,
)

READ = Objects.O_RDONLY
WRITE = Objects.O_WRONLY | Objects.O_CREAT | Objects.O_TRUNC
RENAME_DATA_OBJ = 11  # oprType of a data object's rename
ATOMIC_AVUS = "ATOMIC_APPLY_METADATA_OPERATIONS_APN"
JOIN_BELOW = 1 << 20  # bytes: a smaller block goes in one send with its request


def _request(conn: Any, api: str, body: Any) -> Any:
    conn.send(iRODSMessage("RODS_API_REQ", msg=body, int_info=api_number[api]))
    return conn.recv()


def _open_request(conn: Any, path: str, flags: int, options: Mapping[str, str]) -> Any:
    unknown = "0" if conn.server_version < (4, 3, 1) else "-1"  # as PRC sends it
    return FileOpenRequest(
        objPath=path, createMode=0, openFlags=flags, offset=0,
        dataSize=int(options.get(kw.DATA_SIZE_KW, unknown)), numThreads=0,
        oprType=0, KeyValPair_PI=StringStringMap(dict(options)),
    )  # fmt: skip


def open_raw(
    session: Any,
    path: str,
    flags: int,
    options: Mapping[str, str] | None = None,
    *,
    finalize: bool = True,
) -> iRODSDataObjectFileRaw:
    """The data object at iRODS path ``path`` opened (``READ`` or ``WRITE``), as PRC's
    raw handle: its ``close`` closes the descriptor (with ``options``, as PRC's does;
    without ``finalize``, a parallel transfer's secondary handle, with REPLICA_CLOSE)
    and gives the connection back. A default resource of the session is named, as PRC
    names it."""
    sent = dict(options or {})
    resource = getattr(session, "default_resource", None)
    if resource and not {kw.RESC_NAME_KW, kw.DEST_RESC_NAME_KW, kw.RESC_HIER_STR_KW} & set(sent):
        sent[kw.DEST_RESC_NAME_KW] = resource
    conn = session.pool.get_connection()
    try:
        descriptor = _request(conn, "DATA_OBJ_OPEN_AN", _open_request(conn, path, flags, sent))
    except BaseException:
        conn.release()
        raise
    raw = iRODSDataObjectFileRaw(conn, descriptor.int_info, finalize_on_close=finalize, **sent)
    raw.session = session
    return raw


def write(handle: iRODSDataObjectFileRaw, data: Any) -> int:
    """DATA_OBJ_WRITE of ``data`` (any buffer) at ``handle``'s position, sent with
    ``send_with``: PRC's ``write`` copies a memoryview, then joins the request and the
    bytes into one new string, two copies of every block before the socket's. A write
    the zone answers with fewer bytes than sent fails (``OSError(EIO)``)."""
    message = _on_handle(handle, "DATA_OBJ_WRITE_AN", len(data), {})
    send_with(handle.conn, message, data)
    written: int = handle.conn.recv().int_info
    if written != len(data):  # PRC returns the count unchecked; a short write loses bytes
        raise OSError(errno.EIO, f"iRODS wrote {written} of {len(data)} bytes")
    return written


def send_with(conn: Any, message: iRODSMessage, data: Any) -> None:
    """Send ``message`` with ``data`` (any buffer) as its bytes part: its head, then the
    buffer as it is, not joined to it. A failed send drops the connection, as PRC's
    ``send`` does.

    Below ``JOIN_BELOW`` bytes the two go in one send after all: the socket has Nagle's
    algorithm on (PRC leaves it), so a small second send would wait for the
    acknowledgement of the first."""
    main = iRODSMessage.encode_unicode(message.msg.pack())
    head = iRODSMessage.pack_header(message.msg_type, len(main), 0, len(data), message.int_info)
    try:
        if len(data) < JOIN_BELOW:
            conn.socket.sendall(b"".join((head, main, data)))
        else:
            conn.socket.sendall(head + main)
            conn.socket.sendall(data)
    except OSError as exc:
        conn.release(True)
        raise ex.NetworkException(f"Unable to send message: {exc!r}") from exc


def close_message(handle: iRODSDataObjectFileRaw) -> iRODSMessage:
    """The DATA_OBJ_CLOSE of an open raw handle, as PRC's ``close`` sends it."""
    return _on_handle(handle, "DATA_OBJ_CLOSE_AN", 0, handle.options)


def _on_handle(
    handle: iRODSDataObjectFileRaw, api: str, length: int, options: Mapping[str, str]
) -> iRODSMessage:
    """A request on ``handle``'s open descriptor, as PRC builds it."""
    body = OpenedDataObjRequest(
        l1descInx=handle.desc, len=length, whence=0, oprType=0, offset=0, bytesWritten=0,
        KeyValPair_PI=StringStringMap(dict(options)),
    )  # fmt: skip
    return iRODSMessage("RODS_API_REQ", msg=body, int_info=api_number[api])


def rename(session: Any, src: str, dst: str) -> None:
    """Rename the data object ``src`` to ``dst`` (full iRODS paths; ``dst`` is not a
    collection). Fails (``CAT_NAME_EXISTS_AS_DATAOBJ``) when ``dst`` exists."""
    with session.pool.get_connection() as conn:
        _request(conn, "DATA_OBJ_RENAME_AN", _rename_request(src, dst))


def apply_then_rename(
    session: Any, src: str, operations: list[dict[str, str]], dst: str
) -> ex.iRODSException | None:
    """The atomic AVU ``operations`` (PRC's JSON form) on the data object ``src``, then
    its rename to ``dst``: both requests sent before either answer is read.

    The rename's failure is raised (``src`` keeps the AVUs). The AVU operation's
    failure is returned instead, since the object is renamed by then."""
    request = {
        "admin_mode": False,
        "entity_name": src,
        "entity_type": "data_object",
        "operations": operations,
    }
    with session.pool.get_connection() as conn:
        avus = JSON_Message(request, conn.server_version)
        failed = send_pair(
            conn,
            iRODSMessage("RODS_API_REQ", avus, int_info=api_number[ATOMIC_AVUS]),
            iRODSMessage(
                "RODS_API_REQ",
                msg=_rename_request(src, dst),
                int_info=api_number["DATA_OBJ_RENAME_AN"],
            ),
        )
        conn.recv()
    return failed


def send_pair(conn: Any, first: iRODSMessage, second: iRODSMessage) -> ex.iRODSException | None:
    """Send ``first`` and ``second`` before reading any answer, then read the first
    answer: its failure is returned, not raised (the answer was read whole, so the
    connection stays in step); the second answer is the caller's to read next."""
    conn.send(first)
    conn.send(second)
    try:
        conn.recv()
    except ex.iRODSException as exc:
        return exc
    return None


def _rename_request(src: str, dst: str) -> Any:
    ends = [
        FileOpenRequest(
            objPath=path,
            createMode=0,
            openFlags=0,
            offset=0,
            dataSize=0,
            numThreads=0,
            oprType=RENAME_DATA_OBJ,
            KeyValPair_PI=StringStringMap(),
        )  # fmt: skip
        for path in (src, dst)
    ]
    return ObjCopyRequest(srcDataObjInp_PI=ends[0], destDataObjInp_PI=ends[1])


def create_collection(session: Any, path: str) -> None:
    """Create the collection ``path`` (its parent must exist)."""
    body = CollectionRequest(collName=path.rstrip("/") or "/", KeyValPair_PI=StringStringMap({}))
    with session.pool.get_connection() as conn:
        _request(conn, "COLL_CREATE_AN", body)
