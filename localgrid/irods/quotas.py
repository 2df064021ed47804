"""Quotas: ``iadmin sgq``/``suq`` limits, ``calculate-usage``, and enforcement on writes.

A quota row is (user or group id, resource id or 0 for "total", limit, over). ``over`` is
usage minus limit, refreshed by ``calculate-usage`` as in iRODS; a group's usage is what its
members own. Unlike iRODS (where a rule turns enforcement on), every write is checked: a
write that would take an owner over a limit fails with SYS_RESC_QUOTA_EXCEEDED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import now
from .errors import CAT_INVALID_ARGUMENT, SYS_RESC_QUOTA_EXCEEDED, IrodsError

if TYPE_CHECKING:
    from .access import Actor
    from .meta import Catalog

TOTAL = 0


def set_quota(cat: Catalog, kind: str, name: str, resource: str, amount: str) -> None:
    """``set-quota user|group NAME RESOURCE|total AMOUNT`` (0 removes the quota)."""
    row = cat.require_user(name)
    if (kind == "group") != (row["user_type_name"] == "rodsgroup"):
        raise IrodsError(CAT_INVALID_ARGUMENT, f"{name} is not a {kind}")
    resc_id = TOTAL if resource in ("total", "") else int(cat.resource(resource)["resc_id"])
    try:
        limit = int(amount)
    except ValueError as exc:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"bad quota {amount!r}") from exc
    with cat.tx() as db:
        db.execute(
            "DELETE FROM quotas WHERE user_id = ? AND resc_id = ?", (row["user_id"], resc_id)
        )
        if limit > 0:
            db.execute(
                "INSERT INTO quotas VALUES (?, ?, ?, ?, ?)",
                (row["user_id"], resc_id, limit, -limit, now()),
            )


def usage(cat: Catalog, user_id: int, resc_id: int) -> int:
    """Bytes owned by a user, or by a group's members, on a resource (0: everywhere)."""
    owners = cat.all(
        "SELECT u.user_name, u.zone_name FROM user_group g JOIN users u ON u.user_id = g.user_id"
        " WHERE g.group_user_id = ?",
        user_id,
    )
    total = 0
    for owner in owners:
        sql = "SELECT SUM(data_size) FROM data WHERE data_owner_name = ? AND data_owner_zone = ?"
        args: list[object] = [owner[0], owner[1]]
        if resc_id != TOTAL:
            sql += " AND resc_id = ?"
            args.append(resc_id)
        row = cat.one(sql, *args)
        total += int(row[0] or 0) if row is not None else 0
    return total


def calculate_usage(cat: Catalog) -> None:
    """``iadmin cu``: refresh every quota's ``over`` (usage minus limit)."""
    with cat.tx() as db:
        for row in cat.all("SELECT user_id, resc_id, quota_limit FROM quotas"):
            over = usage(cat, int(row[0]), int(row[1])) - int(row[2])
            db.execute(
                "UPDATE quotas SET quota_over = ?, modify_ts = ? WHERE user_id = ? AND resc_id = ?",
                (over, now(), row[0], row[1]),
            )


def check(cat: Catalog, actor: Actor, incoming: int) -> None:
    """Refuse a write of ``incoming`` bytes that would exceed a quota of the actor's."""
    if cat.one("SELECT 1 FROM quotas LIMIT 1") is None:
        return
    ids = cat.group_ids(actor.user_id)
    marks = ",".join("?" * len(ids))
    rows = cat.all(
        f"SELECT user_id, resc_id, quota_limit FROM quotas WHERE user_id IN ({marks})", *ids
    )
    for user_id, resc_id, limit in rows:
        if usage(cat, int(user_id), int(resc_id)) + incoming > int(limit):
            raise IrodsError(SYS_RESC_QUOTA_EXCEEDED, f"quota of {limit} bytes exceeded")
