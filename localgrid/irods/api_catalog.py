"""Catalog APIs: GenQuery, collections, AVUs, ACLs, user and group administration."""

from __future__ import annotations

import hashlib
import logging
import sqlite3

from irods import password_obfuscation

from .catalog import OWN, norm_path
from .errors import (
    CAT_INSUFFICIENT_PRIVILEGE_LEVEL,
    CAT_INVALID_ARGUMENT,
    CAT_NO_ROWS_FOUND,
    SYS_INVALID_INPUT_PARAM,
    SYS_NO_API_PRIV,
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
    sql, params = build_sql(q, visible)
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
    recursive = "recursiveOpr" in node.kvp()
    for path in state.catalog.remove_coll(state.who(), node.string("collName"), recursive):
        path.unlink(missing_ok=True)
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


@api(20002)
def atomic_avu(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    request = parse_json(body)
    cat, actor = state.catalog, state.who()
    kinds = {"data_object": "d", "collection": "C", "resource": "R", "user": "u"}
    kind = kinds.get(str(request.get("entity_type")), "?")
    target = cat.avu_target(actor, kind, str(request.get("entity_name", "")), DELETE_META)
    operations = request.get("operations")
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
                try:
                    cat.remove_avu(target, attr, value, unit)
                except IrodsError:
                    pass
            else:
                raise IrodsError(SYS_INVALID_INPUT_PARAM, f"bad operation {op.get('operation')!r}")
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


# --- users and groups ----------------------------------------------------------------------


def _require_admin(state: ConnState) -> None:
    if not state.who().admin:
        raise IrodsError(CAT_INSUFFICIENT_PRIVILEGE_LEVEL, "rodsadmin only")


def _clear_password(state: ConnState, scrambled: str) -> str:
    """Undo PRC's obfuscation of a new password (keyed by the caller's password)."""
    cat, actor = state.catalog, state.who()
    for old in cat.passwords(actor.user_id):
        key = (old[:90] + state.signature[:100]).ljust(100, "\0")
        hashed = hashlib.md5(key.encode()).hexdigest()
        clear = password_obfuscation.unscramble(
            scrambled, key=hashed, scramble_prefix="", block_chaining=True
        )
        prefix = password_obfuscation.v2_prefix
        if clear[1 : len(prefix)] == prefix[1:]:
            return _strip_padding(clear[len(prefix) :])
    raise IrodsError(CAT_INVALID_ARGUMENT, "cannot decode the new password")


def _clear_keyed_password(state: ConnState, scrambled: str) -> str:
    """Undo the simpler obfuscation ``mkuser`` uses (keyed by the caller's password)."""
    passwords = state.catalog.passwords(state.who().user_id)
    if not scrambled or not passwords:
        return ""
    clear = password_obfuscation.unscramble(scrambled, key=passwords[0], scramble_prefix="")
    return _strip_padding(clear)


def _strip_padding(text: str) -> str:
    for i in range(len(text)):
        tail = text[i:]
        if len(tail) > 15 and PAD.startswith(tail):
            return text[:i]
    return text


@api(701)
def general_admin(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    if not state.who().admin:  # the API table admits only privileged users, as in iRODS
        raise IrodsError(SYS_NO_API_PRIV, "GENERAL_ADMIN is for rodsadmin users")
    node = parse(body)
    args = [node.string(f"arg{i}") for i in range(10)]
    cat = state.catalog
    verb, noun = args[0], args[1]
    if verb == "add" and noun in ("user", "group"):
        user_type = "rodsgroup" if noun == "group" else args[3]
        cat.add_user(args[2], user_type)
        if user_type != "rodsgroup":
            cat.make_home(args[2].partition("#")[0])
    elif verb == "rm" and noun in ("user", "group"):
        cat.remove_user(args[2])
    elif verb == "modify" and noun == "user":
        value = _clear_password(state, args[4]) if args[3] == "password" else args[4]
        cat.modify_user(args[2], args[3], value)
    elif verb == "modify" and noun == "group":
        cat.set_membership(args[2], args[4], args[3] == "add")
    elif verb in ("calculate-usage", "set-quota"):
        pass
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported admin command {verb} {noun}")
    log.info("admin %s %s %s by %s", verb, noun, args[2], state.who().name)
    return Reply()


@api(714)
def user_admin(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    args = [node.string(f"arg{i}") for i in range(10)]
    cat, actor = state.catalog, state.who()
    if args[0] == "userpw" and args[2] == "password":
        if args[1] != actor.name and not actor.admin:
            raise IrodsError(CAT_INSUFFICIENT_PRIVILEGE_LEVEL, "may only change own password")
        cat.modify_user(args[1], "password", _clear_password(state, args[3]))
        return Reply()
    _require_admin(state)
    if args[0] == "mkuser":
        cat.add_user(args[1], "rodsuser", _clear_keyed_password(state, args[2]))
        cat.make_home(args[1].partition("#")[0])
    elif args[0] == "mkgroup":
        cat.add_user(args[1], "rodsgroup")
    elif args[0] == "modify" and args[1] == "group":
        cat.set_membership(args[2], args[4], args[3] == "add")
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported user admin command {args[0]}")
    return Reply()
