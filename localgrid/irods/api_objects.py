"""Data object APIs beyond I/O: unlink, rename, copy, checksum, truncate, touch,
replication and trimming."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
from pathlib import Path

from . import tickets
from .api_data import RENAME_COLL, sha2
from .catalog import READ, RESOURCE, WRITE, norm_path, now
from .errors import (
    CAT_INSUFFICIENT_PRIVILEGE_LEVEL,
    CAT_NO_CHECKSUM_FOR_REPLICA,
    CHECK_VERIFICATION_RESULTS,
    OBJ_PATH_DOES_NOT_EXIST,
    SYS_INVALID_INPUT_PARAM,
    SYS_REPLICA_INACCESSIBLE,
    UNIX_FILE_TRUNCATE_ERR,
    USER_CHKSUM_MISMATCH,
    USER_FILE_DOES_NOT_EXIST,
    IrodsError,
)
from .handlers import ConnState, Reply, api
from .meta import Catalog
from .objects import resource_named
from .replicas import UNREGISTER
from .wire import Node, Pack, parse, parse_json

META_FIELDS = {
    "dataComments": "r_comment", "dataType": "data_type_name", "dataExpiry": "data_expiry_ts",
    "chksum": "data_checksum", "replStatus": "data_is_dirty", "dataModify": "modify_ts",
    "dataCreate": "create_ts", "dataSize": "data_size", "dataMode": "data_status",
    "version": "data_version",
}  # fmt: skip


def _obj_path(node: Node) -> str:
    return norm_path(node.string("objPath"))


def delete_files(paths: list[Path], vault: Path) -> None:
    """Delete replica files and their per-object folders; files registered in place
    (outside the zone's vault, with PHY_PATH_REG) are left alone."""
    for path in paths:
        if not path.is_relative_to(vault):
            continue
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()


@api(615)
def unlink(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    files = state.catalog.unlink(state.who(), _obj_path(node), "forceFlag" in kw)
    if node.number("oprType") != UNREGISTER:
        delete_files(files, state.catalog.vault)
    return Reply()


@api(630)
def register(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    """PHY_PATH_REG: catalogue a file that already exists on the zone's host (rodsadmin)."""
    node = parse(body)
    kw, actor = node.kvp(), state.who()
    if not actor.admin:
        raise IrodsError(CAT_INSUFFICIENT_PRIVILEGE_LEVEL, "only a rodsadmin registers files here")
    physical = Path(kw.get("filePath", ""))
    if not physical.is_absolute() or not physical.is_file():
        raise IrodsError(USER_FILE_DOES_NOT_EXIST, f"no such file: {physical}")
    state.catalog.register_file(actor, _obj_path(node), physical, resource_named(kw, RESOURCE))
    return Reply()


@api(632)
def trim(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    unregister = node.number("oprType") == UNREGISTER
    files = state.catalog.trim(state.who(), _obj_path(node), node.kvp(), unregister)
    delete_files(files, state.catalog.vault)
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


def _checksum_targets(cat: Catalog, path: str, kw: dict[str, str]) -> list[sqlite3.Row]:
    best = cat.require_data(path)
    named = kw.get("replNum", "") != "" or bool(kw.get("rescName") or kw.get("resc_hier"))
    if "ChksumAll" in kw or ("verifyChksum" in kw and not named):
        return cat.replicas(path)
    return [cat.pick_replica(path, kw, strict=True) or best]


def _verify(rows: list[sqlite3.Row], path: str) -> str:
    """verifyChksum: replicas without a checksum are reported (as iRODS 4.2.11+ does),
    a wrong one is an error."""
    missing = [int(r["data_repl_num"]) for r in rows if not r["data_checksum"]]
    for row in rows:
        if row["data_checksum"] and row["data_checksum"] != sha2(Path(row["data_path"])):
            raise IrodsError(USER_CHKSUM_MISMATCH, f"checksum mismatch for {path}")
    if missing:
        report = [
            {"error_code": CAT_NO_CHECKSUM_FOR_REPLICA, "replica_number": n,
             "message": f"No Checksum Available for Replica [{n}]."}
            for n in missing
        ]  # fmt: skip
        raise IrodsError(
            CHECK_VERIFICATION_RESULTS, f"replicas without a checksum in {path}",
            Pack("STR_PI", [("myStr", json.dumps(report))]).encode(),
            [(CAT_NO_CHECKSUM_FOR_REPLICA, str(r["message"])) for r in report],
        )  # fmt: skip
    return str(rows[0]["data_checksum"])


@api(629)
def checksum(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    cat, path, kw = state.catalog, _obj_path(node), node.kvp()
    rows = _checksum_targets(cat, path, kw)
    tickets.require(state, rows[0]["data_id"], READ, f"checksum {path}")
    if "verifyChksum" in kw:
        return Reply(msg=Pack("STR_PI", [("myStr", _verify(rows, path))]).encode())
    result = ""
    for row in rows:
        computed = sha2(Path(row["data_path"]))
        if not row["data_checksum"] or "forceChksum" in kw or row["data_checksum"] != computed:
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
    tickets.require(state, best["data_id"], WRITE, f"truncate {path}")
    try:
        row = cat.pick_replica(path, node.kvp(), strict=True) or best
    except IrodsError as exc:
        raise IrodsError(SYS_REPLICA_INACCESSIBLE, f"no such replica of {path}") from exc
    if size < 0:
        raise IrodsError(UNIX_FILE_TRUNCATE_ERR - errno.EINVAL, "negative size")
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


def _meta_rows(cat: Catalog, path: str, info: Node, params: dict[str, str]) -> list[sqlite3.Row]:
    rows = cat.replicas(path)
    if "all" in params:
        return rows
    wanted = {"resc_hier": info.string("rescHier"), "rescName": info.string("rescName")}
    if not any(wanted.values()):
        wanted["replNum"] = str(info.number("replNum"))
    return [cat.pick_replica(path, wanted, strict=True) or rows[0]]


@api(622)
def mod_data_obj_meta(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    """MOD_DATA_OBJ_META: set catalog fields of one replica (or all, with ``all``)."""
    node = parse(body)
    info = node.find("DataObjInfo_PI")
    if info is None:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "DataObjInfo_PI missing")
    cat, params, path = state.catalog, node.kvp(), _obj_path(info)
    best = cat.require_data(path)
    tickets.require(state, best["data_id"], WRITE, f"change {path}")
    sets = [(META_FIELDS[k], v) for k, v in params.items() if k in META_FIELDS]
    if not sets:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "no field this zone can change")
    with cat.tx() as db:
        for row in _meta_rows(cat, path, info, params):
            for column, value in sets:
                db.execute(
                    f"UPDATE data SET {column} = ? WHERE data_id = ? AND data_repl_num = ?",
                    (value, row["data_id"], row["data_repl_num"]),
                )
    return Reply()


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
