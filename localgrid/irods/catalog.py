"""The zone's catalog: a SQLite database shaped like the ICAT tables PRC sees.

One connection, one lock; every write runs in a transaction (``with catalog.tx():``).
Object ids (users, collections, data objects, AVUs) come from one sequence, as in iRODS,
so access and metadata rows can point at any kind of object.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import SYS_INVALID_FILE_PATH, USER_INPUT_PATH_ERR, IrodsError
from .migrate import upgrade_from_0

# Access levels of iRODS 4.3 (token ids in R_TOKN_MAIN, namespace access_type).
ACCESS_LEVELS = {
    "null": 1000,
    "execute": 1010,
    "read_annotation": 1020,
    "read_system_metadata": 1030,
    "read_metadata": 1040,
    "read_object": 1050,
    "write_annotation": 1060,
    "create_metadata": 1070,
    "modify_metadata": 1080,
    "delete_metadata": 1090,
    "administer_object": 1100,
    "create_object": 1110,
    "modify_object": 1120,
    "delete_object": 1130,
    "create_token": 1140,
    "delete_token": 1150,
    "curate": 1160,
    "own": 1200,
}
READ = ACCESS_LEVELS["read_object"]
SEE = ACCESS_LEVELS["read_metadata"]
WRITE = ACCESS_LEVELS["modify_object"]
OWN = ACCESS_LEVELS["own"]
RESOURCE = "demoResc"
RESOURCE_ID = 10000

SCHEMA = """
CREATE TABLE seq (value INTEGER NOT NULL);
CREATE TABLE users (
    user_id INTEGER PRIMARY KEY, user_name TEXT NOT NULL, user_type_name TEXT NOT NULL,
    zone_name TEXT NOT NULL, user_info TEXT NOT NULL DEFAULT '', r_comment TEXT NOT NULL DEFAULT '',
    create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL, password TEXT NOT NULL DEFAULT '',
    UNIQUE (user_name, zone_name));
CREATE TABLE user_group (group_user_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    PRIMARY KEY (group_user_id, user_id));
CREATE INDEX user_group_user ON user_group (user_id);
CREATE TABLE user_auth (user_id INTEGER NOT NULL, user_auth_name TEXT NOT NULL,
    PRIMARY KEY (user_id, user_auth_name));
CREATE TABLE pam_password (user_name TEXT PRIMARY KEY, password TEXT NOT NULL);
CREATE TABLE temp_password (user_id INTEGER NOT NULL, password TEXT NOT NULL,
    expiry INTEGER NOT NULL, PRIMARY KEY (user_id, password));
CREATE TABLE resc (resc_id INTEGER PRIMARY KEY, resc_name TEXT NOT NULL, zone_name TEXT NOT NULL,
    resc_type_name TEXT NOT NULL, resc_class_name TEXT NOT NULL, resc_net TEXT NOT NULL,
    resc_def_path TEXT NOT NULL, free_space TEXT NOT NULL DEFAULT '', r_comment TEXT NOT NULL
    DEFAULT '', resc_status TEXT NOT NULL DEFAULT '', resc_context TEXT NOT NULL DEFAULT '',
    resc_parent TEXT NOT NULL DEFAULT '', resc_parent_context TEXT NOT NULL DEFAULT '',
    create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL, UNIQUE (resc_name));
CREATE TABLE colls (
    coll_id INTEGER PRIMARY KEY, coll_name TEXT NOT NULL UNIQUE, parent_coll_name TEXT NOT NULL,
    coll_owner_name TEXT NOT NULL, coll_owner_zone TEXT NOT NULL,
    coll_inheritance TEXT NOT NULL DEFAULT '', r_comment TEXT NOT NULL DEFAULT '',
    create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL);
CREATE INDEX colls_parent ON colls (parent_coll_name);
CREATE TABLE data (
    data_id INTEGER NOT NULL, coll_id INTEGER NOT NULL, data_name TEXT NOT NULL,
    data_repl_num INTEGER NOT NULL DEFAULT 0, data_version TEXT NOT NULL DEFAULT '',
    data_type_name TEXT NOT NULL DEFAULT 'generic', data_size INTEGER NOT NULL DEFAULT 0,
    resc_name TEXT NOT NULL, data_path TEXT NOT NULL, data_owner_name TEXT NOT NULL,
    data_owner_zone TEXT NOT NULL, data_is_dirty INTEGER NOT NULL DEFAULT 1,
    data_status TEXT NOT NULL DEFAULT '', data_checksum TEXT NOT NULL DEFAULT '',
    data_expiry_ts TEXT NOT NULL DEFAULT '00000000000', data_map_id INTEGER NOT NULL DEFAULT 0,
    r_comment TEXT NOT NULL DEFAULT '', create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL,
    resc_hier TEXT NOT NULL, resc_id INTEGER NOT NULL, PRIMARY KEY (data_id, data_repl_num),
    UNIQUE (coll_id, data_name, data_repl_num));
CREATE INDEX data_name ON data (coll_id, data_name);
CREATE TABLE meta (meta_id INTEGER PRIMARY KEY, meta_attr_name TEXT NOT NULL,
    meta_attr_value TEXT NOT NULL, meta_attr_unit TEXT NOT NULL DEFAULT '',
    create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL);
