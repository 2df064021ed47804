"""Swift listing rows and headers -> contract ``Entry`` records, and the mtime they carry.

A file's entry comes from its container listing row in ``list`` and ``stat``
alike, so both describe it identically (times to the microsecond); the ETag
is Swift's MD5, or for a Static Large Object its ``slo_etag`` with ``-slo`` appended
(``SLO_MARK``): an SLO's ETag is the MD5 of its segments' MD5s, and davix (gfal2) takes
any 32-hex-digit ETag for the content's MD5 when none is offered otherwise. Requests to
Swift (``If-Match``, comparisons with a HEAD) use the ETag without it (``swift_etag``).

Modification times set by clients (``X-OC-Mtime``, PROPPATCH) are kept twice:
as ``X-Object-Meta-Mtime`` (rclone's and the ``swift`` CLI's convention, for
tools that talk to Swift directly) and as a ``dav_mtime`` parameter of the
object's Content-Type, because Swift keeps Content-Type parameters in container
listings (as its own SLOs do with ``swift_bytes``): one listing per PROPFIND
Depth 1 then reports every mtime, without a HEAD per child. The parameter is
removed from every Content-Type the gateway reports. Without it, the mtime is
the listing's ``last_modified`` (Swift's time of the last PUT or POST).

A Static Large Object the gateway wrote carries its content MD5 the same way
(``dav_md5``): listings (rclone's checks, ``oc:checksums`` at Depth 1) report it
without a HEAD, where an SLO's ETag is no MD5.

An upload's entry is built from its PUT's answer instead of a listing
(``put_row``): Swift's ETag, the bytes sent, the Content-Type as listings show
it, and the time the PUT was sent (the local clock, kept within the second of
the answer's ``Last-Modified``).

``Recent`` keeps what a backend looked up (listing rows, container headers) for
one request: see ``account.py``.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from davprovider.backend import Entry

from .names import is_dir_type

Row = dict[str, Any]
MTIME_PARAM = "dav_mtime"
MD5_PARAM = "dav_md5"  # an SLO's content MD5 (its ETag is none), shown by listings
SLO_MARK = "-slo"  # ends the ETag the gateway shows for a Static Large Object
MEMO_SECONDS = 2.0  # how long a backend trusts what it looked up (one request)
# Swift's own parameter parsing (swift.common.utils.parse_content_type, strict)
_TOKEN = r"[^()<>@,;:\"/\[\]?={}\x00-\x20\x7f]+"
_PARAM = re.compile(r"(?:\s*;\s*(" + _TOKEN + r")\s*(?:=\s*(" + _TOKEN + r'|"(?:[^"\\]|\\.)*"))?)')
P = ParamSpec("P")
T = TypeVar("T")


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


def mtime_text(mtime: float) -> str:
    """Seconds with nine decimals, as rclone writes ``X-Object-Meta-Mtime``
    (``1500000000.700000000``: the shortest float repr, padded, so it reads back
    as the same float)."""
    return f"{Decimal(repr(float(mtime))):.9f}"


def parse_mtime(value: str | None) -> float | None:
    """A stored mtime (``dav_mtime`` parameter or ``X-Object-Meta-Mtime``); ``None``
    when absent or not a sane number of seconds."""
    try:
        seconds = float((value or "").strip().strip('"'))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds < 253402300800 else None


def split_param(content_type: str | None, name: str) -> tuple[str | None, str | None]:
    """``content_type`` without the parameter ``name``, and that parameter's value;
    other parameters stay (Swift drops the blank after ``;`` in listings)."""
    if not content_type or name not in content_type:
        return content_type or None, None
    kept, found = [], None
    for index, part in enumerate(content_type.split(";")):
        key, sep, value = part.strip().partition("=")
        if index and sep and key.strip().lower() == name:
            found = value.strip()
        else:
            kept.append(part.strip())
    return ";".join(kept) or None, found


def split_mtime(content_type: str | None) -> tuple[str | None, float | None]:
    """``"text/plain;dav_mtime=1500000000.5"`` -> ``("text/plain", 1500000000.5)``."""
    rest, value = split_param(content_type, MTIME_PARAM)
    return rest, parse_mtime(value) if value is not None else None


def with_md5(content_type: str, md5: str) -> str:
    """``content_type`` carrying an SLO's content MD5 (``dav_md5``; any older replaced)."""
    base = split_param(content_type, MD5_PARAM)[0] or "application/octet-stream"
    return f"{base};{MD5_PARAM}={md5}"


