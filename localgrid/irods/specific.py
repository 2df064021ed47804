"""Specific queries: SQL registered by a rodsadmin under an alias, run by anyone (API 722).

The SQL runs on a read-only connection to the catalog (which may only read, and reads
passwords as NULL), against views that carry the ICAT's
table names (``R_DATA_MAIN``, ``R_COLL_MAIN``, ...) over this catalog's tables, whose column
names follow the ICAT's. Arguments bind to the ``?`` placeholders in order. As in iRODS,
``ls``, ``lsl`` (SQL like an argument), ``findQueryByAlias`` and ``ilsLACollections`` come
registered.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

from .catalog import now
from .errors import CAT_INVALID_ARGUMENT, CAT_UNKNOWN_SPECIFIC_QUERY, IrodsError

if TYPE_CHECKING:
    from .meta import Catalog

VIEWS = {
    "R_DATA_MAIN": "SELECT * FROM data",
    "R_COLL_MAIN": "SELECT * FROM colls",
    "R_USER_MAIN": (
        "SELECT user_id, user_name, user_type_name, zone_name, user_info, r_comment,"
        " create_ts, modify_ts FROM users"
    ),
    "R_USER_GROUP": "SELECT * FROM user_group",
    "R_USER_AUTH": "SELECT * FROM user_auth",
    "R_RESC_MAIN": "SELECT * FROM resc",
    "R_META_MAIN": "SELECT * FROM meta",
    "R_OBJT_METAMAP": "SELECT * FROM objt_metamap",
    "R_OBJT_ACCESS": "SELECT * FROM access",
    "R_TOKN_MAIN": "SELECT * FROM tokens",
    "R_ZONE_MAIN": "SELECT * FROM zones",
    "R_TICKET_MAIN": "SELECT * FROM tickets",
    "R_QUOTA_MAIN": "SELECT * FROM quotas",
    "R_SPECIFIC_QUERY": "SELECT alias, sqlstr AS sqlStr, create_ts FROM specific_queries",
}
BUILT_IN = {
    "ls": "select alias, sqlStr from R_SPECIFIC_QUERY",
    "lsl": "select alias, sqlStr from R_SPECIFIC_QUERY where sqlStr like ?",
    "findQueryByAlias": "select alias, sqlStr from R_SPECIFIC_QUERY where alias = ?",
    "ilsLACollections": (
        "select c.coll_name, u.user_name, a.access_type_id from R_COLL_MAIN c"
        " join R_OBJT_ACCESS a on a.object_id = c.coll_id"
        " join R_USER_MAIN u on u.user_id = a.user_id"
        " where c.parent_coll_name = ? order by c.coll_name limit ? offset ?"
    ),
}
SECRET_TABLES = {"pam_password", "temp_password"}
_readers: dict[str, tuple[sqlite3.Connection, threading.Lock]] = {}
_readers_lock = threading.Lock()


def seed(cat: Catalog) -> None:
    for alias, sql in BUILT_IN.items():
        cat.run("INSERT OR IGNORE INTO specific_queries VALUES (?, ?, ?)", alias, sql, now())


def register(cat: Catalog, sql: str, alias: str) -> None:
    if not sql.strip().lower().startswith(("select", "with")):
        raise IrodsError(CAT_INVALID_ARGUMENT, "only SELECT statements may be registered")
    with cat.tx():
        if cat.one("SELECT 1 FROM specific_queries WHERE alias = ?", alias) is not None:
            raise IrodsError(CAT_INVALID_ARGUMENT, "Alias is not unique")
        cat.run("INSERT INTO specific_queries VALUES (?, ?, ?)", alias, sql, now())


def remove(cat: Catalog, alias_or_sql: str) -> None:
    if not cat.run(
        "DELETE FROM specific_queries WHERE alias = ? OR sqlstr = ?", alias_or_sql, alias_or_sql
    ):
        raise IrodsError(CAT_UNKNOWN_SPECIFIC_QUERY, f"no specific query {alias_or_sql!r}")


def _only_reading(action: int, arg1: str | None, arg2: str | None, *_: object) -> int:
    """Specific queries may only read, and never see a password (they read as NULL)."""
    if action == sqlite3.SQLITE_READ:
        secret = arg1 in SECRET_TABLES or (arg1, arg2) == ("users", "password")
        return sqlite3.SQLITE_IGNORE if secret else sqlite3.SQLITE_OK
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _reader(cat: Catalog) -> tuple[sqlite3.Connection, threading.Lock]:
    """A read-only connection to this catalog, with the ICAT-named views (made once)."""
    key = str(cat.db_path)
    with _readers_lock:
        if key not in _readers:
            db = sqlite3.connect(f"file:{key}?mode=ro", uri=True, check_same_thread=False)
            for name, sql in VIEWS.items():
                db.execute(f"CREATE TEMP VIEW {name} AS {sql}")
            db.set_authorizer(_only_reading)
            _readers[key] = (db, threading.Lock())
        return _readers[key]


def run(cat: Catalog, alias_or_sql: str, args: list[str]) -> list[tuple[object, ...]]:
    """Rows of a registered query (looked up by alias, or by its exact SQL)."""
    row = cat.one(
        "SELECT sqlstr FROM specific_queries WHERE alias = ? OR sqlstr = ?",
        alias_or_sql, alias_or_sql,
    )  # fmt: skip
    if row is None:
        raise IrodsError(CAT_UNKNOWN_SPECIFIC_QUERY, f"no specific query {alias_or_sql!r}")
    sql = str(row[0])
    bound = args[: sql.count("?")]
    bound += [""] * (sql.count("?") - len(bound))
    db, lock = _reader(cat)
    try:
        with lock:
            return [tuple(r) for r in db.execute(sql, bound).fetchall()]
    except sqlite3.Error as exc:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"specific query failed: {exc}") from exc
