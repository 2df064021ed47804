"""The iRODS backend's sync-client extensions: modification times and digests.

- ``set_mtime``: the data object's (or collection's) own modify time, set with the
  touch API (``data_objects.touch(..., seconds_since_epoch=...)``); iRODS keeps whole
  seconds.
- ``digests``: SHA-256 is the catalog checksum (``sha2:<base64>``), computed and
  registered by iRODS (``chksum``) when a single object is asked for and has none;
  other algorithms are the AVUs the gateway stored (``avus.py``), valid only while
  bound to the current catalog checksum. ``list_digests`` costs one GenQuery per
  collection (none when only SHA-256 is wanted).
"""

from __future__ import annotations

import errno
import logging
import posixpath
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from irods.column import Like
from irods.models import Collection as Coll
from irods.models import DataObject, DataObjectMeta, Group, User
from irods.models import Quota as ZoneQuota

from davprovider.backend import Entry, Quota
from davprovider.digests import checksum_digests, pick

from .avus import DIGEST_PREFIX, digest_binding, replace_digests, stored_digest
from .catalog import Catalog, all_rows
from .errors import DENIED, retried
from .memo import changing

log = logging.getLogger("davprovider.irods")


class SyncExtensions(Catalog):
    """The sync-client calls of ``IrodsBackend``, over its catalog."""

    @changing
    @retried
    def set_mtime(self, path: str, mtime: float) -> None:
        full, seconds = self.irods_path(path), int(mtime)
        if self.data_row(path) is not None:
            self.session.data_objects.touch(full, seconds_since_epoch=seconds, no_create=True)
        elif self.coll_row(path) is not None:
            self.session.collections.touch(full, seconds_since_epoch=seconds)
        else:
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")

    @retried
    def digests(
        self, path: str, entry: Entry, algorithms: Collection[str], *, compute: bool = False
    ) -> dict[str, str]:
        catalog = entry.checksum
        if compute and not catalog:
            catalog = self._register_checksum(path)
        found = checksum_digests(catalog)
        if catalog and any(a not in found for a in algorithms):
            parent, name = posixpath.split(self.irods_path(path))
            rows = self.session.query(
                DataObjectMeta.name, DataObjectMeta.value, DataObjectMeta.units
            ).filter(Coll.name == parent, DataObject.name == name, _digest_avus())
            for r in all_rows(rows):
                value = r[DataObjectMeta.value]
                algorithm = stored_digest(
                    r[DataObjectMeta.name], value, r[DataObjectMeta.units], catalog
                )
                if algorithm is not None:
                    found.setdefault(algorithm, value)
        return pick(found, algorithms)

    def _register_checksum(self, path: str) -> str | None:
        """Have iRODS compute and register the catalog checksum (once per object)."""
        try:
            checksum = str(self.session.data_objects.chksum(self.irods_path(path)) or "")
        except DENIED as exc:
            log.info("cannot register the checksum of %s: %r", path, exc)
            return None
        log.info("registered the iRODS checksum of %s", path)
        self.rows.clear()  # its row changed
        return checksum or None

    @retried
    def list_digests(
        self, path: str, entries: Sequence[Entry], algorithms: Collection[str]
    ) -> dict[str, dict[str, str]]:
        catalog = {e.name: e.checksum for e in entries if not e.is_dir}
        found = {name: checksum_digests(checksum) for name, checksum in catalog.items()}
        if set(algorithms) - {"sha-256"} and any(catalog.values()):
            rows = self.session.query(
                DataObject.name, DataObjectMeta.name, DataObjectMeta.value, DataObjectMeta.units
            ).filter(Coll.name == self.irods_path(path), _digest_avus())
            for r in all_rows(rows):
                name, value = r[DataObject.name], r[DataObjectMeta.value]
                if name not in found:
                    continue
                units = r[DataObjectMeta.units]
                algorithm = stored_digest(r[DataObjectMeta.name], value, units, catalog[name])
                if algorithm is not None:
                    found[name].setdefault(algorithm, value)
        return {name: pick(digests, algorithms) for name, digests in found.items()}

    @changing
    @retried
    def store_digests(self, path: str, digests: Mapping[str, str]) -> None:
        row = self.data_row(path)
        if row is None:
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        binding = digest_binding(digests, row[DataObject.checksum] or None)
        if binding is None:
            return
        kind, current = self.avus(path, DIGEST_PREFIX)
        ops = replace_digests(current, digests, binding)
        try:
            self.apply_avus(kind, path, ops)
        except DENIED as exc:
            log.info("cannot keep the digests of %s: %r", path, exc)

    # --- quota ------------------------------------------------------------------------

    @retried
    def quota(self, path: str) -> Quota:
        """RFC 4331 figures from the zone's quotas on the caller and the caller's groups,
        with usage as the zone last calculated it (``iadmin cu``): the quota closest to
        (or over) its limit applies. Without a quota the figures are unknown (omitted)."""
        del path
        groups = self.session.query(Group.id).filter(User.name == self.identity.user)
        ids = {r[Group.id] for r in all_rows(groups)}
        quotas = self.session.query(ZoneQuota.user_id, ZoneQuota.limit, ZoneQuota.over)
        rows = [
            r
            for r in all_rows(quotas)
            if r[ZoneQuota.user_id] in ids and int(r[ZoneQuota.limit] or 0) > 0
        ]
        if not rows:
            return Quota()
        tightest = max(rows, key=lambda r: int(r[ZoneQuota.over] or 0))
        limit, over = int(tightest[ZoneQuota.limit]), int(tightest[ZoneQuota.over] or 0)
        return Quota(used=max(0, limit + over), available=max(0, -over))


def _digest_avus() -> Any:
    return Like(DataObjectMeta.name, DIGEST_PREFIX + "%")
