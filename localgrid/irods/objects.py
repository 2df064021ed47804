"""Data objects and their replicas: one catalog row per replica, as in the ICAT.

A replica lives on one leaf resource; its status is 1 (good), 0 (stale) or 2 (being
written). Writing one replica and closing it makes the others stale, except the siblings
under the same replication resource, which the zone brings up to date at once (as a
replication resource does on close). Replica choice for opens follows the keywords iRODS
reads: ``replNum``, ``resc_hier``, ``rescName``/``destRescName``, else the first good one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from .access import Actor
from .catalog import OWN, READ, RESOURCE, WRITE, norm_path, now, split_path
from .errors import (
    CAT_NAME_EXISTS_AS_COLLECTION,
    CAT_UNKNOWN_FILE,
    OVERWRITE_WITHOUT_FORCE_FLAG,
    SAME_SRC_DEST_PATHS_ERR,
    SYS_REPLICA_DOES_NOT_EXIST,
    IrodsError,
)
from .resources import SYNCED
from .tree import Tree

STALE, GOOD, WRITING = 0, 1, 2
RESOURCE_KEYWORDS = ("rescName", "destRescName", "defRescName")


def resource_named(kw: dict[str, str], default: str = "") -> str:
    """The resource a request names, in iRODS's order of precedence."""
    for key in RESOURCE_KEYWORDS:
        if kw.get(key):
            return kw[key]
    return default


