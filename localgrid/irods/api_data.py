"""Data object I/O: create/open/read/write/seek/close and the parallel-transfer helpers."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sqlite3
from pathlib import Path

from . import quotas, tickets
from .catalog import READ, RESOURCE, WRITE, create_path, norm_path
from .errors import (
    CAT_NAME_EXISTS_AS_DATAOBJ,
    OBJ_PATH_DOES_NOT_EXIST,
    SYS_INVALID_INPUT_PARAM,
    IrodsError,
)
from .handlers import ConnState, OpenFile, Reply, api
from .meta import Catalog
from .objects import WRITING, resource_named
from .wire import MAX_BS_LEN, Node, Pack, json_envelope, parse, parse_json

log = logging.getLogger("localgrid.irods.data")
O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC = 3, 64, 128, 512
RENAME_COLL = 12
CHUNK = 1024 * 1024


def _obj_path(node: Node) -> str:
    return norm_path(node.string("objPath"))


def _target_leaves(cat: Catalog, kw: dict[str, str]) -> list[int]:
    """The leaves a write goes to: a named hierarchy's leaf, or the named (or default)
    resource's write leaves."""
    if kw.get("resc_hier"):
        return [cat.leaf_of_hierarchy(kw["resc_hier"])]
    return cat.write_leaves(resource_named(kw, RESOURCE))


def _open_target(
    state: ConnState, path: str, flags: int, kw: dict[str, str], data_type: str
) -> tuple[sqlite3.Row, bool]:
    """The replica an open works on (created if need be), and whether it is new."""
    cat, actor = state.catalog, state.who()
    writable = flags & O_ACCMODE != 0
    best = cat.data(path)
    if best is None:
        if not flags & O_CREAT:
            raise IrodsError(OBJ_PATH_DOES_NOT_EXIST, f"no such data object: {path}")
        quotas.check(cat, actor, 0)
        size = int(kw.get("dataSize") or 0)
        row = cat.create_data(actor, path, data_type, leaves=_target_leaves(cat, kw), size=size)
        return row, True
    if flags & O_CREAT and flags & O_EXCL:
        raise IrodsError(CAT_NAME_EXISTS_AS_DATAOBJ, f"data object exists: {path}")
    tickets.require(state, int(best["data_id"]), WRITE if writable else READ, f"open {path}")
    named = kw.get("replNum", "") != "" or (bool(kw.get("resc_hier")) and not writable)
    chosen = cat.pick_replica(path, kw, strict=named)
    if chosen is not None:
        return chosen, False
    if not writable:
        return best, False
    row = cat.add_replica(best, _target_leaves(cat, kw)[0], WRITING)
    if not flags & O_TRUNC:
        cat.copy_replica(best, row)
    return row, True


def _open(state: ConnState, path: str, flags: int, kw: dict[str, str], data_type: str) -> Reply:
    writable = flags & O_ACCMODE != 0
    row, created = _open_target(state, path, flags, kw, data_type)
    os_fd = os.open(row["data_path"], os.O_RDWR if writable else os.O_RDONLY)
    truncated = bool(writable and flags & O_TRUNC and not created)
    if truncated:
        os.ftruncate(os_fd, 0)
    fd = state.handle()
    state.files[fd] = OpenFile(
        int(row["data_id"]), path, os_fd, writable, 0, created or truncated, kw,
        int(row["data_repl_num"]), row["resc_hier"], state.ticket, int(row["data_size"]),
    )  # fmt: skip
    return Reply(int_info=fd)


@api(601)
def create(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    flags = 2 | O_CREAT | O_TRUNC
    return _open(state, create_path(node.string("objPath")), flags, kw, kw.get("dataType", ""))


@api(602)
def open_(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    flags = node.number("openFlags")
    return _open(state, create_path(node.string("objPath")), flags, kw, kw.get("dataType", ""))


@api(675)
def read(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    f = state.file(node.number("l1descInx"))
    length = node.number("len")
    if not 0 <= length <= MAX_BS_LEN:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, f"read length {length} out of range")
    data = os.pread(f.os_fd, length, f.offset)
    f.offset += len(data)
    return Reply(int_info=len(data), bs=data)


@api(676)
def write(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    f = state.file(node.number("l1descInx"))
    if not f.writable:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "descriptor is open read-only")
    view = memoryview(bs)
    # The catalog counts the replica's recorded size already: only growth beyond it is new.
    quotas.check(state.catalog, state.who(), max(0, f.offset + len(view) - f.recorded))
    tickets.on_write(state, f.ticket, len(view))
    done = 0
    while done < len(view):
        done += os.pwrite(f.os_fd, view[done:], f.offset + done)
    f.offset += done
    f.written = True
    return Reply(int_info=done)


@api(674)
def lseek(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    f = state.file(node.number("l1descInx"))
    whence, offset = node.number("whence"), node.number("offset")
    base = {0: 0, 1: f.offset, 2: os.fstat(f.os_fd).st_size}.get(whence)
    if base is None or base + offset < 0:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, f"bad seek {offset} whence {whence}")
    f.offset = base + offset
    return Reply(msg=Pack("fileLseekOut_PI", [("offset", f.offset)]).encode())


def sha2(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return "sha2:" + base64.b64encode(digest.digest()).decode()


def sha2_fd(os_fd: int) -> str:
    digest, offset = hashlib.sha256(), 0
    while chunk := os.pread(os_fd, CHUNK, offset):
        digest.update(chunk)
        offset += len(chunk)
    return "sha2:" + base64.b64encode(digest.digest()).decode()


def _close(state: ConnState, fd: int, finalize: bool, kw: dict[str, str]) -> Reply:
    f = state.file(fd)
    del state.files[fd]
    try:
        if f.writable and finalize:
            size = os.fstat(f.os_fd).st_size
            wanted = {**f.keywords, **kw}
            checksum = None
            if "regChksum" in wanted or "verifyChksum" in wanted:
                checksum = sha2_fd(f.os_fd)
            state.catalog.finalize(f.data_id, f.repl_num, size, checksum)
    finally:
        os.close(f.os_fd)
    return Reply()


@api(673)
def close(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    fd = node.number("l1descInx")
    return _close(state, fd, state.file(fd).written, node.kvp())


@api(20004)
def replica_close(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    request = parse_json(body)
    fd = int(str(request.get("fd", -1)))
    return _close(state, fd, bool(request.get("update_size")) and state.file(fd).written, {})


@api(20000)
def fd_info(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    request = parse_json(body)
    f = state.file(int(str(request.get("fd", -1))))
    info = {
        "l1_descriptor_index": int(str(request.get("fd"))),
        "replica_token": f"token-{f.data_id}-{f.repl_num}",
        "data_object_info": {
            "object_path": f.path,
            "data_id": f.data_id,
            "resource_hierarchy": f.hier,
            "replica_number": f.repl_num,
        },
    }
    return Reply(msg=json_envelope(info))
