"""AVU metadata on data objects, collections, resources and users, and the seeded zone."""

from __future__ import annotations

from pathlib import Path

from .access import Actor
from .catalog import ACCESS_LEVELS, READ, RESOURCE, RESOURCE_ID, now
from .errors import (
    CAT_INVALID_ARGUMENT,
    CAT_SUCCESS_BUT_WITH_NO_INFO,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    IrodsError,
)
from .tree import Tree
from .users import PUBLIC

ADD_META = ACCESS_LEVELS["create_metadata"]
DELETE_META = ACCESS_LEVELS["delete_metadata"]


class Catalog(Tree):
    """The whole catalog: users, namespace, ACLs and AVUs, seeded on first start."""

    def __init__(self, data_dir: Path, zone: str = "tempZone", admin_password: str = "rods"):
        super().__init__(data_dir, zone)
        if self.one("SELECT 1 FROM users LIMIT 1") is None:
            self._seed(admin_password)

    def _seed(self, admin_password: str) -> None:
        z = self.zone
        with self.tx():
            self.seed_resource()
            self.add_user(PUBLIC, "rodsgroup")
            self.add_user("rods", "rodsadmin", admin_password)
            rods = self.actor("rods")
            public = self.require_user(PUBLIC)["user_id"]
            parent: int | None = None
            for path in ("/", f"/{z}", f"/{z}/home", f"/{z}/trash", f"/{z}/trash/home"):
                parent = self.insert_coll(path, rods, parent if path != f"/{z}/trash" else None)
                if path in ("/", f"/{z}", f"/{z}/home"):
                    self.grant(parent, public, READ)
            self.make_home("rods")
            home_public = self.insert_coll(f"/{z}/home/{PUBLIC}", rods, None)
            self.grant(home_public, public, READ)

    def make_home(self, name: str) -> None:
        """Create the user's home collection, owned by the user (as ``iadmin mkuser``)."""
        owner = self.actor(name)
        path = f"/{self.zone}/home/{owner.name}"
        if self.coll(path) is None:
            self.insert_coll(path, owner, None)

    # --- AVUs ----------------------------------------------------------------------------

    def avu_target(self, actor: Actor, kind: str, name: str, needed: int) -> int:
        """The object id an imeta-style ``-d/-C/-R/-u`` target names, after checking rights."""
        kind = kind.lstrip("-")[:1].lower()
        if kind == "d":
            object_id = int(self.require_data(name)["data_id"])
        elif kind == "c":
            object_id = int(self.require_coll(name)["coll_id"])
        elif kind == "r":
            if name != RESOURCE:
                raise IrodsError(CAT_INVALID_ARGUMENT, f"no such resource: {name}")
            object_id = RESOURCE_ID
        elif kind == "u":
            object_id = int(self.require_user(name)["user_id"])
        else:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad target type: {kind}")
        if kind in "dc":
            self.require(actor, object_id, needed, f"change metadata of {name}")
        else:
            self.require(actor, -1, needed, f"change metadata of {name}")
        return object_id

    def avus(self, object_id: int) -> list[tuple[str, str, str]]:
        rows = self.all(
            "SELECT m.meta_attr_name, m.meta_attr_value, m.meta_attr_unit FROM meta m JOIN"
            " objt_metamap o ON o.meta_id = m.meta_id WHERE o.object_id = ?",
            object_id,
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def add_avu(self, object_id: int, attr: str, value: str, unit: str = "") -> None:
        if not attr or not value:
            raise IrodsError(CAT_INVALID_ARGUMENT, "attribute and value must not be empty")
        with self.tx() as db:
            if (attr, value, unit) in self.avus(object_id):
                raise IrodsError(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME, f"AVU exists: {attr}")
            mid = self.next_id()
            t = now()
            db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)", (mid, attr, value, unit, t, t))
            db.execute("INSERT INTO objt_metamap VALUES (?, ?)", (object_id, mid))

    def remove_avu(
        self, object_id: int, attr: str, value: str | None, unit: str | None, like: bool = False
    ) -> int:
        """Remove matching AVUs (value/unit None match anything); 0 removed is an error."""
        op = "LIKE" if like else "="
        sql = (
            "SELECT m.meta_id FROM meta m JOIN objt_metamap o ON o.meta_id = m.meta_id"
            f" WHERE o.object_id = ? AND m.meta_attr_name {op} ?"
        )
        args: list[object] = [object_id, attr]
        if value is not None:
            sql += f" AND m.meta_attr_value {op} ?"
            args.append(value)
        if unit is not None:
            sql += " AND m.meta_attr_unit = ?"
            args.append(unit)
        with self.tx() as db:
            ids = [r[0] for r in db.execute(sql, args).fetchall()]
            if not ids:
                raise IrodsError(CAT_SUCCESS_BUT_WITH_NO_INFO, f"no such AVU: {attr}")
            for mid in ids:
                db.execute("DELETE FROM objt_metamap WHERE meta_id = ?", (mid,))
                db.execute("DELETE FROM meta WHERE meta_id = ?", (mid,))
        return len(ids)

    def set_avu(self, object_id: int, attr: str, value: str, unit: str = "") -> None:
        with self.tx():
            try:
                self.remove_avu(object_id, attr, None, None)
            except IrodsError:
                pass
            self.add_avu(object_id, attr, value, unit)

    def copy_avus(self, src_id: int, dst_id: int) -> None:
        with self.tx():
            for attr, value, unit in self.avus(src_id):
                if (attr, value, unit) not in self.avus(dst_id):
                    self.add_avu(dst_id, attr, value, unit)
