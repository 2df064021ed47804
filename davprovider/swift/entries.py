"""Swift listing rows and headers -> contract ``Entry`` records.

A file's entry comes from its container listing row in ``list`` and ``stat``
alike, so both describe it identically (times to the microsecond); the ETag
is Swift's MD5, or for a Static Large Object its ``slo_etag`` (then there is
no content checksum).
"""

from __future__ import annotations

import calendar
from datetime import datetime
from decimal import Decimal
from typing import Any

from davprovider.backend import Entry

from .names import is_dir_type

Row = dict[str, Any]


def _micro(seconds: int, micro: int) -> float:
    return (seconds * 1_000_000 + micro) / 1_000_000


def iso_time(value: str | None) -> float | None:
    """A listing's ``last_modified`` (UTC, ISO 8601) as a POSIX timestamp."""
    if not value:
        return None
    stamp = datetime.fromisoformat(value)
    return _micro(calendar.timegm(stamp.utctimetuple()), stamp.microsecond)


def header_time(value: str | None) -> float | None:
    """An ``X-Timestamp`` header as a POSIX timestamp (same rounding as ``iso_time``)."""
    if not value:
        return None
    micro = int(Decimal(value) * 1_000_000)
    return _micro(micro // 1_000_000, micro % 1_000_000)


def dir_entry(name: str, modified: float | None = None) -> Entry:
    return Entry(name, True, None, modified, None, None, None)


def row_entry(row: Row, name: str) -> Entry:
    """The entry of one object row of a container listing."""
    content_type = row.get("content_type")
    if row["name"].endswith("/") or is_dir_type(content_type):
        return dir_entry(name, iso_time(row.get("last_modified")))
    slo_etag = (row.get("slo_etag") or "").strip('"')
    return Entry(
        name=name, is_dir=False, size=int(row.get("bytes") or 0),
        modified=iso_time(row.get("last_modified")), etag=slo_etag or row.get("hash"),
        content_type=content_type or None,
        checksum=None if slo_etag else f"md5:{row.get('hash')}",
    )  # fmt: skip