class Objects(Tree):
    """Create, choose, finalise, replicate, trim, rename, copy and remove replicas."""

    def _insert_replica(
        self, src: sqlite3.Row | dict[str, object], repl_num: int, leaf_id: int, status: int
    ) -> sqlite3.Row:
        did = int(str(src["data_id"]))
        vault = self.vault_file(did, leaf_id, str(src["data_name"]))
        vault.parent.mkdir(parents=True, exist_ok=True)
        vault.touch()
        leaf = self.resource_by_id(leaf_id)
        t = now()
        self.run(
            "INSERT INTO data (data_id, coll_id, data_name, data_repl_num, data_type_name,"
            " data_size, resc_name, data_path, data_owner_name, data_owner_zone, data_is_dirty,"
            " data_checksum, create_ts, modify_ts, resc_hier, resc_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            did, src["coll_id"], src["data_name"], repl_num, src["data_type_name"],
            src.get("data_size", 0) if isinstance(src, dict) else src["data_size"],
            leaf["resc_name"], str(vault), src["data_owner_name"], src["data_owner_zone"],
            status, "", t, t, self.hierarchy(leaf_id), leaf_id,
        )  # fmt: skip
        row = self.one(
            "SELECT d.*, c.coll_name FROM data d JOIN colls c ON c.coll_id = d.coll_id"
            " WHERE d.data_id = ? AND d.data_repl_num = ?",
            did, repl_num,
        )  # fmt: skip
        assert row is not None
        return row

    def create_data(
        self, actor: Actor, path: str, data_type: str = "generic", resource: str = RESOURCE,
        leaves: list[int] | None = None, size: int = 0,
    ) -> sqlite3.Row:  # fmt: skip
        """Register a new, empty object: one replica (status 2) per leaf the resource writes."""
        path = norm_path(path)
        self._check_in_zone(path)
        parent_path, name = split_path(path)
        leaves = leaves or self.write_leaves(resource or RESOURCE)
        for leaf in leaves:
            self.check_room(leaf, size)
        with self.tx():
            parent = self.require_coll(parent_path)
            if self.coll(path) is not None:
                raise IrodsError(CAT_NAME_EXISTS_AS_COLLECTION, f"a collection is named {path}")
            self.require(actor, parent["coll_id"], WRITE, f"create in {parent_path}")
            fields: dict[str, object] = {
                "data_id": self.next_id(), "coll_id": parent["coll_id"], "data_name": name,
                "data_type_name": data_type or "generic", "data_owner_name": actor.name,
                "data_owner_zone": actor.zone,
            }  # fmt: skip
            rows = [self._insert_replica(fields, n, leaf, WRITING) for n, leaf in enumerate(leaves)]
            self.grant(int(str(fields["data_id"])), actor.user_id, OWN)
            self.inherit(parent["coll_id"], int(str(fields["data_id"])))
            return rows[0]

    def register_file(self, actor: Actor, path: str, physical: Path, resource: str) -> None:
        """PHY_PATH_REG: a new object whose one replica is an existing file, left in place."""
        with self.tx():
            row = self.create_data(actor, path, leaves=self.write_leaves(resource)[:1])
            Path(row["data_path"]).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                Path(row["data_path"]).parent.rmdir()
            self.run(
                "UPDATE data SET data_path = ?, data_size = ?, data_is_dirty = 1"
                " WHERE data_id = ?",
                str(physical), physical.stat().st_size, row["data_id"],
            )  # fmt: skip

    def add_replica(self, source: sqlite3.Row, leaf_id: int, status: int) -> sqlite3.Row:
        """A new replica of an object on a leaf, numbered after the highest one."""
        with self.tx():
            top = self.one(
                "SELECT MAX(data_repl_num) FROM data WHERE data_id = ?", source["data_id"]
            )
            number = int(top[0]) + 1 if top is not None and top[0] is not None else 0
            return self._insert_replica(source, number, leaf_id, status)

    def pick_replica(self, path: str, kw: dict[str, str], strict: bool) -> sqlite3.Row | None:
        """The replica a request's keywords name; None if a named resource has none.

        ``strict`` makes a named replica number or resource that holds no replica an error.
        """
        rows = self.replicas(path)
        if not rows:
            return None
        chosen: list[sqlite3.Row] | None = None
        if kw.get("replNum", "") != "":
            chosen = [r for r in rows if str(r["data_repl_num"]) == kw["replNum"].strip()]
        elif kw.get("resc_hier"):
            chosen = [r for r in rows if r["resc_hier"] == kw["resc_hier"]]
        elif resource_named(kw):
            name = resource_named(kw)
            chosen = [r for r in rows if name in r["resc_hier"].split(";")]
        if chosen is None:
            return self.data(path)
        good = [r for r in chosen if r["data_is_dirty"] == GOOD]
        if not chosen and strict:
            raise IrodsError(SYS_REPLICA_DOES_NOT_EXIST, f"no such replica of {path}")
        candidates = good or chosen
        return candidates[0] if candidates else None

    def finalize(self, data_id: int, repl_num: int, size: int, checksum: str | None = None) -> None:
        """Close of a written replica: good, size, time, checksum; other replicas go stale."""
        with self.tx() as db:
            db.execute(
                "UPDATE data SET data_size = ?, data_is_dirty = 1, modify_ts = ?,"
                " data_checksum = ? WHERE data_id = ? AND data_repl_num = ?",
                (size, now(), checksum or "", data_id, repl_num),
            )
            db.execute(
                "UPDATE data SET data_is_dirty = 0 WHERE data_id = ? AND data_repl_num <> ?",
                (data_id, repl_num),
            )
            self._sync_replication_siblings(data_id, repl_num)

    def _sync_replication_siblings(self, data_id: int, repl_num: int) -> None:
        rows = self.all("SELECT * FROM data WHERE data_id = ?", data_id)
        written = next(r for r in rows if r["data_repl_num"] == repl_num)
        hier = written["resc_hier"].split(";")
        if len(hier) < 2 or self.resource(hier[0])["resc_type_name"] not in SYNCED:
            return
        for row in rows:
            if row["data_repl_num"] != repl_num and row["resc_hier"].split(";")[0] == hier[0]:
                self.copy_replica(written, row)

    def copy_replica(self, source: sqlite3.Row, target: sqlite3.Row) -> None:
        """Bring one replica up to date from another (bytes, size, checksum, status)."""
        tmp = Path(target["data_path"]).parent / ".copying"
        shutil.copyfile(source["data_path"], tmp)
        os.replace(tmp, target["data_path"])
        self.run(
            "UPDATE data SET data_size = ?, data_checksum = ?, data_is_dirty = 1, modify_ts = ?"
            " WHERE data_id = ? AND data_repl_num = ?",
            source["data_size"], source["data_checksum"], source["modify_ts"],
            target["data_id"], target["data_repl_num"],
        )  # fmt: skip

    def remove_data_rows(self, data_id: int) -> list[Path]:
        """Forget an object (all replicas, ACLs, AVUs); returns its vault files."""
        with self.tx() as db:
            rows = db.execute("SELECT data_path FROM data WHERE data_id = ?", (data_id,))
            files = [Path(r[0]) for r in rows.fetchall()]
            self._forget([data_id])
            db.execute("DELETE FROM data WHERE data_id = ?", (data_id,))
        return files

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

    def copy_data(self, actor: Actor, src: str, dst: str, force: bool, resource: str) -> None:
        """Server-side copy: a new object (owned by the actor) with the same bytes."""
        self._check_in_zone(norm_path(src))
        source = self.data(src)
        if source is None:
            raise IrodsError(CAT_UNKNOWN_FILE, f"no such data object: {src}")
        self.require(actor, source["data_id"], READ, f"read {src}")
        with self.tx():
            existing = self.data(dst)
            if existing is not None:
                if not force:
                    raise IrodsError(OVERWRITE_WITHOUT_FORCE_FLAG, f"{dst} exists")
                self.require(actor, existing["data_id"], WRITE, f"overwrite {dst}")
                target = existing
            else:
                target = self.create_data(actor, dst, source["data_type_name"], resource)
        tmp = Path(target["data_path"]).parent / ".copying"
        shutil.copyfile(source["data_path"], tmp)
        os.replace(tmp, target["data_path"])
        self.finalize(
            target["data_id"], target["data_repl_num"], source["data_size"],
            source["data_checksum"],
        )  # fmt: skip
