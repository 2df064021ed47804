"""Tickets (TICKET_ADMIN 723): create, modify, delete, and use in a session.

A ticket grants ``read`` or ``write`` on one data object or on a collection's whole tree.
A connection that sent ``session <ticket>`` may open what the ticket covers, and sees it in
GenQuery. Every opening through a ticket counts a use; the zone enforces the uses limit,
expiry, the write-file and write-byte limits and the allowed users, groups and hosts.
"""

from __future__ import annotations

import calendar
import secrets
import sqlite3
import time
from typing import TYPE_CHECKING

from .catalog import READ, WRITE, now
from .errors import (
    CAT_INVALID_ARGUMENT,
    CAT_NO_ACCESS_PERMISSION,
    CAT_TICKET_EXPIRED,
    CAT_TICKET_INVALID,
    CAT_TICKET_USES_EXCEEDED,
    IrodsError,
)

if TYPE_CHECKING:
    from .handlers import ConnState
    from .meta import Catalog

LIMITS = {"uses": "uses_limit", "write-file": "write_file_limit", "write-byte": "write_byte_limit"}
KINDS = {"user", "group", "host"}


def ticket_row(cat: Catalog, string: str) -> sqlite3.Row:
    row = cat.one("SELECT * FROM tickets WHERE ticket_string = ?", string)
    if row is None:
        raise IrodsError(CAT_TICKET_INVALID, "no such ticket")
    return row


def create(state: ConnState, string: str, kind: str, path: str) -> None:
    cat, actor = state.catalog, state.who()
    if kind not in ("read", "write"):
        raise IrodsError(CAT_INVALID_ARGUMENT, f"ticket type must be read or write, not {kind}")
    if not string or cat.one("SELECT 1 FROM tickets WHERE ticket_string = ?", string):
        raise IrodsError(CAT_INVALID_ARGUMENT, "ticket string empty or in use")
    coll = cat.coll(path)
    row = coll if coll is not None else cat.require_data(path)
    object_id = int(row["coll_id"] if coll is not None else row["data_id"])
    cat.require(actor, object_id, WRITE if kind == "write" else READ, f"issue a ticket on {path}")
    t = now()
    cat.run(
        "INSERT INTO tickets (ticket_id, ticket_string, ticket_type, user_id, object_id,"
        " object_type, create_ts, modify_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        cat.next_id(), string, kind, actor.user_id, object_id,
        "collection" if coll is not None else "data", t, t,
    )  # fmt: skip


def _owned(state: ConnState, string: str, admin_kw: bool) -> sqlite3.Row:
    row = ticket_row(state.catalog, string)
    actor = state.who()
    if row["user_id"] != actor.user_id and not (actor.admin and admin_kw):
        raise IrodsError(CAT_TICKET_INVALID, "not your ticket")
    return row


def _epoch(value: str) -> int:
    if not value or value == "0":
        return 0
    if value.isdigit():
        return int(value)
    return calendar.timegm(time.strptime(value, "%Y-%m-%d.%H:%M:%S"))


def modify(state: ConnState, string: str, args: list[str], admin_kw: bool) -> None:
    cat = state.catalog
    row = _owned(state, string, admin_kw)
    what, value, extra = args[0], args[1], args[2] if len(args) > 2 else ""
    tid = row["ticket_id"]
    if what in LIMITS:
        cat.run(f"UPDATE tickets SET {LIMITS[what]} = ? WHERE ticket_id = ?", int(value or 0), tid)
    elif what.startswith("expir"):
        stamp = _epoch(value)
        text = f"{stamp:011d}" if stamp else ""
        cat.run("UPDATE tickets SET ticket_expiry_ts = ? WHERE ticket_id = ?", text, tid)
    elif what in ("add", "remove") and value in KINDS and extra:
        if what == "add":
            cat.run("INSERT OR IGNORE INTO ticket_allowed VALUES (?, ?, ?)", tid, value, extra)
        else:
            cat.run(
                "DELETE FROM ticket_allowed WHERE ticket_id = ? AND kind = ? AND name = ?",
                tid, value, extra,
            )  # fmt: skip
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"cannot modify a ticket's {what}")
    cat.run("UPDATE tickets SET modify_ts = ? WHERE ticket_id = ?", now(), tid)


def delete(state: ConnState, string: str, admin_kw: bool) -> None:
    row = _owned(state, string, admin_kw)
    with state.catalog.tx() as db:
        db.execute("DELETE FROM ticket_allowed WHERE ticket_id = ?", (row["ticket_id"],))
        db.execute("DELETE FROM tickets WHERE ticket_id = ?", (row["ticket_id"],))