def with_mtime(content_type: str | None, mtime: float) -> str:
    """``content_type`` carrying ``mtime`` (any older ``dav_mtime`` replaced)."""
    base = split_mtime(content_type)[0] or "application/octet-stream"
    return f"{base};{MTIME_PARAM}={mtime_text(mtime)}"


def fresh_mtime(content_type: str | None) -> dict[str, str]:
    """Headers that give a COPY its own modification time (now) when the source
    carries a client-set one (MOVE keeps it, as a rename does)."""
    clean, mtime = split_mtime(content_type)
    if mtime is None:
        return {}
    now = mtime_text(round(time.time(), 6))
    return {"Content-Type": clean or "application/octet-stream", "X-Object-Meta-Mtime": now}


def dir_entry(name: str, modified: float | None = None) -> Entry:
    return Entry(name, True, None, modified, None, None, None)


def slo_shown(etag: str) -> str:
    """The ETag shown for a Static Large Object whose Swift ETag is ``etag``."""
    return etag + SLO_MARK


def swift_etag(etag: str) -> str:
    """The ETag Swift knows for an ETag the gateway showed."""
    return etag.removesuffix(SLO_MARK)


def row_entry(row: Row, name: str) -> Entry:
    """The entry of one object row of a container listing."""
    content_type, mtime = split_mtime(row.get("content_type"))
    content_type, md5 = split_param(content_type, MD5_PARAM)
    modified = mtime if mtime is not None else iso_time(row.get("last_modified"))
    if row["name"].endswith("/") or is_dir_type(content_type):
        return dir_entry(name, modified)
    slo_etag = (row.get("slo_etag") or "").strip('"')
    checksum: str | None = f"md5:{row.get('hash')}"
    if slo_etag:
        checksum = f"md5:{md5}" if md5 and re.fullmatch(r"[0-9a-f]{32}", md5) else None
    return Entry(
        name=name, is_dir=False, size=int(row.get("bytes") or 0), modified=modified,
        etag=slo_shown(slo_etag) if slo_etag else row.get("hash"), content_type=content_type,
        checksum=checksum,
    )  # fmt: skip


def listed_type(content_type: str) -> str:
    """A Content-Type as Swift's listings show it: parameters re-joined without
    blanks (``"text/plain; charset=utf-8"`` -> ``"text/plain;charset=utf-8"``)."""
    if ";" not in content_type:
        return content_type
    base, params = content_type.split(";", 1)
    for key, value in _PARAM.findall(";" + params):
        if key.strip() != "swift_bytes":
            base += f";{key.strip()}={value.strip()}"
    return base


def put_time(last_modified: str | None, started: float) -> float:
    """When Swift stored a PUT sent at ``started`` (local clock): Swift stamps a PUT
    when it arrives, and answers with that time rounded up to the second
    (``Last-Modified``), not the ``X-Timestamp`` listings show. The local time,
    kept within that second (Swift's clock wins where the two disagree)."""
    guess = started
    try:
        ceiling = parsedate_to_datetime(last_modified).timestamp() if last_modified else None
    except (TypeError, ValueError):
        ceiling = None
    if ceiling is not None:
        guess = min(max(guess, ceiling - 1 + 1e-6), ceiling)
    return round(guess, 6)


def put_row(name: str, content_type: str, size: int, etag: str, modified: float) -> Row:
    """The listing row an object just PUT will have (for ``row_entry``)."""
    stamp = datetime.fromtimestamp(modified, UTC).replace(tzinfo=None)
    return {
        "name": name, "bytes": size, "hash": etag, "content_type": listed_type(content_type),
        "last_modified": stamp.isoformat(timespec="microseconds"),
    }  # fmt: skip


class Recent:
    """What one backend looked up (listing rows, container headers), trusted for
    ``MEMO_SECONDS`` and forgotten whenever it writes (``writes``)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[str, ...]) -> tuple[bool, Any]:
        """``(True, value)`` when ``key`` was remembered recently, else ``(False, None)``."""
        found = self._items.get(key)
        if found is None or time.monotonic() - found[0] > MEMO_SECONDS:
            return False, None
        return True, found[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        self._items[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._items.clear()


class _Remembering(Protocol):
    recent: Recent


S = TypeVar("S", bound=_Remembering)


def writes(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A backend method that changes Swift: what the backend looked up before is
    forgotten when it returns (or fails)."""

    @functools.wraps(method)
    def run(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.recent.clear()

    return run
