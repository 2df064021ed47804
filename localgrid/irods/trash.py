"""The trash, as iRODS keeps it: ``/<zone>/trash/home/<user>/...``.

Unlinking a data object or removing a collection without ``forceFlag`` moves it to the
remover's trash, keeping its path below the home collection (``/Z/home/u/a/b`` goes to
``/Z/trash/home/u/a/b``); a name already taken there gets a numeric suffix. With
``forceFlag``, or for something already in the trash, it is deleted.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from .access import Actor
from .catalog import WRITE, norm_path, split_path
from .errors import CAT_UNKNOWN_FILE, IrodsError
from .replicas import Replication


class Trash(Replication):
    """Unlink and collection removal with the trash."""

    def in_trash(self, path: str) -> bool:
        return path.startswith(f"/{self.zone}/trash/")

    def trash_path(self, actor: Actor, path: str) -> str:
        """Where ``path`` goes in ``actor``'s trash (a free name)."""
        z, me = self.zone, self.home_name(self.require_user(f"{actor.name}#{actor.zone}"))
        rest = path.removeprefix(f"/{z}/")
        rest = rest.removeprefix("home/")
        rest = rest.removeprefix(f"{me}/") if rest != me else me
        target = f"/{z}/trash/home/{me}/{rest}"
        while self.coll(target) is not None or self.data(target) is not None:
            target = f"{target}.{secrets.randbelow(10**10)}"
        return target

    def make_trash_parents(self, actor: Actor, path: str) -> None:
        """Create the trash collections above ``path`` (owned by the remover)."""
        parent = split_path(path)[0]
        missing: list[str] = []
        while self.coll(parent) is None:
            missing.insert(0, parent)
            parent = split_path(parent)[0]
        for coll in missing:
            above = self.require_coll(split_path(coll)[0])
            self.insert_coll(coll, actor, int(above["coll_id"]))

    def unlink(self, actor: Actor, path: str, force: bool) -> list[Path]:
        """Remove a data object (to the trash unless forced); returns files to delete."""
        path = norm_path(path)
        row = self.data(path)
        if row is None:
            raise IrodsError(CAT_UNKNOWN_FILE, f"no such data object: {path}")
        self.require(actor, row["data_id"], WRITE, f"remove {path}")
        if force or self.in_trash(path):
            return self.remove_data_rows(int(row["data_id"]))
        with self.tx():
            target = self.trash_path(actor, path)
            self.make_trash_parents(actor, target)
            parent = self.require_coll(split_path(target)[0])
            self.run(
                "UPDATE data SET coll_id = ?, data_name = ? WHERE data_id = ?",
                parent["coll_id"], split_path(target)[1], row["data_id"],
            )  # fmt: skip
        return []

    def remove_tree(self, actor: Actor, path: str, recursive: bool, force: bool) -> list[Path]:
        """RM_COLL: to the trash unless forced (or already there)."""
        path = self.require_coll(path)["coll_name"]
        if force or self.in_trash(path):
            return self.remove_coll(actor, path, recursive)
        with self.tx():
            target = self.trash_path(actor, path)
            self.make_trash_parents(actor, target)
            return self.remove_coll(actor, path, recursive, trash_to=target)
