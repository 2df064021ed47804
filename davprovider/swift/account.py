"""One identity's Swift account: its connection and its lookups, and what the backends
of one share have in common (``Share``: options, connection pool, Swift's limits, temp
URL keys).

Share paths map to Swift names in ``names.py``. Listings are container GETs with
``delimiter=/`` paged through ``marker`` (one request per 10,000 names); a lookup is a
one-row listing (plus one for a folder), so that ``list`` and ``stat`` describe an
object identically.

An ``Account`` serves one request, and WsgiDAV looks up the target and its parent
before it writes: the account remembers the listing rows and container headers it
fetched (every container GET carries the container's headers too) for a couple of
seconds or until it writes (``entries.Recent``), so that the checks of a write, a read
and the metadata calls repeat no request.

Everything else in this package (``bulk``, ``props``, ``upload``, ``sync``) works
through an ``Account``; ``backend.py`` composes them into the storage contract.
"""

from __future__ import annotations

import errno
import logging
import math
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from swiftclient.exceptions import ClientException

from .entries import Recent, Row, dir_entry, header_time, mtime_text, row_entry, with_mtime
from .errors import retry_busy, status_of
from .names import MARKER_TYPE, Location, MetaLimits, locate
from .pool import ConnectionPool

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from davprovider.backend import Entry, Identity

    from .options import Options

log = logging.getLogger("davprovider.swift")


@dataclass(frozen=True)
class Limits:
    """What this Swift accepts, from its ``/info`` (defaults when it does not say)."""

    meta: MetaLimits = field(default_factory=MetaLimits)
    max_segments: int = 1000
    max_file: int = 5 * (1 << 30) + 2
    listing: int = 10000
    bulk_deletes: int = 10000  # 0: no bulk middleware, delete one by one

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Limits:
        swift = info.get("swift", {})
        slo = info.get("slo", {})
        bulk = info.get("bulk_delete")
        return cls(
            meta=MetaLimits.from_info(swift),
            max_segments=int(slo.get("max_manifest_segments", cls.max_segments)),
            max_file=int(swift.get("max_file_size", cls.max_file)),
            listing=int(swift.get("container_listing_limit", cls.listing)),
            bulk_deletes=int(bulk.get("max_deletes_per_request", 10000)) if bulk else 0,
        )


def segment_size_for(size: int | None, segment_size: int, max_segments: int, max_file: int) -> int:
    """The segment size for an upload of ``size`` bytes: the configured one, raised
    when the object would need more segments than Swift accepts in a manifest."""
    if size is None or size <= segment_size:
        return min(segment_size, max_file)
    return min(max(segment_size, math.ceil(size / max_segments)), max_file)


class KeyCache:
    """Accounts' temp URL keys (``X-Account-Meta-Temp-URL-Key``), asked at most once
    per ``ttl`` seconds per storage URL, so a redirected GET costs no HEAD."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._keys: dict[str, tuple[float, str | None]] = {}

    def get(self, conn: Connection) -> str | None:
        now = time.monotonic()
        found = self._keys.get(conn.url or "")
        if found is not None and now - found[0] < self.ttl:
            return found[1]
        headers = conn.head_account()
        key = headers.get("x-account-meta-temp-url-key") or headers.get(
            "x-account-meta-temp-url-key-2"
        )
        self._keys[conn.url or ""] = (now, key or None)
        return key or None


class Share:
    """What the backends of one Swift share have in common: options, the pooled
    connections, Swift's limits (asked once) and the accounts' temp URL keys."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pool = ConnectionPool(options)
        self._limits: Limits | None = None
        self._lock = threading.Lock()
        self._keys = KeyCache(options.pool_ttl)

    def limits(self, conn: Connection) -> Limits:
        """Swift's limits, asked once (``GET /info``)."""
        with self._lock:
            if self._limits is None:
                try:
                    self._limits = Limits.from_info(conn.get_capabilities())
                except (ClientException, OSError, ValueError) as exc:
                    log.warning("Swift /info unavailable, assuming default limits: %s", exc)
                    self._limits = Limits()
            return self._limits

    def account_key(self, conn: Connection) -> str | None:
        """The account's temp URL key (asked once per ``pool_ttl``)."""
        with self._lock:
            return self._keys.get(conn)

    def close(self) -> None:
        self.pool.close()


