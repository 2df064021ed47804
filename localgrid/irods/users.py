"""Users, groups, passwords (native, PAM stand-in, temporary) and the DN registry."""

from __future__ import annotations

import secrets
import sqlite3

from .catalog import Store, now
from .errors import (
    CAT_INVALID_ARGUMENT,
    CAT_INVALID_USER,
    CAT_INVALID_ZONE,
    CAT_SUCCESS_BUT_WITH_NO_INFO,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    IrodsError,
)

USER_TYPES = ("rodsadmin", "rodsuser", "groupadmin", "rodsgroup")
PUBLIC = "public"


class Users(Store):
    """User and group rows; every user and group also belongs to itself (as in ICAT)."""

    def user(self, name: str) -> sqlite3.Row | None:
        name, _, zone = name.partition("#")
        return self.one(
            "SELECT * FROM users WHERE user_name = ? AND zone_name = ?", name, zone or self.zone
        )

    def require_user(self, name: str) -> sqlite3.Row:
        row = self.user(name)
        if row is None:
            raise IrodsError(CAT_INVALID_USER, f"no such user: {name}")
        return row

    def group_ids(self, user_id: int) -> list[int]:
        """The user's own id and the ids of its groups."""
        rows = self.all("SELECT group_user_id FROM user_group WHERE user_id = ?", user_id)
        return [int(r[0]) for r in rows] or [user_id]

    def add_user(self, name: str, user_type: str, password: str = "") -> int:
        """Create a user or group; users join ``public`` and get a home (caller makes it).

        ``name#zone`` names a user of another zone, which must be registered (``add zone``).
        """
        name, _, zone = name.partition("#")
        zone = zone or self.zone
        if zone != self.zone and self.one("SELECT 1 FROM zones WHERE zone_name = ?", zone) is None:
            raise IrodsError(CAT_INVALID_ZONE, f"no such zone: {zone}")
        if user_type not in USER_TYPES:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad user type: {user_type}")
        if not name or any(c in name for c in "/ \t\n#"):
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad user name: {name!r}")
        with self.tx() as db:
            if self.user(f"{name}#{zone}") is not None:
                raise IrodsError(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME, f"user exists: {name}")
            uid = self.next_id()
            t = now()
            db.execute(
                "INSERT INTO users (user_id, user_name, user_type_name, zone_name, create_ts,"
                " modify_ts, password) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uid, name, user_type, zone, t, t, password),
            )
            db.execute("INSERT INTO user_group VALUES (?, ?)", (uid, uid))
            public = self.user(PUBLIC)
            if public is not None and user_type != "rodsgroup":
                db.execute("INSERT INTO user_group VALUES (?, ?)", (public["user_id"], uid))
        return uid

    def remove_user(self, name: str) -> None:
        row = self.require_user(name)
        uid = row["user_id"]
        with self.tx() as db:
            for table, col in (
                ("user_group", "user_id"),
                ("user_group", "group_user_id"),
                ("user_auth", "user_id"),
                ("access", "user_id"),
                ("temp_password", "user_id"),
            ):
                db.execute(f"DELETE FROM {table} WHERE {col} = ?", (uid,))
            db.execute("DELETE FROM pam_password WHERE user_name = ?", (row["user_name"],))
            db.execute(
                "DELETE FROM meta WHERE meta_id IN"
                " (SELECT meta_id FROM objt_metamap WHERE object_id = ?)",
                (uid,),
            )
            db.execute("DELETE FROM objt_metamap WHERE object_id = ?", (uid,))
            db.execute("DELETE FROM users WHERE user_id = ?", (uid,))

    def modify_user(self, name: str, option: str, value: str) -> None:
        """``iadmin moduser``: type, info, comment, password (already plain) or DNs."""
        row = self.require_user(name)
        uid = row["user_id"]
        column = {"type": "user_type_name", "info": "user_info", "comment": "r_comment"}
        if option == "password":
            self.run(
                "UPDATE users SET password = ?, modify_ts = ? WHERE user_id = ?", value, now(), uid
            )
        elif option in column:
            if option == "type" and value not in USER_TYPES:
                raise IrodsError(CAT_INVALID_ARGUMENT, f"bad user type: {value}")
            self.run(f"UPDATE users SET {column[option]} = ? WHERE user_id = ?", value, uid)
        elif option == "addAuth":
            self.run("INSERT OR IGNORE INTO user_auth VALUES (?, ?)", uid, value)
        elif option == "rmAuth":
            if not self.run(
                "DELETE FROM user_auth WHERE user_id = ? AND user_auth_name = ?", uid, value
            ):
                raise IrodsError(CAT_SUCCESS_BUT_WITH_NO_INFO, f"no such DN for {name}")
        else:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported user option: {option}")

    def set_membership(self, group: str, user: str, add: bool) -> None:
        gid = self.require_user(group)["user_id"]
        uid = self.require_user(user)["user_id"]
        if add:
            with self.tx() as db:
                if db.execute(
                    "SELECT 1 FROM user_group WHERE group_user_id = ? AND user_id = ?", (gid, uid)
                ).fetchone():
                    raise IrodsError(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME, f"{user} is in {group}")
                db.execute("INSERT INTO user_group VALUES (?, ?)", (gid, uid))
        elif not self.run(
            "DELETE FROM user_group WHERE group_user_id = ? AND user_id = ?", gid, uid
        ):
            raise IrodsError(CAT_SUCCESS_BUT_WITH_NO_INFO, f"{user} is not in {group}")

    def set_pam_password(self, user: str, password: str) -> None:
        self.run("INSERT OR REPLACE INTO pam_password VALUES (?, ?)", user, password)

    def pam_password(self, user: str) -> str | None:
        row = self.one("SELECT password FROM pam_password WHERE user_name = ?", user)
        return None if row is None else str(row[0])

    def issue_temp_password(self, user_id: int, ttl_seconds: int) -> str:
        """A generated native password, as PAM logins hand out."""
        password = secrets.token_hex(16)
        self.issue_temp_password_value(user_id, password, ttl_seconds)
        return password

    def issue_temp_password_value(self, user_id: int, password: str, ttl_seconds: int) -> None:
        with self.tx() as db:
            db.execute("DELETE FROM temp_password WHERE expiry < ?", (now(),))
            db.execute(
                "INSERT OR REPLACE INTO temp_password VALUES (?, ?, ?)",
                (user_id, password, now() + ttl_seconds),
            )

    def passwords(self, user_id: int) -> list[str]:
        """Every native password the user may log in with right now."""
        row = self.one("SELECT password FROM users WHERE user_id = ?", user_id)
        found = [str(row[0])] if row is not None and row[0] else []
        temps = self.all(
            "SELECT password FROM temp_password WHERE user_id = ? AND expiry >= ?", user_id, now()
        )
        return found + [str(r[0]) for r in temps]

    def home_name(self, row: sqlite3.Row) -> str:
        """The name a user's home and trash collections carry (``name#zone`` if remote)."""
        if row["zone_name"] == self.zone:
            return str(row["user_name"])
        return f"{row['user_name']}#{row['zone_name']}"

    def add_zone(self, name: str, zone_type: str, connection: str, comment: str) -> None:
        if not name or "/" in name or "#" in name:
            raise IrodsError(CAT_INVALID_ARGUMENT, f"bad zone name: {name!r}")
        if zone_type != "remote":
            raise IrodsError(CAT_INVALID_ARGUMENT, "only remote zones may be added")
        with self.tx() as db:
            if self.one("SELECT 1 FROM zones WHERE zone_name = ?", name) is not None:
                raise IrodsError(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME, f"zone exists: {name}")
            t = now()
            db.execute(
                "INSERT INTO zones VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.next_id(), name, zone_type, connection, comment, t, t),
            )

    def remove_zone(self, name: str) -> None:
        if name == self.zone:
            raise IrodsError(CAT_INVALID_ARGUMENT, "the local zone cannot be removed")
        with self.tx():
            if self.one("SELECT 1 FROM users WHERE zone_name = ?", name) is not None:
                raise IrodsError(CAT_INVALID_ARGUMENT, f"zone {name} still has users")
            if not self.run("DELETE FROM zones WHERE zone_name = ?", name):
                raise IrodsError(CAT_INVALID_ZONE, f"no such zone: {name}")
