"""Data object APIs: create/open/read/write/seek/close, parallel-transfer helpers,
unlink, rename, copy, checksum, truncate and touch."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from pathlib import Path

from .catalog import READ, RESOURCE, WRITE, norm_path, now
from .errors import (
    CAT_NAME_EXISTS_AS_DATAOBJ,
    CAT_NO_CHECKSUM_FOR_REPLICA,
    OBJ_PATH_DOES_NOT_EXIST,
    SYS_INVALID_INPUT_PARAM,
    USER_CHKSUM_MISMATCH,
    IrodsError,
)
from .handlers import ConnState, OpenFile, Reply, api
from .wire import MAX_BS_LEN, Node, Pack, json_envelope, parse, parse_json

log = logging.getLogger("localgrid.irods.data")
O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC = 3, 64, 128, 512
RENAME_COLL = 12
CHUNK = 1024 * 1024


def _obj_path(node: Node) -> str:
    return norm_path(node.string("objPath"))


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _open(state: ConnState, path: str, flags: int, kw: dict[str, str], data_type: str) -> Reply:
    cat, actor = state.catalog, state.who()
    writable = flags & O_ACCMODE != 0
    row = cat.data(path)
    created = False
    if row is None:
        if not flags & O_CREAT:
            raise IrodsError(OBJ_PATH_DOES_NOT_EXIST, f"no such data object: {path}")
        row = cat.create_data(actor, path, data_type)
        created = True
    elif flags & O_CREAT and flags & O_EXCL:
        raise IrodsError(CAT_NAME_EXISTS_AS_DATAOBJ, f"data object exists: {path}")
    else:
        cat.require(actor, row["data_id"], WRITE if writable else READ, f"open {path}")
    data_id = int(row["data_id"])
    os_fd = os.open(cat.vault_path(data_id), os.O_RDWR if writable else os.O_RDONLY)
    truncated = bool(writable and flags & O_TRUNC and not created)
    if truncated:
        os.ftruncate(os_fd, 0)
    fd = state.handle()
    state.files[fd] = OpenFile(data_id, path, os_fd, writable, 0, created or truncated, kw)
    return Reply(int_info=fd)


@api(601)
def create(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    flags = 2 | O_CREAT | O_TRUNC
    return _open(state, _obj_path(node), flags, kw, kw.get("dataType", "generic"))


@api(602)
def open_(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    flags = node.number("openFlags")
    return _open(state, _obj_path(node), flags, kw, kw.get("dataType", "generic"))


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


def _close(state: ConnState, fd: int, finalize: bool, kw: dict[str, str]) -> Reply:
    f = state.file(fd)
    del state.files[fd]
    try:
        if f.writable and finalize:
            size = os.fstat(f.os_fd).st_size
            wanted = {**f.keywords, **kw}
            checksum = None
            if "regChksum" in wanted or "verifyChksum" in wanted:
                checksum = sha2(state.catalog.vault_path(f.data_id))
            state.catalog.finalize(f.data_id, size, checksum)
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
        "replica_token": f"token-{f.data_id}",
        "data_object_info": {
            "object_path": f.path,
            "data_id": f.data_id,
            "resource_hierarchy": RESOURCE,
            "replica_number": 0,
        },
    }
    return Reply(msg=json_envelope(info))


@api(615)
def unlink(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    _unlink_quietly(state.catalog.unlink(state.who(), _obj_path(node)))
    return Reply()


@api(627)
def rename(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    src, dst = parse(body).findall("DataObjInp_PI")[:2]
    cat, actor = state.catalog, state.who()
    src_path, dst_path = _obj_path(src), _obj_path(dst)
    if src.number("oprType") == RENAME_COLL or cat.coll(src_path) is not None:
        cat.rename_coll(actor, src_path, dst_path)
    else:
        cat.rename_data(actor, src_path, dst_path)
    return Reply()


@api(696)
def copy(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    src, dst = parse(body).findall("DataObjInp_PI")[:2]
    force = "forceFlag" in dst.kvp()
    state.catalog.copy_data(state.who(), _obj_path(src), _obj_path(dst), force)
    return Reply()


@api(629)
def checksum(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    cat, path, kw = state.catalog, _obj_path(node), node.kvp()
    row = cat.require_data(path)
    cat.require(state.who(), row["data_id"], READ, f"checksum {path}")
    computed = sha2(cat.vault_path(row["data_id"]))
    stored = row["data_checksum"]
    if "verifyChksum" in kw:
        if not stored:
            raise IrodsError(CAT_NO_CHECKSUM_FOR_REPLICA, f"no checksum registered for {path}")
        if stored != computed:
            raise IrodsError(USER_CHKSUM_MISMATCH, f"checksum mismatch for {path}")
    elif not stored or "forceChksum" in kw or stored != computed:
        cat.run("UPDATE data SET data_checksum = ? WHERE data_id = ?", computed, row["data_id"])
    return Reply(msg=Pack("STR_PI", [("myStr", computed)]).encode())


def _truncate(state: ConnState, body: bytes) -> None:
    node = parse(body)
    cat, path, size = state.catalog, _obj_path(node), node.number("dataSize")
    row = cat.data(path)
    if row is None:
        raise IrodsError(OBJ_PATH_DOES_NOT_EXIST, f"no such data object: {path}")
    cat.require(state.who(), row["data_id"], WRITE, f"truncate {path}")
    if size < 0:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "negative size")
    os.truncate(cat.vault_path(row["data_id"]), size)
    cat.finalize(row["data_id"], size)


@api(652)
def truncate(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    _truncate(state, body)
    return Reply()


@api(802)
def replica_truncate(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    _truncate(state, body)
    result = json.dumps({"replica_number": 0, "resource_hierarchy": RESOURCE, "message": ""})
    return Reply(msg=Pack("STR_PI", [("myStr", result)]).encode())


@api(20007)
def touch(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    request = parse_json(body)
    cat, actor = state.catalog, state.who()
    path = norm_path(str(request.get("logical_path", "")))
    options = request.get("options") or {}
    if not isinstance(options, dict):
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "options must be an object")
    when = int(options.get("seconds_since_epoch", now()))
    if "reference" in options:
        ref = str(options["reference"])
        ref_row = cat.data(ref) or cat.require_coll(ref)
        when = int(ref_row["modify_ts"])
    coll = cat.coll(path)
    if coll is not None:
        cat.require(actor, coll["coll_id"], WRITE, f"touch {path}")
        cat.run("UPDATE colls SET modify_ts = ? WHERE coll_id = ?", when, coll["coll_id"])
        return Reply()
    row = cat.data(path)
    if row is None:
        if options.get("no_create"):
            return Reply()
        row = cat.create_data(actor, path)
        cat.finalize(row["data_id"], 0)
    cat.require(actor, row["data_id"], WRITE, f"touch {path}")
    cat.run("UPDATE data SET modify_ts = ? WHERE data_id = ?", when, row["data_id"])
    return Reply()
