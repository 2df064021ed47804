"""Catalog APIs: GenQuery, collections, AVUs and ACLs."""

from __future__ import annotations

import contextlib
import logging
import sqlite3

from . import specific, tickets
from .api_objects import delete_files
from .catalog import OWN, norm_path
from .errors import (
    CAT_INVALID_ARGUMENT,
    CAT_INVALID_USER,
    CAT_NO_ROWS_FOUND,
    CAT_UNKNOWN_COLLECTION,
    CAT_UNKNOWN_FILE,
    SYS_INVALID_INPUT_PARAM,
    IrodsError,
)
from .genquery import MAX_ROWS_MATERIALISED, RETURN_TOTAL_ROW_COUNT, Query, build_sql, format_value
from .handlers import ConnState, Cursor, Reply, api
from .meta import ADD_META, DELETE_META
from .wire import Node, Pack, json_envelope, parse, parse_json

log = logging.getLogger("localgrid.irods.catalog")
PAD = "1gCBizHWbwIYyWLoysGzTe6SyzqFKMniZX05faZHWAwQKXf6Fs"


def _empty_result() -> bytes:
    fields: list[tuple[str, object]] = [
        ("rowCnt", 0), ("attriCnt", 0), ("continueInx", 0), ("totalRowCount", 0)
    ]  # fmt: skip
    return Pack("GenQueryOut_PI", fields).encode()


def _page(state: ConnState, handle: int, cursor: Cursor, max_rows: int, total: int) -> Reply:
    rows = cursor.rows[cursor.position : cursor.position + max_rows]
    cursor.position += len(rows)
    more = cursor.position < len(cursor.rows)
    if more:
        state.cursors[handle] = cursor
    else:
        state.cursors.pop(handle, None)
    if not rows:
        raise IrodsError(CAT_NO_ROWS_FOUND, "no rows found")
    fields: list[tuple[str, object]] = [
        ("rowCnt", len(rows)),
        ("attriCnt", len(cursor.columns)),
        ("continueInx", handle if more else 0),
        ("totalRowCount", total),
    ]
    for i, column in enumerate(cursor.columns):
        values = [format_value(r[i]) for r in rows]
        width = max((len(v) for v in values), default=0) + 1
        result = Pack("SqlResult_PI", [("attriInx", column), ("reslen", width), ("value", values)])
        fields.append(("SqlResult_PI", result))
    return Reply(msg=Pack("GenQueryOut_PI", fields).encode())


def _parse_query(node: Node) -> Query:
    selects_node = node.find("InxIvalPair_PI")
    conds_node = node.find("InxValPair_PI")
    selects: list[tuple[int, int]] = []
    conditions: list[tuple[int, str]] = []
    if selects_node is not None:
        inx, ival = selects_node.strs("inx"), selects_node.strs("ivalue")
        selects = [(int(a), int(b)) for a, b in zip(inx, ival, strict=False)]
    if conds_node is not None:
        inx, sval = conds_node.strs("inx"), conds_node.strs("svalue")
        conditions = [(int(a), b) for a, b in zip(inx, sval, strict=False)]
    return Query(
        selects, conditions, node.number("maxRows"), node.number("partialStartIndex"),
        node.number("options"), node.kvp(),
    )  # fmt: skip


