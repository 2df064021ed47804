"""Bringing a catalog made by an earlier localgrid.irods up to the current schema.

Schema 0 (before replicas, trash, tickets, quotas and zones) had one row per data object
keyed by data id, and resources without parents. Its vault files stay where they are (each
replica row records its own path).
"""

from __future__ import annotations

import re
import sqlite3

NEW_TABLES = ("zones", "quotas", "tickets", "ticket_allowed", "specific_queries")


def _statement(schema: str, prefix: str) -> str:
    for statement in schema.split(";"):
        if re.match(rf"\s*{re.escape(prefix)}\b", statement):
            return statement
    raise LookupError(prefix)


def upgrade_from_0(db: sqlite3.Connection, schema: str, version: int) -> None:
    """Schema 0 to ``version``, inside the caller's transaction."""
    db.execute("ALTER TABLE resc ADD COLUMN resc_parent TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE resc ADD COLUMN resc_parent_context TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE UNIQUE INDEX resc_name_unique ON resc (resc_name)")
    db.execute("ALTER TABLE data RENAME TO data_v0")
    db.execute(_statement(schema, "CREATE TABLE data"))
    db.execute("INSERT INTO data SELECT * FROM data_v0")
    db.execute("DROP TABLE data_v0")
    db.execute(_statement(schema, "CREATE INDEX data_name"))
    for table in NEW_TABLES:
        db.execute(_statement(schema, f"CREATE TABLE {table}"))
    db.execute(f"PRAGMA user_version = {version}")