class Account:
    """One identity's view of its Swift account, for one request (one thread)."""

    def __init__(self, share: Share, identity: Identity) -> None:
        self.share, self.identity = share, identity
        self.options, self.pool = share.options, share.pool
        self.root = f"/{self.options.container}" if self.options.container else ""
        self._conn: Connection | None = None
        self.recent = Recent()  # this request's listing rows and container headers

    def fork(self) -> Account:
        """The same identity's account for another thread (its own connection)."""
        return Account(self.share, self.identity)

    def locate(self, path: str) -> Location:
        """The Swift location of a share path (below ``options.container`` if set)."""
        return locate(self.root + path if path not in ("", "/") else self.root or "/")

    def share_path(self, container: str, name: str) -> str:
        """The share path of object ``name`` in ``container`` (inverse of ``locate``)."""
        full = f"/{container}/{name}".rstrip("/")
        return (full[len(self.root) :] or "/") if self.root else full

    @property
    def conn(self) -> Connection:
        """This account's connection, leased on first use, returned when it is dropped."""
        if self._conn is None:
            self._conn = self.pool.acquire(self.identity)
            weakref.finalize(self, self.pool.release, self._conn)
        return self._conn

    @property
    def open_conn(self) -> Connection | None:
        """This account's connection if it leased one already (never leases)."""
        return self._conn

    @property
    def limits(self) -> Limits:
        return self.share.limits(self.conn)

    def segment_size_for(self, size: int | None) -> int:
        limits = self.limits
        return segment_size_for(
            size, self.options.segment_size, limits.max_segments, limits.max_file
        )

    def hidden(self, container: str) -> bool:
        """Whether ``container`` is a segments container kept out of sight."""
        options = self.options
        return options.hide_segment_containers and options.is_segment_container(container)

    # --- lookups -------------------------------------------------------------------------

    def listing(self, container: str, **params: Any) -> list[Row]:
        """One page of a container listing (its headers are remembered)."""
        headers, page = self.conn.get_container(container, **params)
        self.recent.put(("container", container), headers)
        return page

    def rows(self, container: str, prefix: str, delimiter: str | None = "/") -> Iterator[Row]:
        """Every row of a container listing, page by page through ``marker``."""
        marker, limit = "", self.limits.listing
        while True:
            page = self.listing(
                container, marker=marker, prefix=prefix or None, delimiter=delimiter, limit=limit
            )
            yield from page
            if len(page) < limit:
                return
            marker = page[-1].get("name") or page[-1]["subdir"]

    def first_row(self, container: str, prefix: str) -> Row | None:
        """The first object whose name starts with ``prefix`` (asked now, remembered)."""
        page = self.listing(container, prefix=prefix, limit=1)
        row = page[0] if page else None
        self.recent.put(("row", container, prefix), row)
        return row

    def known_row(self, container: str, prefix: str) -> Row | None:
        """``first_row``, as this request saw it already when it did."""
        known, row = self.recent.get(("row", container, prefix))
        return row if known else self.first_row(container, prefix)

    def container_head(self, container: str) -> dict[str, str]:
        """The container's headers (from this request's listings or one HEAD)."""
        known, headers = self.recent.get(("container", container))
        if not known:
            headers = self.conn.head_container(container)
            self.recent.put(("container", container), headers)
        return headers

    def lookup(self, loc: Location) -> tuple[Entry, Row | None]:
        """The entry at ``loc`` and its own listing row (``None`` for a container or
        an implicit folder); ``FileNotFoundError`` when nothing is there."""
        if loc.is_account:
            return dir_entry(""), None
        if loc.is_container:
            self.check_visible(loc.container)
            headers = self.container_head(loc.container)
            return dir_entry(loc.container, header_time(headers.get("x-timestamp"))), None
        row = self.known_row(loc.container, loc.obj)
        if row is None:  # nothing starts with the name, so nothing with ``<name>/`` either
            raise FileNotFoundError(errno.ENOENT, f"not found: /{loc.container}/{loc.obj}")
        name = str(row.get("name") or row.get("subdir") or "")
        if name == loc.obj:
            return row_entry(row, loc.name), row
        if name.startswith(loc.prefix):  # the first row under ``<name>/`` too
            self.recent.put(("row", loc.container, loc.prefix), row)
        else:
            row = self.known_row(loc.container, loc.prefix)
        if row is None:
            raise FileNotFoundError(errno.ENOENT, f"not found: /{loc.container}/{loc.obj}")
        if row.get("name") == loc.prefix:
            return row_entry(row, loc.name), row
        return dir_entry(loc.name), None

    def check_visible(self, container: str) -> None:
        """Segment containers are internals: hidden unless configured otherwise."""
        if self.hidden(container):
            raise FileNotFoundError(errno.ENOENT, f"not found: /{container}")

    def find(self, loc: Location) -> tuple[Entry, Row | None] | None:
        """``lookup``, or ``None`` when nothing is there."""
        try:
            return self.lookup(loc)
        except FileNotFoundError:
            return None
        except ClientException as exc:
            if status_of(exc) == 404:
                return None
            raise

    def require_dir(self, loc: Location) -> None:
        """``loc`` must be a container or folder (the parent of something new)."""
        entry, _ = self.lookup(loc)
        if not entry.is_dir:
            raise NotADirectoryError(errno.ENOTDIR, f"not a collection: {loc.obj}")

    def head_object(self, container: str, obj: str) -> dict[str, str] | None:
        """The object's headers (one HEAD), ``None`` when it does not exist."""
        try:
            headers: dict[str, str] = retry_busy(lambda: self.conn.head_object(container, obj))
        except ClientException as exc:
            if status_of(exc) == 404:
                return None
            raise
        return headers

    def put_marker(
        self, loc: Location, meta: Mapping[str, str], mtime: float | None = None
    ) -> None:
        """Create the folder marker ``<obj>/`` with user metadata ``meta`` (and
        modification time ``mtime``, see ``entries.py``)."""
        headers = {f"X-Object-Meta-{k}": v for k, v in meta.items()}
        content_type = MARKER_TYPE
        if mtime is not None:
            content_type = with_mtime(MARKER_TYPE, mtime)
            headers["X-Object-Meta-Mtime"] = mtime_text(mtime)
        self.conn.put_object(
            loc.container, loc.prefix, b"", content_type=content_type, headers=headers
        )