@api(702)
def gen_query(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    actor = state.who()
    node = parse(body)
    q = _parse_query(node)
    handle = node.number("continueInx")
    if handle > 0:
        cursor = state.cursors.get(handle)
        if q.max_rows <= 0:
            state.cursors.pop(handle, None)
            return Reply(msg=_empty_result())
        if cursor is None:
            raise IrodsError(CAT_NO_ROWS_FOUND, "cursor exhausted or unknown")
        return _page(state, handle, cursor, q.max_rows, 0)
    if q.max_rows <= 0:
        return Reply(msg=_empty_result())
    cat = state.catalog
    visible = None if actor.admin else cat.group_ids(actor.user_id)
    sql, params = build_sql(q, visible, tickets.visible_ids(state), actor.user_id)
    try:
        with cat.lock:
            cur = cat.db.execute(sql, params)
            if q.offset:
                cur.fetchmany(q.offset)
            rows = cur.fetchmany(MAX_ROWS_MATERIALISED)
    except sqlite3.Error as exc:
        log.warning("GenQuery refused (%s): %s", exc, sql)
        raise IrodsError(CAT_INVALID_ARGUMENT, f"bad query: {exc}") from exc
    cursor = Cursor([c for c, _ in q.selects], rows)
    total = len(rows) if q.options & RETURN_TOTAL_ROW_COUNT else 0
    return _page(state, state.handle(), cursor, q.max_rows, total)


@api(722)
def specific_query(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    state.who()
    node = parse(body)
    handle, max_rows = node.number("continueInx"), node.number("maxRows")
    if handle > 0:
        cursor = state.cursors.get(handle)
        if max_rows <= 0 or cursor is None:
            state.cursors.pop(handle, None)
            if max_rows <= 0:
                return Reply(msg=_empty_result())
            raise IrodsError(CAT_NO_ROWS_FOUND, "cursor exhausted or unknown")
        return _page(state, handle, cursor, max_rows, 0)
    args = [node.string(f"arg{i}") for i in range(1, 11)]
    rows = specific.run(state.catalog, node.string("sql"), args)
    rows = rows[max(0, node.number("rowOffset")) :]
    width = len(rows[0]) if rows else 1
    return _page(state, state.handle(), Cursor([0] * width, rows), max(1, max_rows), 0)


# --- collections ---------------------------------------------------------------------------


@api(681)
def coll_create(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    recursive = "recursiveOpr" in node.kvp()
    state.catalog.create_coll(state.who(), node.string("collName"), recursive)
    return Reply()


@api(679)
def coll_remove(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    kw = node.kvp()
    files = state.catalog.remove_tree(
        state.who(), node.string("collName"), "recursiveOpr" in kw, "forceFlag" in kw
    )
    delete_files(files, state.catalog.vault)
    return Reply()


# --- metadata ------------------------------------------------------------------------------


@api(706)
def mod_avu(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    args = [node.string(f"arg{i}") for i in range(10)]
    op, cat, actor = args[0], state.catalog, state.who()
    if op == "cp":
        src = cat.avu_target(actor, args[1], args[3], 0)
        dst = cat.avu_target(actor, args[2], args[4], ADD_META)
        cat.copy_avus(src, dst)
        return Reply()
    needed = ADD_META if op in ("add", "adda") else DELETE_META
    target = cat.avu_target(actor, args[1], args[2], needed)
    attr, value, unit = args[3], args[4], args[5]
    if op in ("add", "adda"):
        cat.add_avu(target, attr, value, unit)
    elif op == "set":
        cat.set_avu(target, attr, value, unit)
    elif op in ("rm", "rmw"):
        cat.remove_avu(target, attr, value, unit, like=op == "rmw")
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported metadata operation {op!r}")
    return Reply()


def _atomic_target(state: ConnState, request: dict[str, object]) -> int:
    kinds = {"data_object": "d", "collection": "C", "resource": "R", "user": "u"}
    kind = kinds.get(str(request.get("entity_type")), "?")
    name = str(request.get("entity_name", ""))
    try:
        return state.catalog.avu_target(state.who(), kind, name, DELETE_META)
    except IrodsError as exc:
        if exc.code in (CAT_UNKNOWN_FILE, CAT_UNKNOWN_COLLECTION, CAT_INVALID_USER):
            raise IrodsError(exc.code, f"Entity does not exist [entity_name={name}]") from exc
        raise


def _apply_atomic(state: ConnState, target: int, operations: object) -> None:
    cat = state.catalog
    if not isinstance(operations, list):
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "operations must be a list")
    with cat.tx():
        for op in operations:
            if not isinstance(op, dict):
                raise IrodsError(SYS_INVALID_INPUT_PARAM, "each operation must be an object")
            attr, value = str(op.get("attribute", "")), str(op.get("value", ""))
            unit = str(op.get("units", ""))
            if op.get("operation") == "add":
                if (attr, value, unit) not in cat.avus(target):
                    cat.add_avu(target, attr, value, unit)
            elif op.get("operation") == "remove":
                with contextlib.suppress(IrodsError):
                    cat.remove_avu(target, attr, value, unit)
            else:
                raise IrodsError(SYS_INVALID_INPUT_PARAM, f"bad operation {op.get('operation')!r}")


@api(20002)
def atomic_avu(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    """ATOMIC_APPLY_METADATA_OPERATIONS: all or nothing; errors carry a JSON body too."""
    request = parse_json(body)
    try:
        target = _atomic_target(state, request)
        _apply_atomic(state, target, request.get("operations"))
    except IrodsError as exc:
        failure = {"error_message": exc.text or str(exc.code)}
        raise IrodsError(exc.code, exc.text, json_envelope(failure)) from exc
    return Reply(msg=json_envelope({}))


# --- ACLs ----------------------------------------------------------------------------------


@api(707)
def mod_access(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    cat, actor = state.catalog, state.who()
    level_name = node.string("accessLevel")
    admin_mode = level_name.startswith("admin:")
    path = norm_path(node.string("path"))
    recursive = node.number("recursiveFlag") != 0
    coll = cat.coll(path)
    row = coll if coll is not None else cat.require_data(path)
    targets = [int(row["coll_id"] if coll is not None else row["data_id"])]
    if coll is not None and recursive:
        targets += cat.subtree_ids(path)
    bare = level_name.removeprefix("admin:")
    with cat.tx():
        for object_id in targets:
            if not (admin_mode and actor.admin):
                cat.require(actor, object_id, OWN, f"change the ACL of {path}")
        if bare in ("inherit", "noinherit"):
            if coll is None:
                raise IrodsError(CAT_INVALID_ARGUMENT, "inheritance applies to collections")
            flag = "1" if bare == "inherit" else "0"
            for object_id in targets:
                cat.run("UPDATE colls SET coll_inheritance = ? WHERE coll_id = ?", flag, object_id)
            return Reply()
        user = cat.require_user(node.string("userName"))
        level = cat.level_named(level_name)
        for object_id in targets:
            cat.grant(object_id, int(user["user_id"]), level)
    return Reply()