def start_session(state: ConnState, string: str) -> None:
    """``session <ticket>``: later requests on this connection may use the ticket."""
    _check_expiry(ticket_row(state.catalog, string))
    state.ticket = string


def _check_expiry(row: sqlite3.Row) -> None:
    expiry = row["ticket_expiry_ts"]
    if expiry and int(expiry) and int(expiry) < now():
        raise IrodsError(CAT_TICKET_EXPIRED, "the ticket has expired")


def covered_ids(cat: Catalog, row: sqlite3.Row) -> set[int]:
    """Object ids a ticket covers: the object (and its collection), or a collection tree."""
    object_id = int(row["object_id"])
    if row["object_type"] == "data":
        parents = cat.all("SELECT DISTINCT coll_id FROM data WHERE data_id = ?", object_id)
        return {object_id, *(int(p[0]) for p in parents)}
    coll = cat.one("SELECT coll_name FROM colls WHERE coll_id = ?", object_id)
    if coll is None:
        return set()
    return {object_id, *cat.subtree_ids(coll[0])}


def visible_ids(state: ConnState) -> list[int]:
    """What the connection's ticket lets it see in GenQuery (nothing if none or invalid)."""
    if not state.ticket:
        return []
    row = state.catalog.one("SELECT * FROM tickets WHERE ticket_string = ?", state.ticket)
    return sorted(covered_ids(state.catalog, row)) if row is not None else []


def _check_allowed(state: ConnState, row: sqlite3.Row) -> None:
    cat, actor = state.catalog, state.who()
    allowed = cat.all("SELECT kind, name FROM ticket_allowed WHERE ticket_id = ?", row["ticket_id"])
    users = {r[1] for r in allowed if r[0] == "user"}
    groups = {r[1] for r in allowed if r[0] == "group"}
    hosts = {r[1] for r in allowed if r[0] == "host"}
    if users or groups:
        mine = {
            str(g[0])
            for g in cat.all(
                "SELECT u.user_name FROM user_group g JOIN users u ON u.user_id = g.group_user_id"
                " WHERE g.user_id = ?",
                actor.user_id,
            )
        }
        if actor.name not in users and not mine & groups:
            raise IrodsError(CAT_NO_ACCESS_PERMISSION, f"the ticket excludes {actor.name}")
    peer_host = state.peer.rpartition(":")[0]
    if hosts and peer_host not in hosts and not (peer_host == "127.0.0.1" and "localhost" in hosts):
        raise IrodsError(CAT_NO_ACCESS_PERMISSION, f"the ticket excludes host {peer_host}")


def require(state: ConnState, object_id: int, needed: int, what: str) -> None:
    """An ACL check that a ticket of the connection may satisfy (and then counts a use)."""
    cat, actor = state.catalog, state.who()
    row = None
    if state.ticket:
        row = cat.one("SELECT * FROM tickets WHERE ticket_string = ?", state.ticket)
    if row is None or object_id not in covered_ids(cat, row):
        cat.require(actor, object_id, needed, what)
        return
    _check_expiry(row)
    _check_allowed(state, row)
    granted = WRITE if row["ticket_type"] == "write" else READ
    if needed > granted and not cat.allowed(actor, object_id, needed):
        raise IrodsError(CAT_NO_ACCESS_PERMISSION, f"a {row['ticket_type']} ticket may not {what}")
    if row["uses_limit"] and row["uses_count"] >= row["uses_limit"]:
        raise IrodsError(CAT_TICKET_USES_EXCEEDED, "the ticket's uses are spent")
    if needed >= WRITE:
        if row["write_file_limit"] and row["write_file_count"] >= row["write_file_limit"]:
            raise IrodsError(CAT_TICKET_USES_EXCEEDED, "the ticket's file writes are spent")
        cat.run(
            "UPDATE tickets SET write_file_count = write_file_count + 1 WHERE ticket_id = ?",
            row["ticket_id"],
        )
    cat.run("UPDATE tickets SET uses_count = uses_count + 1 WHERE ticket_id = ?", row["ticket_id"])


def on_write(state: ConnState, string: str, length: int) -> None:
    """Count written bytes against the write-byte limit of the ticket a file was opened with."""
    if not string:
        return
    cat = state.catalog
    row = cat.one("SELECT * FROM tickets WHERE ticket_string = ?", string)
    if row is None:
        return
    limit = int(row["write_byte_limit"])
    if limit and row["write_byte_count"] + length > limit:
        raise IrodsError(CAT_TICKET_USES_EXCEEDED, "the ticket's write bytes are spent")
    cat.run(
        "UPDATE tickets SET write_byte_count = write_byte_count + ? WHERE ticket_id = ?",
        length, row["ticket_id"],
    )  # fmt: skip


def new_string() -> str:
    return secrets.token_urlsafe(12)
