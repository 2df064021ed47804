"""Listings and stats remembered for a few seconds (``listing_cache``), per caller.

Desktop clients ask for the same folder again and again: Finder, Explorer and davfs2
list a folder (PROPFIND Depth 1) and then ask about each member (Depth 0), and every
client re-lists a folder it shows. Each ask costs backend round trips (iRODS GenQuery
pages, Swift listings). Here a ``list`` answer, and the entries in it, answer the same
caller's ``list`` and ``stat`` for ``listing_cache`` seconds.

Rules that keep it correct:

- Keyed by the caller (authentication method and user) and the share: one user never
  sees what was listed for another (their permissions differ).
- Any call that may change something (every backend method but the reads below, and an
  upload's commit) forgets everything, in every share of the process, before and after
  it runs; a read that overlapped a change is not kept (generation count). So what a
  client changes through this gateway shows at once, to everyone.
- With ``redis:`` (a fleet), a change through any gateway drops every gateway's cached
  listings (``fleet/invalidation.py``: pub/sub, and a counter each request checks before
  answering from the cache); a gateway that cannot reach Redis does not cache at all.
- Changes made outside the gateways (``iput``, the ``swift`` CLI, or a second gateway
  without ``redis:``) show after at most ``listing_cache`` seconds; a request with
  ``Cache-Control: no-cache`` or ``max-age=0`` (a browser's reload) is answered fresh.
- A stat that the cached parent listing does not answer goes to the backend: a missing
  member is never inferred from a listing (listings hide some names).
- At most ``MAX_ENTRIES`` entries are kept; the oldest listings go first.
"""

from __future__ import annotations

import posixpath
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, cast

from davprovider.backend import Backend, Entry, Upload
from davprovider.fleet.invalidation import ChangeFeed, feed_for
from davprovider.settings import Settings

MAX_ENTRIES = 200_000
#: Backend methods that change nothing (everything else forgets the cache).
READS = frozenset(
    {"stat", "list", "open_read", "get_meta", "list_meta", "list_digests", "quota"}
    | {"stat_target"}
    | {"redirect_url"}
)

Key = tuple[str, ...]  # (provider, method, user, ticket hash, path)


class ListingCache:
    """The remembered listings of one gateway process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> (when, entries, entries by name)
        self._lists: OrderedDict[Key, tuple[float, tuple[Entry, ...], dict[str, Entry]]] = (
            OrderedDict()
        )
        self._stats: dict[Key, tuple[float, Entry]] = {}
        self._size = 0
        self.generation = 0

    def forget(self) -> None:
        """Drop everything (a change is about to happen, or just happened)."""
        with self._lock:
            self.generation += 1
            self._lists.clear()
            self._stats.clear()
            self._size = 0

    def listed(self, key: Key, seconds: float) -> tuple[Entry, ...] | None:
        with self._lock:
            found = self._lists.get(key)
        if found is None or time.monotonic() - found[0] > seconds:
            return None
        return found[1]

    def stated(self, key: Key, seconds: float) -> Entry | None:
        """The entry at ``key``: remembered from a stat, or from its parent's listing."""
        *scope, path = key
        with self._lock:
            found = self._stats.get(key)
            parent = self._lists.get((*scope, posixpath.dirname(path)))
        now = time.monotonic()
        if found is not None and now - found[0] <= seconds:
            return found[1]
        if path != "/" and parent is not None and now - parent[0] <= seconds:
            return parent[2].get(posixpath.basename(path))
        return None

    def keep_list(self, key: Key, entries: Sequence[Entry], generation: int) -> None:
        with self._lock:
            if generation != self.generation or len(entries) > MAX_ENTRIES:
                return
            old = self._lists.pop(key, None)
            self._size += len(entries) - (len(old[1]) if old else 0)
            by_name: dict[str, Entry] = {}
            for entry in entries:  # the first of a name, as a scan of the listing finds
                by_name.setdefault(entry.name, entry)
            self._lists[key] = (time.monotonic(), tuple(entries), by_name)
            while self._size > MAX_ENTRIES and self._lists:
                _, (_, dropped, _) = self._lists.popitem(last=False)
                self._size -= len(dropped)

    def keep_stat(self, key: Key, entry: Entry, generation: int) -> None:
        with self._lock:
            if generation == self.generation and len(self._stats) < MAX_ENTRIES:
                self._stats[key] = (time.monotonic(), entry)


