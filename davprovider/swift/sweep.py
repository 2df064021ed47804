"""Orphan segments: what a crashed segmented upload left in ``<container>_segments``.

An upload's segments are ``<object>/slo/<start>/<size>/<segment size>/<index>``
(``upload.py``, as the ``swift`` CLI names them); the manifest, written last, lists
them. A group of segments whose newest is older than ``sweep_age`` seconds and that
the object's current manifest does not list (no object, a plain one, an SLO with
other segments) is an orphan and deleted. Live uploads write a segment at least every
``sweep_age`` seconds (the default is an hour), so they are never swept.

Listings stream page by page (``Account.rows``); a group holds at most one
manifest's worth of names, so memory stays bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from swiftclient.exceptions import ClientException

from .bulk import bulk_delete, manifest
from .entries import iso_time
from .errors import status_of

if TYPE_CHECKING:
    from .account import Account

log = logging.getLogger("davprovider.swift")
Group = tuple[str, str, list[str], float]  # object, group prefix, segment names, newest


def sweep_account(account: Account, max_age: float) -> int:
    """Delete the orphan segments of every segments container of the account (or of
    the share's one container); return how many were deleted."""
    options = account.options
    if options.container:
        names = [options.container + options.segment_suffix]
    else:
        names = [row["name"] for row in _containers(account)]
    removed = 0
    for name in names:
        if not options.is_segment_container(name):
            continue
        try:
            removed += sweep_container(account, name, max_age)
        except ClientException as exc:
            if status_of(exc) != 404:
                raise
    return removed


def _containers(account: Account) -> Iterator[dict[str, str]]:
    marker, limit = "", account.limits.listing
    while True:
        _, page = account.conn.get_account(marker=marker, limit=limit)
        yield from page
        if len(page) < limit:
            return
        marker = page[-1]["name"]


def sweep_container(account: Account, segments: str, max_age: float) -> int:
    """Delete the orphan segment groups of one segments container."""
    container = segments[: -len(account.options.segment_suffix)]
    cutoff, removed = time.time() - max_age, 0
    for obj, prefix, names, newest in _groups(account, segments):
        if newest >= cutoff or _referenced(account, container, obj, f"/{segments}/{prefix}"):
            continue
        log.info("sweep: deleting %d orphan segments /%s/%s", len(names), segments, prefix)
        bulk_delete(account, [f"/{segments}/{n}" for n in names])
        removed += len(names)
    return removed


def _groups(account: Account, segments: str) -> Iterator[Group]:
    """The container's segment groups in listing order, one upload each."""
    current: Group | None = None
    for row in account.rows(segments, "", delimiter=None):
        name = str(row.get("name") or "")
        parts = name.rsplit("/", 5)
        if len(parts) != 6 or parts[1] != "slo" or not parts[5].isdigit():
            continue  # not a segment of ours
        prefix = name[: name.rindex("/") + 1]
        stamp = iso_time(row.get("last_modified")) or time.time()
        if current is not None and current[1] == prefix:
            current[2].append(name)
            current = (current[0], prefix, current[2], max(current[3], stamp))
            continue
        if current is not None:
            yield current
        current = (parts[0], prefix, [name], stamp)
    if current is not None:
        yield current


def _referenced(account: Account, container: str, obj: str, prefix: str) -> bool:
    """Whether the object's current manifest uses segments named ``prefix...``."""
    headers = account.head_object(container, obj) if container else None
    if headers is None:
        return False
    dlo = headers.get("x-object-manifest")
    if dlo:
        return prefix.startswith("/" + dlo.lstrip("/"))
    if str(headers.get("x-static-large-object", "")).lower() != "true":
        return False
    segments = manifest(account.conn, container, obj)
    return any(str(s.get("path", "")).startswith(prefix) for s in segments)
