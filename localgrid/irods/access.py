"""Who may do what: the acting user, ACL lookups, grants and inheritance."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import ACCESS_LEVELS, now
from .errors import CAT_INVALID_ARGUMENT, CAT_NO_ACCESS_PERMISSION, IrodsError
from .resources import Resources


@dataclass(frozen=True)
class Actor:
    """The user a connection acts as (the client user of a proxy login)."""

    user_id: int
    name: str
    zone: str
    admin: bool
    user_type: str = "rodsuser"


class Access(Resources):
    """ACL rows: (object, user or group, access type id); the highest one counts."""

    def actor(self, name: str) -> Actor:
        row = self.require_user(name)
        return Actor(
            int(row["user_id"]),
            row["user_name"],
            row["zone_name"],
            row["user_type_name"] == "rodsadmin",
            row["user_type_name"],
        )

    def level(self, actor: Actor, object_id: int) -> int:
        ids = self.group_ids(actor.user_id)
        marks = ",".join("?" * len(ids))
        row = self.one(
            f"SELECT MAX(access_type_id) FROM access WHERE object_id = ? AND user_id IN ({marks})",
            object_id,
            *ids,
        )
        return int(row[0]) if row is not None and row[0] is not None else 0

    def allowed(self, actor: Actor, object_id: int, needed: int) -> bool:
        return actor.admin or self.level(actor, object_id) >= needed

    def require(self, actor: Actor, object_id: int, needed: int, what: str) -> None:
        if not self.allowed(actor, object_id, needed):
            raise IrodsError(CAT_NO_ACCESS_PERMISSION, f"{actor.name} may not {what}")

    def grant(self, object_id: int, user_id: int, level: int) -> None:
        """Set one ACL entry; ``null`` (1000) removes it."""
        with self.tx() as db:
            db.execute(
                "DELETE FROM access WHERE object_id = ? AND user_id = ?", (object_id, user_id)
            )
            if level > ACCESS_LEVELS["null"]:
                t = now()
                db.execute(
                    "INSERT INTO access VALUES (?, ?, ?, ?, ?)", (object_id, user_id, level, t, t)
                )

    def inherit(self, parent_coll_id: int, object_id: int) -> None:
        """Copy the parent's ACLs to a new child when the parent has inheritance on."""
        row = self.one("SELECT coll_inheritance FROM colls WHERE coll_id = ?", parent_coll_id)
        if row is None or row[0] != "1":
            return
        t = now()
        with self.tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO access SELECT ?, user_id, access_type_id, ?, ? FROM access"
                " WHERE object_id = ?",
                (object_id, t, t, parent_coll_id),
            )

    def copy_acls(self, src_id: int, dst_id: int) -> None:
        t = now()
        self.run(
            "INSERT OR IGNORE INTO access SELECT ?, user_id, access_type_id, ?, ? FROM access"
            " WHERE object_id = ?",
            dst_id,
            t,
            t,
            src_id,
        )

    @staticmethod
    def level_named(name: str) -> int:
        """Access name as PRC sends it (``read``/``write`` or a 4.3 token name)."""
        name = name.removeprefix("admin:")
        aliases = {"read": "read_object", "write": "modify_object", "modify": "modify_object"}
        name = aliases.get(name, name).replace(" ", "_")
        if name not in ACCESS_LEVELS:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"unknown access level: {name}")
        return ACCESS_LEVELS[name]
