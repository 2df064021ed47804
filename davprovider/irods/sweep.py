"""Leftovers of crashed uploads: hidden temporary objects (``TEMP_PREFIX``) that a
killed gateway or zone left behind (often with replica status 2), removed once they are
older than ``sweep_age`` seconds.

- With a ``proxy_user`` (a rodsadmin), one GenQuery finds them zone-wide; each is
  removed in its owner's name (a proxy session acting as the owner).
- Without one, each identity's own are found below its share root when its session
  opens (``IrodsFactory.__call__``) and at every sweep while its session is pooled.

An upload in progress is never older than ``sweep_age`` unless it lasts that long: the
age is the catalog's modify time, which iRODS sets when the object is created and
closed, so ``sweep_age`` must exceed the longest upload (default one hour).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from irods import exception as ex
from irods.column import Like
from irods.models import Collection, DataObject

from .catalog import TEMP_PREFIX, all_rows
from .errors import BROKEN

log = logging.getLogger("davprovider.irods")


def leftovers(session: Any, max_age: float, below: str = "") -> Iterator[tuple[str, str]]:
    """``(path, owner)`` of each temporary object older than ``max_age`` seconds that
    ``session`` can see (below the collection ``below`` when given), each path once."""
    cutoff = time.time() - max_age
    q = session.query(
        Collection.name, DataObject.name, DataObject.owner_name, DataObject.modify_time
    ).filter(Like(DataObject.name, TEMP_PREFIX + "%"))
    if below:
        q = q.filter(Like(Collection.name, below.rstrip("/") + "%"))
    seen: set[str] = set()
    for row in all_rows(q):
        coll, name = str(row[Collection.name]), str(row[DataObject.name])
        path = f"{coll.rstrip('/')}/{name}"
        modified = row[DataObject.modify_time]
        if not name.startswith(TEMP_PREFIX) or path in seen:
            continue
        if below and not (coll == below or coll.startswith(below.rstrip("/") + "/")):
            continue
        seen.add(path)
        if modified is None or modified.timestamp() < cutoff:
            yield path, str(row[DataObject.owner_name])


def remove(session: Any, path: str) -> bool:
    """Unlink one leftover (no trash); ``False`` (logged) when the zone refuses."""
    try:
        session.data_objects.unlink(path, force=True)
    except (*BROKEN, ex.iRODSException) as exc:
        log.warning("sweep: could not remove %s: %r", path, exc)
        return False
    log.info("sweep: removed the leftover upload %s", path)
    return True
