"""AVU metadata on data objects, collections, resources and users, and the seeded zone."""

from __future__ import annotations

from pathlib import Path

from . import specific
from .access import Actor
from .catalog import ACCESS_LEVELS, OWN, READ, now
from .errors import (
    CAT_INVALID_ARGUMENT,
    CAT_SUCCESS_BUT_WITH_NO_INFO,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    IrodsError,
)
from .trash import Trash
from .users import PUBLIC

ADD_META = ACCESS_LEVELS["create_metadata"]
DELETE_META = ACCESS_LEVELS["delete_metadata"]


class Catalog(Trash):
    """The whole catalog: users, namespace, ACLs and AVUs, seeded on first start."""

    def __init__(self, data_dir: Path, zone: str = "tempZone", admin_password: str = "rods"):
        super().__init__(data_dir, zone)
        if self.one("SELECT 1 FROM users LIMIT 1") is None:
            self._seed(admin_password)
        specific.seed(self)

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
            # As in iRODS, the group ``public`` owns its home (and rods keeps no ACL on it).
            home_public = self.insert_coll(f"/{z}/home/{PUBLIC}", self.actor(PUBLIC), None)
            self.grant(home_public, public, OWN)

    def home_paths(self, name: str) -> tuple[str, str]:
        """A user's home and trash collections (``name`` may be ``user#zone``)."""
        home = self.home_name(self.require_user(name))
        return f"/{self.zone}/home/{home}", f"/{self.zone}/trash/home/{home}"

    def make_home(self, name: str) -> None:
        """Create the user's home and trash collections, owned by the user (``iadmin mkuser``)."""
        owner = self.actor(name)
        for path in self.home_paths(name):
            if self.coll(path) is None:
                self.insert_coll(path, owner, None)

    def remove_user_and_homes(self, name: str) -> list[Path]:
        """``iadmin rmuser``: the user's home and trash go with it (contents included)."""
        files: list[Path] = []
        with self.tx():
            row = self.require_user(name)
            if row["user_type_name"] != "rodsgroup":
                rods = self.actor("rods")
                for path in self.home_paths(name):
                    if self.coll(path) is not None:
                        files += self.remove_coll(rods, path, recursive=True)
            self.remove_user(name)
        return files

    # --- AVUs ----------------------------------------------------------------------------

    def avu_target(self, actor: Actor, kind: str, name: str, needed: int) -> int:
        """The object id an imeta-style ``-d/-C/-R/-u`` target names, after checking rights."""
        kind = kind.lstrip("-")[:1].lower()
        if kind == "d":
            object_id = int(self.require_data(name)["data_id"])
        elif kind == "c":
            object_id = int(self.require_coll(name)["coll_id"])
        elif kind == "r":
            object_id = int(self.resource(name)["resc_id"])
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
        """``imeta set``: the first AVU of that name takes the new value and units (keeping
        its creation time); any others of that name go."""
        if not attr or not value:
            raise IrodsError(CAT_INVALID_ARGUMENT, "attribute and value must not be empty")
        rows = self.all(
            "SELECT m.meta_id FROM meta m JOIN objt_metamap o ON o.meta_id = m.meta_id"
            " WHERE o.object_id = ? AND m.meta_attr_name = ? ORDER BY m.meta_id",
            object_id, attr,
        )  # fmt: skip
        if not rows:
            self.add_avu(object_id, attr, value, unit)
            return
        with self.tx() as db:
            for extra in rows[1:]:
                db.execute("DELETE FROM objt_metamap WHERE meta_id = ?", (extra[0],))
                db.execute("DELETE FROM meta WHERE meta_id = ?", (extra[0],))
            db.execute(
                "UPDATE meta SET meta_attr_value = ?, meta_attr_unit = ?, modify_ts = ?"
                " WHERE meta_id = ?",
                (value, unit, now(), rows[0][0]),
            )

    def remove_unused_avus(self) -> int:
        """``iadmin rum``: drop AVU rows no object refers to (here every AVU has one owner)."""
        return self.run("DELETE FROM meta WHERE meta_id NOT IN (SELECT meta_id FROM objt_metamap)")

    def copy_avus(self, src_id: int, dst_id: int) -> None:
        with self.tx():
            for attr, value, unit in self.avus(src_id):
                if (attr, value, unit) not in self.avus(dst_id):
                    self.add_avu(dst_id, attr, value, unit)
