"""The namespace: collections and data objects in the catalog, files in the vault.

Physical files are named by data id (``vault/<id % 256>/<id>``), so renames of objects and
whole collections are catalog updates only. Permissions: reading needs ``read_object``,
changing or removing an object needs ``modify_object``, creating in a collection needs
``modify_object`` on it; rodsadmin passes every check, as in iRODS.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from .access import Access, Actor
from .catalog import OWN, READ, RESOURCE, RESOURCE_ID, WRITE, norm_path, now, split_path
from .errors import (
    CAT_COLLECTION_NOT_EMPTY,
    CAT_NAME_EXISTS_AS_COLLECTION,
    CAT_NAME_EXISTS_AS_DATAOBJ,
    CAT_NO_ACCESS_PERMISSION,
    CAT_UNKNOWN_COLLECTION,
    CAT_UNKNOWN_FILE,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    OVERWRITE_WITHOUT_FORCE_FLAG,
    SAME_SRC_DEST_PATHS_ERR,
    USER_INPUT_PATH_ERR,
    IrodsError,
)

DATA_SELECT = (
    "SELECT d.*, c.coll_name FROM data d JOIN colls c ON c.coll_id = d.coll_id"
    " WHERE c.coll_name = ? AND d.data_name = ?"
)


def _under(column: str) -> str:
    """SQL matching ``column`` strictly below the path bound twice (no LIKE escaping)."""
    return f"substr({column}, 1, length(?) + 1) = ? || '/'"


class Tree(Access):
    """Collections and data objects."""

    def vault_path(self, data_id: int) -> Path:
        return self.vault / f"{data_id % 256:03d}" / str(data_id)

    def coll(self, path: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM colls WHERE coll_name = ?", norm_path(path))

    def data(self, path: str) -> sqlite3.Row | None:
        parent, name = split_path(norm_path(path))
        return self.one(DATA_SELECT, parent, name)

    def require_coll(self, path: str) -> sqlite3.Row:
        row = self.coll(path)
        if row is None:
            raise IrodsError(CAT_UNKNOWN_COLLECTION, f"no such collection: {path}")
        return row

    def require_data(self, path: str) -> sqlite3.Row:
        row = self.data(path)
        if row is None:
            raise IrodsError(CAT_UNKNOWN_FILE, f"no such data object: {path}")
        return row

    def _check_free(self, path: str) -> None:
        if self.coll(path) is not None:
            raise IrodsError(CAT_NAME_EXISTS_AS_COLLECTION, f"a collection is named {path}")
        if self.data(path) is not None:
            raise IrodsError(CAT_NAME_EXISTS_AS_DATAOBJ, f"a data object is named {path}")

    def _check_in_zone(self, path: str) -> None:
        if path != f"/{self.zone}" and not path.startswith(f"/{self.zone}/"):
            raise IrodsError(USER_INPUT_PATH_ERR, f"path outside zone {self.zone}: {path}")

    # --- collections ---------------------------------------------------------------------

    def insert_coll(self, path: str, owner: Actor, parent_id: int | None) -> int:
        cid = self.next_id()
        t = now()
        parent = split_path(path)[0] if path != "/" else "/"
        inherit = ""
        if parent_id is not None:
            row = self.one("SELECT coll_inheritance FROM colls WHERE coll_id = ?", parent_id)
            inherit = row[0] if row is not None else ""
        self.run(
            "INSERT INTO colls (coll_id, coll_name, parent_coll_name, coll_owner_name,"
            " coll_owner_zone, coll_inheritance, create_ts, modify_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            cid, path, parent, owner.name, owner.zone, inherit, t, t,
        )  # fmt: skip
        self.grant(cid, owner.user_id, OWN)
        if parent_id is not None:
            self.inherit(parent_id, cid)
        return cid

    def create_coll(self, actor: Actor, path: str, recursive: bool) -> None:
        path = norm_path(path)
        self._check_in_zone(path)
        with self.tx():
            if self.coll(path) is not None:
                if recursive:
                    return
                raise IrodsError(
                    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME, f"collection exists: {path}"
                )
            if self.data(path) is not None:
                raise IrodsError(CAT_NAME_EXISTS_AS_DATAOBJ, f"a data object is named {path}")
            parent_path = split_path(path)[0]
            parent = self.coll(parent_path)
            if parent is None:
                if not recursive:
                    raise IrodsError(CAT_UNKNOWN_COLLECTION, f"no parent collection: {parent_path}")
                self.create_coll(actor, parent_path, True)
                parent = self.require_coll(parent_path)
            self.require(actor, parent["coll_id"], WRITE, f"create in {parent_path}")
            self.insert_coll(path, actor, parent["coll_id"])

    def remove_coll(self, actor: Actor, path: str, recursive: bool) -> list[Path]:
        """Remove a collection (and its tree when recursive); returns vault files to delete."""
        row = self.require_coll(path)
        path = row["coll_name"]
        if path.count("/") <= 2:
            raise IrodsError(CAT_NO_ACCESS_PERMISSION, f"cannot remove {path}")
        with self.tx() as db:
            colls = db.execute(
                f"SELECT coll_id FROM colls WHERE coll_name = ? OR {_under('coll_name')}",
                (path, path, path),
            ).fetchall()
            coll_ids = [int(r[0]) for r in colls]
            marks = ",".join("?" * len(coll_ids))
            data_ids = [
                int(r[0])
                for r in db.execute(
                    f"SELECT data_id FROM data WHERE coll_id IN ({marks})", coll_ids
                )
            ]
            if not recursive and (len(coll_ids) > 1 or data_ids):
                raise IrodsError(CAT_COLLECTION_NOT_EMPTY, f"collection not empty: {path}")
            parent = self.require_coll(split_path(path)[0])
            self.require(actor, parent["coll_id"], WRITE, f"remove from {parent['coll_name']}")
            for object_id in coll_ids + data_ids:
                self.require(actor, object_id, WRITE, f"remove {path}")
            self._forget(coll_ids + data_ids)
            db.execute(f"DELETE FROM data WHERE coll_id IN ({marks})", coll_ids)
            db.execute(f"DELETE FROM colls WHERE coll_id IN ({marks})", coll_ids)
        return [self.vault_path(i) for i in data_ids]

    def subtree_ids(self, path: str) -> list[int]:
        """Ids of every collection and data object strictly below a collection."""
        path = norm_path(path)
        colls = self.all(f"SELECT coll_id FROM colls WHERE {_under('coll_name')}", path, path)
        below = [int(r[0]) for r in colls]
        top = self.require_coll(path)["coll_id"]
        marks = ",".join("?" * (len(below) + 1))
        data = self.all(f"SELECT data_id FROM data WHERE coll_id IN ({marks})", top, *below)
        return below + [int(r[0]) for r in data]

    def _forget(self, object_ids: list[int]) -> None:
        """Drop the ACL and AVU rows of objects about to be deleted."""
        with self.tx() as db:
            for start in range(0, len(object_ids), 500):
                chunk = object_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM access WHERE object_id IN ({marks})", chunk)
                db.execute(
                    f"DELETE FROM meta WHERE meta_id IN (SELECT meta_id FROM objt_metamap"
                    f" WHERE object_id IN ({marks}))",
                    chunk,
                )
                db.execute(f"DELETE FROM objt_metamap WHERE object_id IN ({marks})", chunk)

    def rename_coll(self, actor: Actor, src: str, dst: str) -> None:
        src, dst = norm_path(src), norm_path(dst)
        self._check_in_zone(dst)
        with self.tx() as db:
            row = self.require_coll(src)
            if src == dst:
                raise IrodsError(SAME_SRC_DEST_PATHS_ERR, "source and destination are the same")
            if dst.startswith(src + "/"):
                raise IrodsError(USER_INPUT_PATH_ERR, "cannot move a collection into itself")
            self._check_free(dst)
            dst_parent = self.require_coll(split_path(dst)[0])
            self.require(actor, row["coll_id"], WRITE, f"rename {src}")
            self.require(
                actor, dst_parent["coll_id"], WRITE, f"create in {dst_parent['coll_name']}"
            )
            n = len(src)
            db.execute(
                f"UPDATE colls SET coll_name = ? || substr(coll_name, ?),"
                f" parent_coll_name = ? || substr(parent_coll_name, ?) WHERE {_under('coll_name')}",
                (dst, n + 1, dst, n + 1, src, src),
            )
            db.execute(
                "UPDATE colls SET coll_name = ?, parent_coll_name = ?, modify_ts = ?"
                " WHERE coll_id = ?",
                (dst, dst_parent["coll_name"], now(), row["coll_id"]),
            )

    # --- data objects --------------------------------------------------------------------

    def create_data(self, actor: Actor, path: str, data_type: str = "generic") -> sqlite3.Row:
        """Register a new, empty replica (status 2, intermediate) and its vault file."""
        path = norm_path(path)
        self._check_in_zone(path)
        parent_path, name = split_path(path)
        with self.tx() as db:
            parent = self.require_coll(parent_path)
            if self.coll(path) is not None:
                raise IrodsError(CAT_NAME_EXISTS_AS_COLLECTION, f"a collection is named {path}")
            self.require(actor, parent["coll_id"], WRITE, f"create in {parent_path}")
            did = self.next_id()
            vault = self.vault_path(did)
            vault.parent.mkdir(parents=True, exist_ok=True)
            vault.touch()
            t = now()
            db.execute(
                "INSERT INTO data (data_id, coll_id, data_name, data_type_name, resc_name,"
                " data_path, data_owner_name, data_owner_zone, data_is_dirty, create_ts, modify_ts,"
                " resc_hier, resc_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2, ?, ?, ?, ?)",
                (did, parent["coll_id"], name, data_type or "generic", RESOURCE, str(vault),
                 actor.name, actor.zone, t, t, RESOURCE, RESOURCE_ID),
            )  # fmt: skip
            self.grant(did, actor.user_id, OWN)
            self.inherit(parent["coll_id"], did)
            return self.require_data(path)

    def finalize(self, data_id: int, size: int, checksum: str | None = None) -> None:
        """Close of a written replica: size, good status, modify time, checksum reset."""
        self.run(
            "UPDATE data SET data_size = ?, data_is_dirty = 1, modify_ts = ?, data_checksum = ?"
            " WHERE data_id = ?",
            size, now(), checksum or "", data_id,
        )  # fmt: skip

    def unlink(self, actor: Actor, path: str) -> Path:
        row = self.data(path)
        if row is None:
            raise IrodsError(CAT_UNKNOWN_FILE, f"no such data object: {path}")
        self.require(actor, row["data_id"], WRITE, f"remove {path}")
        with self.tx() as db:
            self._forget([row["data_id"]])
            db.execute("DELETE FROM data WHERE data_id = ?", (row["data_id"],))
        return self.vault_path(row["data_id"])

    def rename_data(self, actor: Actor, src: str, dst: str) -> None:
        src, dst = norm_path(src), norm_path(dst)
        self._check_in_zone(dst)
        dst_parent_path, dst_name = split_path(dst)
        with self.tx() as db:
            row = self.require_data(src)
            if src == dst:
                raise IrodsError(SAME_SRC_DEST_PATHS_ERR, "source and destination are the same")
            self._check_free(dst)
            parent = self.require_coll(dst_parent_path)
            self.require(actor, row["data_id"], WRITE, f"rename {src}")
            self.require(actor, parent["coll_id"], WRITE, f"create in {dst_parent_path}")
            db.execute(
                "UPDATE data SET coll_id = ?, data_name = ? WHERE data_id = ?",
                (parent["coll_id"], dst_name, row["data_id"]),
            )

    def copy_data(self, actor: Actor, src: str, dst: str, force: bool) -> None:
        """Server-side copy: a new object (owned by the actor) with the same bytes."""
        source = self.require_data(src)
        self.require(actor, source["data_id"], READ, f"read {src}")
        with self.tx():
            existing = self.data(dst)
            if existing is not None:
                if not force:
                    raise IrodsError(OVERWRITE_WITHOUT_FORCE_FLAG, f"{dst} exists")
                self.require(actor, existing["data_id"], WRITE, f"overwrite {dst}")
                target = existing
            else:
                target = self.create_data(actor, dst, source["data_type_name"])
        tmp = self.vault_path(target["data_id"]).with_suffix(".copy")
        shutil.copyfile(self.vault_path(source["data_id"]), tmp)
        os.replace(tmp, self.vault_path(target["data_id"]))
        self.finalize(target["data_id"], source["data_size"], source["data_checksum"])
