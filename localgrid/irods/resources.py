"""Storage resources and their hierarchies (``iadmin mkresc``, ``addchildtoresc``).

Every resource's bytes stay under the zone's vault folder (``vault/`` for demoResc,
``vault/r<id>/`` for the others), whatever vault path it was registered with: that path is
only shown in GenQuery. Coordinating resources choose leaves the way iRODS does for a
single client: a replication or compound resource writes to all its leaves, the others
(passthru, random, round robin, deferred, ...) to their first child's leaves. A leaf's
registered vault path is checked only for being an existing folder the zone cannot write.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from .catalog import RESOURCE, RESOURCE_ID, now
from .errors import (
    CAT_INVALID_ARGUMENT,
    CAT_INVALID_RESOURCE,
    CAT_RESOURCE_NOT_EMPTY,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    DIRECT_CHILD_ACCESS,
    HIERARCHY_ERROR,
    SYS_RESC_DOES_NOT_EXIST,
    UNIX_FILE_CREATE_ERR,
    USER_FILE_TOO_LARGE,
    IrodsError,
)
from .users import Users

COORDINATING = {
    "replication", "passthru", "random", "roundrobin", "compound", "load_balanced",
    "deferred", "mockarchive_parent",
}  # fmt: skip
SYNCED = {"replication", "compound"}  # written to every child (compound: cache and archive)
STORAGE_CLASS = {"compound": "", "replication": "", "passthru": ""}
MODIFIABLE = {
    "comment": "r_comment", "context": "resc_context", "status": "resc_status",
    "freespace": "free_space", "free_space": "free_space", "type": "resc_type_name",
    "path": "resc_def_path",
    "host": "resc_net", "name": "resc_name", "class": "resc_class_name",
}  # fmt: skip


class Resources(Users):
    """Resource rows; a child points at its parent by id (``resc_parent``), as in 4.2+."""

    def seed_resource(self) -> None:
        t = now()
        self.run(
            "INSERT INTO resc (resc_id, resc_name, zone_name, resc_type_name, resc_class_name,"
            " resc_net, resc_def_path, create_ts, modify_ts) VALUES (?, ?, ?, 'unixfilesystem',"
            " 'cache', 'localhost', ?, ?, ?)",
            RESOURCE_ID, RESOURCE, self.zone, str(self.vault), t, t,
        )  # fmt: skip

    def resource(self, name: str) -> sqlite3.Row:
        row = self.one("SELECT * FROM resc WHERE resc_name = ?", name)
        if row is None:
            raise IrodsError(SYS_RESC_DOES_NOT_EXIST, f"no such resource: {name}")
        return row

    def resource_by_id(self, resc_id: int) -> sqlite3.Row:
        row = self.one("SELECT * FROM resc WHERE resc_id = ?", resc_id)
        if row is None:
            raise IrodsError(SYS_RESC_DOES_NOT_EXIST, f"no resource with id {resc_id}")
        return row

    def resource_vault(self, resc_id: int) -> Path:
        return self.vault if resc_id == RESOURCE_ID else self.vault / f"r{resc_id}"

    def add_resource(self, name: str, resc_type: str, location: str, context: str) -> None:
        if not name or any(c in name for c in "/;# "):
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad resource name: {name!r}")
        if not resc_type:
            raise IrodsError(CAT_INVALID_ARGUMENT, "a resource needs a type")
        host, _, path = location.partition(":")
        with self.tx() as db:
            if self.one("SELECT 1 FROM resc WHERE resc_name = ?", name) is not None:
                raise IrodsError(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME, f"resource exists: {name}")
            rid, t = self.next_id(), now()
            db.execute(
                "INSERT INTO resc (resc_id, resc_name, zone_name, resc_type_name,"
                " resc_class_name, resc_net, resc_def_path, resc_context, create_ts, modify_ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, name, self.zone, resc_type, STORAGE_CLASS.get(resc_type, "cache"),
                 host or "EMPTY_RESC_HOST", path or "EMPTY_RESC_PATH", context, t, t),
            )  # fmt: skip

    def remove_resource(self, name: str) -> None:
        row = self.resource(name)
        rid = int(row["resc_id"])
        if rid == RESOURCE_ID:
            raise IrodsError(CAT_INVALID_RESOURCE, f"{name} is the zone's default resource")
        with self.tx() as db:
            if self.one("SELECT 1 FROM data WHERE resc_id = ? LIMIT 1", rid) is not None:
                raise IrodsError(CAT_RESOURCE_NOT_EMPTY, f"resource {name} holds replicas")
            if self.one("SELECT 1 FROM resc WHERE resc_parent = ?", str(rid)) is not None:
                raise IrodsError(CAT_RESOURCE_NOT_EMPTY, f"resource {name} has children")
            db.execute("DELETE FROM resc WHERE resc_id = ?", (rid,))
            db.execute("DELETE FROM quotas WHERE resc_id = ?", (rid,))
            db.execute(
                "DELETE FROM meta WHERE meta_id IN"
                " (SELECT meta_id FROM objt_metamap WHERE object_id = ?)",
                (rid,),
            )
            db.execute("DELETE FROM objt_metamap WHERE object_id = ?", (rid,))

    def modify_resource(self, name: str, attribute: str, value: str) -> None:
        row = self.resource(name)
        column = MODIFIABLE.get(attribute)
        if column is None:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"cannot modify resource {attribute}")
        self.run(
            f"UPDATE resc SET {column} = ?, modify_ts = ? WHERE resc_id = ?",
            value, now(), row["resc_id"],
        )  # fmt: skip

    def add_child(self, parent: str, child: str, context: str) -> None:
        prow, crow = self.resource(parent), self.resource(child)
        if crow["resc_parent"]:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"{child} already has a parent")
        if parent in self.hierarchy(int(prow["resc_id"])).split(";")[:-1] + [child]:
            raise IrodsError(CAT_INVALID_ARGUMENT, "a resource cannot be its own ancestor")
        self.run(
            "UPDATE resc SET resc_parent = ?, resc_parent_context = ? WHERE resc_id = ?",
            str(prow["resc_id"]), context, crow["resc_id"],
        )  # fmt: skip

    def remove_child(self, parent: str, child: str) -> None:
        prow, crow = self.resource(parent), self.resource(child)
        if crow["resc_parent"] != str(prow["resc_id"]):
            raise IrodsError(CAT_INVALID_ARGUMENT, f"{child} is not a child of {parent}")
        self.run(
            "UPDATE resc SET resc_parent = '', resc_parent_context = '' WHERE resc_id = ?",
            crow["resc_id"],
        )

    def hierarchy(self, resc_id: int) -> str:
        """``root;...;leaf`` for a resource, walking up the parents."""
        names: list[str] = []
        row: sqlite3.Row | None = self.resource_by_id(resc_id)
        while row is not None and len(names) < 32:
            names.insert(0, str(row["resc_name"]))
            parent = row["resc_parent"]
            row = self.one("SELECT * FROM resc WHERE resc_id = ?", int(parent)) if parent else None
        return ";".join(names)

    def children(self, resc_id: int) -> list[sqlite3.Row]:
        return self.all("SELECT * FROM resc WHERE resc_parent = ? ORDER BY resc_name", str(resc_id))

    def write_leaves(self, name: str) -> list[int]:
        """The leaf ids a new object written to resource ``name`` gets replicas on.

        As in iRODS, only the root of a hierarchy may be named (DIRECT_CHILD_ACCESS).
        """
        row = self.resource(name)
        if row["resc_parent"]:
            raise IrodsError(DIRECT_CHILD_ACCESS, f"{name} is not the root of its hierarchy")
        return self._leaves(row, everywhere=False)

    def leaf_of_hierarchy(self, hier: str) -> int:
        """The leaf id a ``root;...;leaf`` string names (which must be its hierarchy)."""
        leaf = self.resource(hier.split(";")[-1])
        if self.hierarchy(int(leaf["resc_id"])) != hier:
            raise IrodsError(HIERARCHY_ERROR, f"no such resource hierarchy: {hier}")
        return int(leaf["resc_id"])

    def check_room(self, leaf_id: int, size: int) -> None:
        """A leaf's ``minimum_free_space_for_create_in_bytes`` against its free space."""
        row = self.resource_by_id(leaf_id)
        context = dict(
            item.partition("=")[::2] for item in str(row["resc_context"]).split(";") if item
        )
        minimum = context.get("minimum_free_space_for_create_in_bytes", "")
        free = str(row["free_space"])
        if minimum.isdigit() and free.isdigit() and int(free) - max(size, 0) < int(minimum):
            raise IrodsError(USER_FILE_TOO_LARGE, f"not enough free space on {row['resc_name']}")
        vault = Path(str(row["resc_def_path"]))
        if vault.is_dir() and not os.access(vault, os.W_OK):
            # iRODS cannot create the replica's file there; nor may we pretend to.
            raise IrodsError(UNIX_FILE_CREATE_ERR - errno.EACCES, f"cannot write to {vault}")

    def _leaves(self, row: sqlite3.Row, everywhere: bool) -> list[int]:
        kids = self.children(int(row["resc_id"]))
        if not kids:
            if row["resc_type_name"] in COORDINATING:
                raise IrodsError(CAT_INVALID_RESOURCE, f"{row['resc_name']} has no children")
            return [int(row["resc_id"])]
        if everywhere or row["resc_type_name"] in SYNCED:
            return [leaf for kid in kids for leaf in self._leaves(kid, everywhere)]
        return self._leaves(kids[0], everywhere)

    def all_leaves(self, name: str) -> list[int]:
        """Every leaf below (or at) a resource."""
        return self._leaves(self.resource(name), everywhere=True)

    def root_of(self, resc_id: int) -> str:
        return self.hierarchy(resc_id).split(";")[0]