CREATE TABLE objt_metamap (object_id INTEGER NOT NULL, meta_id INTEGER NOT NULL,
    PRIMARY KEY (object_id, meta_id));
CREATE TABLE access (object_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    access_type_id INTEGER NOT NULL, create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL,
    PRIMARY KEY (object_id, user_id));
CREATE INDEX access_user ON access (user_id);
CREATE TABLE tokens (token_id INTEGER PRIMARY KEY, token_namespace TEXT NOT NULL,
    token_name TEXT NOT NULL);
CREATE TABLE zones (zone_id INTEGER PRIMARY KEY, zone_name TEXT NOT NULL UNIQUE,
    zone_type_name TEXT NOT NULL, zone_conn_string TEXT NOT NULL DEFAULT '',
    r_comment TEXT NOT NULL DEFAULT '', create_ts INTEGER NOT NULL, modify_ts INTEGER NOT NULL);
CREATE TABLE quotas (user_id INTEGER NOT NULL, resc_id INTEGER NOT NULL,
    quota_limit INTEGER NOT NULL, quota_over INTEGER NOT NULL DEFAULT 0,
    modify_ts INTEGER NOT NULL, PRIMARY KEY (user_id, resc_id));
CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, ticket_string TEXT NOT NULL UNIQUE,
    ticket_type TEXT NOT NULL, user_id INTEGER NOT NULL, object_id INTEGER NOT NULL,
    object_type TEXT NOT NULL, uses_limit INTEGER NOT NULL DEFAULT 0,
    uses_count INTEGER NOT NULL DEFAULT 0, write_file_count INTEGER NOT NULL DEFAULT 0,
    write_file_limit INTEGER NOT NULL DEFAULT 10, write_byte_count INTEGER NOT NULL DEFAULT 0,
    write_byte_limit INTEGER NOT NULL DEFAULT 0, ticket_expiry_ts TEXT NOT NULL DEFAULT '',
    restrictions INTEGER NOT NULL DEFAULT 0, create_ts INTEGER NOT NULL,
    modify_ts INTEGER NOT NULL);
CREATE TABLE ticket_allowed (ticket_id INTEGER NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, PRIMARY KEY (ticket_id, kind, name));
CREATE TABLE specific_queries (alias TEXT PRIMARY KEY, sqlstr TEXT NOT NULL,
    create_ts INTEGER NOT NULL);
"""
SCHEMA_VERSION = 2


def now() -> int:
    return int(time.time())


def norm_path(path: str, relative_code: int = USER_INPUT_PATH_ERR) -> str:
    """An absolute logical path without a trailing slash; relative paths are refused.

    iRODS 4.3 answers a relative path with USER_INPUT_PATH_ERR in most APIs, but with
    SYS_INVALID_FILE_PATH when creating or opening a data object (``relative_code``).
    """
    if not path.startswith("/"):
        raise IrodsError(relative_code, f"path is not absolute: {path!r}")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise IrodsError(USER_INPUT_PATH_ERR, f"path has . or ..: {path!r}")
    return "/" + "/".join(parts)


def create_path(path: str) -> str:
    """norm_path for the data object create/open APIs."""
    return norm_path(path, SYS_INVALID_FILE_PATH)


def split_path(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return (parent or "/"), name


class Store:
    """The SQLite connection, its lock and the id sequence; the rest builds on it."""

    def __init__(self, data_dir: Path, zone: str) -> None:
        self.zone = zone
        self.vault = data_dir / "vault"
        self.vault.mkdir(parents=True, exist_ok=True)
        db_path = self.db_path = data_dir / "catalog.sqlite"
        fresh = not db_path.exists() or db_path.stat().st_size == 0
        self.db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA case_sensitive_like=ON")
        self.lock = threading.RLock()
        self._depth = 0
        if fresh:
            with self.tx():
                self._create_schema()
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version == 0 and not fresh:
            with self.tx() as db:
                upgrade_from_0(db, SCHEMA, SCHEMA_VERSION)
            version = SCHEMA_VERSION
        if version != SCHEMA_VERSION:
            self.db.close()
            raise RuntimeError(
                f"{db_path} has catalog schema {version}, this zone needs {SCHEMA_VERSION}:"
                " start with a fresh --data folder"
            )

    def _create_schema(self) -> None:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)
        self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.db.execute("INSERT INTO seq VALUES (10000)")
        self.db.executemany(
            "INSERT INTO tokens VALUES (?, 'access_type', ?)",
            [(v, k) for k, v in ACCESS_LEVELS.items()],
        )

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (re-entrant: nested uses join the outer one)."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.db
            except BaseException:
                self._depth -= 1
                if outer:
                    self.db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.db.execute("COMMIT")

    def one(self, sql: str, *args: object) -> sqlite3.Row | None:
        with self.lock:
            row: sqlite3.Row | None = self.db.execute(sql, args).fetchone()
            return row

    def all(self, sql: str, *args: object) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def run(self, sql: str, *args: object) -> int:
        """Execute a write inside the current transaction; returns rows changed."""
        with self.tx() as db:
            return db.execute(sql, args).rowcount

    def next_id(self) -> int:
        with self.tx() as db:
            db.execute("UPDATE seq SET value = value + 1")
            return int(db.execute("SELECT value FROM seq").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.db.close()
