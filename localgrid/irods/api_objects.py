"""Data object APIs beyond I/O: unlink, rename, copy, checksum, truncate, touch,
replication and trimming."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .api_data import RENAME_COLL, sha2
from .catalog import READ, RESOURCE, WRITE, norm_path, now
from .errors import (
    CAT_NO_CHECKSUM_FOR_REPLICA,
    OBJ_PATH_DOES_NOT_EXIST,
    SYS_INVALID_INPUT_PARAM,
    USER_CHKSUM_MISMATCH,
    IrodsError,
)
from .handlers import ConnState, Reply, api
from .objects import GOOD, resource_named
from .replicas import UNREGISTER
from .wire import Node, Pack, json_envelope, parse, parse_json


def _obj_path(node: Node) -> str:
    return norm_path(node.string("objPath"))


def delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@api(615)
def unlink(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    files = state.catalog.unlink(state.who(), _obj_path(node), "forceFlag" in kw)
    if node.number("oprType") != UNREGISTER:
        delete_files(files)
    return Reply()


@api(632)
def trim(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    unregister = node.number("oprType") == UNREGISTER
    delete_files(state.catalog.trim(state.who(), _obj_path(node), node.kvp(), unregister))
    return Reply()


@api(695)
def replicate(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    state.catalog.replicate(state.who(), _obj_path(node), node.kvp())
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
    kw = dst.kvp()
    resource = resource_named(kw, RESOURCE)
    state.catalog.copy_data(
        state.who(), _obj_path(src), _obj_path(dst), "forceFlag" in kw, resource
    )
    return Reply()


@api(629)
def checksum(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    cat, path, kw = state.catalog, _obj_path(node), node.kvp()
    best = cat.require_data(path)
    cat.require(state.who(), best["data_id"], READ, f"checksum {path}")
    if "ChksumAll" in kw:
        rows = cat.replicas(path)
    else:
        rows = [cat.pick_replica(path, kw, strict=True) or best]
    result = ""
    for row in rows:
        computed = sha2(Path(row["data_path"]))
        stored = row["data_checksum"]
        if "verifyChksum" in kw:
            if not stored:
                raise IrodsError(CAT_NO_CHECKSUM_FOR_REPLICA, f"no checksum registered for {path}")
            if stored != computed:
                raise IrodsError(USER_CHKSUM_MISMATCH, f"checksum mismatch for {path}")
        elif not stored or "forceChksum" in kw or stored != computed:
            cat.run(
                "UPDATE data SET data_checksum = ? WHERE data_id = ? AND data_repl_num = ?",
                computed, row["data_id"], row["data_repl_num"],
            )  # fmt: skip
        result = result or computed
    return Reply(msg=Pack("STR_PI", [("myStr", result)]).encode())


def _truncate(state: ConnState, node: Node) -> tuple[int, str]:
    cat, path, size = state.catalog, _obj_path(node), node.number("dataSize")
    best = cat.data(path)
    if best is None:
        raise IrodsError(OBJ_PATH_DOES_NOT_EXIST, f"no such data object: {path}")
    cat.require(state.who(), best["data_id"], WRITE, f"truncate {path}")
    if size < 0:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "negative size")
    row = cat.pick_replica(path, node.kvp(), strict=True) or best
    os.truncate(row["data_path"], size)
    cat.finalize(row["data_id"], row["data_repl_num"], size)
    return int(row["data_repl_num"]), str(row["resc_hier"])


@api(652)
def truncate(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    _truncate(state, parse(body))
    return Reply()


@api(802)
def replica_truncate(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    try:
        number, hier = _truncate(state, parse(body))
    except IrodsError as exc:
        failure = {"replica_number": None, "resource_hierarchy": None, "message": exc.text}
        raise IrodsError(exc.code, exc.text, Pack("STR_PI", [("myStr", json.dumps(failure))])
                         .encode()) from exc  # fmt: skip
    result = json.dumps({"replica_number": number, "resource_hierarchy": hier, "message": ""})
    return Reply(msg=Pack("STR_PI", [("myStr", result)]).encode())


def _touch_time(state: ConnState, options: dict[str, object]) -> int:
    if "reference" in options:
        ref = str(options["reference"])
        ref_row = state.catalog.data(ref) or state.catalog.require_coll(ref)
        return int(ref_row["modify_ts"])
    return int(str(options.get("seconds_since_epoch", now())))


@api(20007)
def touch(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    request = parse_json(body)
    cat, actor = state.catalog, state.who()
    path = norm_path(str(request.get("logical_path", "")))
    options = request.get("options") or {}
    if not isinstance(options, dict):
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "options must be an object")
    when = _touch_time(state, options)
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
        cat.finalize(row["data_id"], row["data_repl_num"], 0)
    cat.require(actor, row["data_id"], WRITE, f"touch {path}")
    sql = "UPDATE data SET modify_ts = ? WHERE data_id = ?"
    args: list[object] = [when, row["data_id"]]
    if "replica_number" in options:
        sql += " AND data_repl_num = ?"
        args.append(int(str(options["replica_number"])))
    cat.run(sql, *args)
    return Reply()


def replica_status(row_status: int) -> bool:
    return row_status == GOOD


__all__ = ["json_envelope", "delete_files"]