#: One cache for the process: a change through any share forgets every share's listings
#: (two shares may show the same storage, as /irods and an anonymous /pub do).
CACHE = ListingCache()


def fleet_feed(settings: Settings) -> ChangeFeed | None:
    """The fleet's change feed for this process's cache (``redis:``), or None."""
    return None if settings.redis is None else feed_for(settings.redis, CACHE.forget)


#: Told of every lookup, ``("list" or "stat", hit)``: the server's metrics.
LOOKUP_OBSERVERS: list[Callable[[str, bool], None]] = []


def _seen(kind: str, found: Any) -> Any:
    for observer in LOOKUP_OBSERVERS:
        observer(kind, found is not None)
    return found


def wants_fresh(environ: dict[str, Any]) -> bool:
    """True when the request asks not to be answered from a cache."""
    control = str(environ.get("HTTP_CACHE_CONTROL", "")).lower().replace(" ", "")
    pragma = str(environ.get("HTTP_PRAGMA", "")).lower()
    return "no-cache" in control or "max-age=0" in control or "no-cache" in pragma


class CachingBackend:
    """``inner`` with its ``list``/``stat`` answers remembered for ``seconds``; every
    other method goes through unchanged (the changing ones forget the cache)."""

    def __init__(
        self,
        inner: Backend,
        scope: tuple[str, ...],
        seconds: float,
        fresh: bool,
        feed: ChangeFeed | None = None,
    ) -> None:
        self.inner, self.scope, self.seconds, self.fresh = inner, scope, seconds, fresh
        self.feed = feed  # the fleet's (``redis:``), or None
        self._shared: bool | None = None  # may this request use the cache (fleet checked)

    def _key(self, path: str) -> Key:
        return (*self.scope, path)

    def _usable(self) -> bool:
        """True when the cache may answer and keep: always alone; in a fleet, once the
        fleet's counter is read (once per request) and the cache aligned to it."""
        if self.feed is None:
            return True
        if self._shared is None:
            mark = self.feed.current()
            if mark is not None:
                self.feed.align(mark)
            self._shared = mark is not None
        return self._shared

    def stat(self, path: str) -> Entry:
        key = self._key(path)
        usable = self._usable()
        stated = CACHE.stated(key, self.seconds) if usable and not self.fresh else None
        found = None if self.fresh else _seen("stat", stated)
        if found is not None:
            return found
        generation = CACHE.generation
        entry = self.inner.stat(path)
        if usable:
            CACHE.keep_stat(key, entry, generation)
        return entry

    def stat_target(self, path: str) -> Entry:
        """As ``stat`` (a target known from a listing is answered from it)."""
        key = self._key(path)
        if not self.fresh and (entry := CACHE.stated(key, self.seconds)) is not None:
            return entry
        return self.inner.stat_target(path)

    def list(self, path: str) -> Sequence[Entry]:
        key = self._key(path)
        usable = self._usable()
        hit = CACHE.listed(key, self.seconds) if usable and not self.fresh else None
        cached = None if self.fresh else _seen("list", hit)
        if cached is not None:
            return cached
        generation = CACHE.generation
        listed = self.inner.list(path)
        if usable:
            CACHE.keep_list(key, listed, generation)
        return listed

    def open_write(self, path: str, **options: Any) -> Upload:
        CACHE.forget()
        upload = _ForgettingUpload(self.inner.open_write(path, **options), self.feed)
        return cast(Upload, upload)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name in READS or not callable(attribute):
            return attribute
        return _forgetting(attribute, self.feed)


def _changed(feed: ChangeFeed | None) -> None:
    """After a change: this process's cache, and the fleet's, forget."""
    CACHE.forget()
    if feed is not None:
        feed.changed()


def _forgetting(method: Callable[..., Any], feed: ChangeFeed | None) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        CACHE.forget()
        try:
            return method(*args, **kwargs)
        finally:
            _changed(feed)

    return call


class _ForgettingUpload:
    """An upload whose commit forgets the cache (the new object shows at once)."""

    def __init__(self, inner: Upload, feed: ChangeFeed | None = None) -> None:
        self.inner, self.feed = inner, feed

    def commit(self) -> Entry:
        try:
            return self.inner.commit()
        finally:
            _changed(self.feed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
