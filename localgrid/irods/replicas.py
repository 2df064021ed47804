"""Replication (DATA_OBJ_REPL 695) and trimming (DATA_OBJ_TRIM 632) of replicas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .access import Actor
from .catalog import READ, RESOURCE, WRITE
from .errors import CAT_UNKNOWN_FILE, SYS_NOT_ALLOWED, SYS_REPLICA_DOES_NOT_EXIST, IrodsError
from .objects import GOOD, STALE, Objects

UNREGISTER = 26


class Replication(Objects):
    """Copies of a data object on more leaves, and their removal."""

    def _source_replica(self, path: str, kw: dict[str, str]) -> sqlite3.Row:
        rows = self.replicas(path)
        if not rows:
            raise IrodsError(CAT_UNKNOWN_FILE, f"no such data object: {path}")
        if kw.get("replNum", "") != "":
            rows = [r for r in rows if str(r["data_repl_num"]) == kw["replNum"].strip()]
        elif kw.get("rescName"):
            rows = [r for r in rows if kw["rescName"] in r["resc_hier"].split(";")]
        good = [r for r in rows if r["data_is_dirty"] == GOOD]
        if not good:
            raise IrodsError(SYS_REPLICA_DOES_NOT_EXIST, f"no good source replica of {path}")
        return good[0]

    def replicate(self, actor: Actor, path: str, kw: dict[str, str]) -> None:
        """Make (or refresh) replicas on the destination resource's leaves."""
        source = self._source_replica(path, kw)
        self.require(actor, source["data_id"], READ, f"replicate {path}")
        rows = self.replicas(path)
        if "updateRepl" in kw or "all" in kw:
            for row in rows:
                if row["data_is_dirty"] == STALE:
                    self.copy_replica(source, row)
            if "destRescName" not in kw:
                return
        destination = kw.get("destRescName") or kw.get("defRescName") or RESOURCE
        for leaf in self.write_leaves(destination):
            existing = [r for r in rows if r["resc_id"] == leaf]
            if existing and existing[0]["data_is_dirty"] == GOOD:
                continue
            target = existing[0] if existing else self.add_replica(source, leaf, STALE)
            self.copy_replica(source, target)

    def trim(self, actor: Actor, path: str, kw: dict[str, str], unregister: bool) -> list[Path]:
        """Remove the named replicas (or the stale ones), keeping ``copies`` good ones."""
        rows = self.replicas(path)
        if not rows:
            raise IrodsError(CAT_UNKNOWN_FILE, f"no such data object: {path}")
        self.require(actor, rows[0]["data_id"], WRITE, f"trim {path}")
        if kw.get("replNum", "") != "":
            targets = [r for r in rows if str(r["data_repl_num"]) == kw["replNum"].strip()]
        elif kw.get("rescName"):
            targets = [r for r in rows if kw["rescName"] in r["resc_hier"].split(";")]
        else:
            targets = [r for r in rows if r["data_is_dirty"] == STALE]
        if not targets:
            raise IrodsError(SYS_REPLICA_DOES_NOT_EXIST, f"no such replica of {path}")
        keep = max(1, int(kw.get("copies") or 1))
        good_left = sum(1 for r in rows if r["data_is_dirty"] == GOOD)
        removed: list[Path] = []
        with self.tx() as db:
            for row in targets:
                if row["data_is_dirty"] == GOOD:
                    if good_left <= keep:
                        raise IrodsError(SYS_NOT_ALLOWED, f"trimming would leave too few of {path}")
                    good_left -= 1
                db.execute(
                    "DELETE FROM data WHERE data_id = ? AND data_repl_num = ?",
                    (row["data_id"], row["data_repl_num"]),
                )
                if not unregister:
                    removed.append(Path(row["data_path"]))
        return removed
