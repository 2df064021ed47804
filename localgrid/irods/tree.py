"""The namespace: collections and data objects in the catalog, files in the vault.

Physical files live in a folder per data id (``<resource vault>/<id % 256>/<id>/<name>``),
so renames of objects and whole collections are catalog updates only. Permissions: reading
needs ``read_object``, changing or removing an object needs ``modify_object``, creating in a
collection needs ``modify_object`` on it; rodsadmin passes every check, as in iRODS.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .access import Access, Actor
from .catalog import OWN, WRITE, norm_path, now, split_path
from .errors import (
    CAT_COLLECTION_NOT_EMPTY,
    CAT_NAME_EXISTS_AS_COLLECTION,
    CAT_NAME_EXISTS_AS_DATAOBJ,
    CAT_NO_ACCESS_PERMISSION,
    CAT_UNKNOWN_COLLECTION,
    CAT_UNKNOWN_FILE,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
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
    """Collections, and looking data objects up (objects.py changes them)."""

    def vault_file(self, data_id: int, resc_id: int, name: str) -> Path:
        """Where a new replica's bytes go: ``<leaf's folder>/<id % 256>/<id>/<name>`` (the
        physical name ends with the object's name at creation, as in an iRODS vault)."""
        safe = name if len(name.encode()) <= 200 and name not in (".", "..") else "data"
        return self.resource_vault(resc_id) / f"{data_id % 256:03d}" / str(data_id) / safe

    def coll(self, path: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM colls WHERE coll_name = ?", norm_path(path))

    def replicas(self, path: str) -> list[sqlite3.Row]:
        """Every replica of a data object, by replica number."""
        parent, name = split_path(norm_path(path))
        return self.all(DATA_SELECT + " ORDER BY d.data_repl_num", parent, name)

    def data(self, path: str) -> sqlite3.Row | None:
        """The replica iRODS would pick: the first good one, else the first one."""
        rows = self.replicas(path)
        good = [r for r in rows if r["data_is_dirty"] == 1]
        candidates = good or rows
        return candidates[0] if candidates else None

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

    def remove_coll(
        self, actor: Actor, path: str, recursive: bool, trash_to: str = ""
    ) -> list[Path]:
        """Remove a collection (and its tree when recursive); returns vault files to delete.

        With ``trash_to`` the tree moves there instead (its parent must exist).
        """
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
            rows = db.execute(
                f"SELECT data_id, data_path FROM data WHERE coll_id IN ({marks})", coll_ids
            ).fetchall()
            data_ids = sorted({int(r[0]) for r in rows})
            if not recursive and (len(coll_ids) > 1 or data_ids):
                raise IrodsError(CAT_COLLECTION_NOT_EMPTY, f"collection not empty: {path}")
            parent = self.require_coll(split_path(path)[0])
            self.require(actor, parent["coll_id"], WRITE, f"remove from {parent['coll_name']}")
            for object_id in coll_ids + data_ids:
                self.require(actor, object_id, WRITE, f"remove {path}")
            if trash_to:
                self.move_coll_rows(path, trash_to)
                return []
            self._forget(coll_ids + data_ids)
            db.execute(f"DELETE FROM data WHERE coll_id IN ({marks})", coll_ids)
            db.execute(f"DELETE FROM colls WHERE coll_id IN ({marks})", coll_ids)
        return [Path(r[1]) for r in rows]

    def subtree_ids(self, path: str) -> list[int]:
        """Ids of every collection and data object strictly below a collection."""
        path = norm_path(path)
        colls = self.all(f"SELECT coll_id FROM colls WHERE {_under('coll_name')}", path, path)
        below = [int(r[0]) for r in colls]
        top = self.require_coll(path)["coll_id"]
        marks = ",".join("?" * (len(below) + 1))
        data = self.all(
            f"SELECT DISTINCT data_id FROM data WHERE coll_id IN ({marks})", top, *below
        )
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
        with self.tx():
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
            self.move_coll_rows(src, dst)

    def move_coll_rows(self, src: str, dst: str) -> None:
        """Rename a collection and everything below it (no checks: callers make them)."""
        n = len(src)
        with self.tx() as db:
            db.execute(
                f"UPDATE colls SET coll_name = ? || substr(coll_name, ?),"
                f" parent_coll_name = ? || substr(parent_coll_name, ?) WHERE {_under('coll_name')}",
                (dst, n + 1, dst, n + 1, src, src),
            )
            db.execute(
                "UPDATE colls SET coll_name = ?, parent_coll_name = ?, modify_ts = ?"
                " WHERE coll_name = ?",
                (dst, split_path(dst)[0], now(), src),
            )
