"""Listings and stats remembered for a few seconds (``listing_cache``), per caller.

Desktop clients ask for the same folder again and again: Finder, Explorer and davfs2
list a folder (PROPFIND Depth 1) and then ask about each member (Depth 0), and every
client re-lists a folder it shows. Each ask costs backend round trips (iRODS GenQuery
pages, Swift listings). Here a ``list`` answer, and the entries in it, answer the same
caller's ``list`` and ``stat`` for ``listing_cache`` seconds.

Rules that keep it correct:

- Keyed by the caller (authentication method and user) and the share: one user never
  sees what was listed for another (their permissions differ).
- Any call that may change something (every backend method but the reads below) forgets
  everything, in every share of the process, before and after it runs; a read that
  overlapped a change is not kept (generation count; a read that overlapped only its
  own caller's uploads of other paths is kept, with the files they committed into the
  folder it listed: parallel transfers into one folder would otherwise never keep a
  listing of it). An upload forgets less: for its
  own caller (same share, same identity: the same objects under the same paths) only
  the object's own entries, and its folder's listing gets the new entry in place of the
  old one; every other caller's entries all go. So what a client changes through this
  gateway shows at once, to everyone. (A folder's own entry may then keep its time from
  before the upload, for at most ``listing_cache`` seconds.) An upload is never the
  cause of a walk of the whole cache, unless other callers' entries are in it.
- With ``redis:`` (a fleet), a change through any gateway drops every gateway's cached
  listings (``fleet/invalidation.py``: pub/sub, and a counter each request checks before
  answering from the cache); a gateway that cannot reach Redis does not cache at all.
- Changes made outside the gateways (``iput``, the ``swift`` CLI, or a second gateway
  without ``redis:``) show after at most ``listing_cache`` seconds; a request with
  ``Cache-Control: no-cache`` or ``max-age=0`` (a browser's reload) is answered fresh.
- A stat that the cached parent listing does not answer goes to the backend: a missing
  member is never inferred from a listing (listings hide some names). The one
  exception is the target of a PUT or MKCOL with no condition on it (``stat_target``):
  a name the caller's listing of the folder does not show is taken as missing, and the
  upload is told (``open_write(absent=True)``), so a new file costs the write alone.
  The names a listing hides are none a PUT can name (Swift: ``.``, ``..``, names with
  an empty segment; iRODS: the uploads' hidden temporary objects), and an object made
  outside the gateway since the listing is replaced as a plain PUT would replace it.
- At most ``MAX_ENTRIES`` entries are kept; the oldest listings go first.

Besides listings and stats, for the same time and under the same rules: an object's
dead properties (``get_meta``: davfs2 and davix name properties that no server keeps,
so each of their stats would otherwise ask Swift for the object's metadata), and the
digests known of one version (``digests``, keyed by its ETag).

After its commit an upload remembers, for the caller who made it, what it has just
proven: the new object's entry (as the backend's commit returned it) and, when the
backend keeps exactly those (``Upload.digests_as_given``), the digests the gateway
computed of its bytes. A sync client's next steps (a PROPFIND of the new file with
``oc:checksums``, a MKCOL of its folder) then ask the backend nothing.
"""

from __future__ import annotations

import dataclasses
import errno
import posixpath
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar, cast

from davprovider.backend import DIGEST_ALGORITHMS, Backend, Entry, Upload
from davprovider.digests import checksum_digests
from davprovider.fleet.invalidation import ChangeFeed, feed_for
from davprovider.settings import Settings

MAX_ENTRIES = 200_000
#: A folder whose listing has more entries than this is not listed for a member's stat
#: again for ``BIG_FOLDER_PAUSE`` listing-cache times (its members are stat'ed one by one).
BIG_FOLDER = 10_000
#: An upload drops every other caller's entries; when there are some, that walks every
#: remembered key, and above this many keys it empties the cache instead.
SCOPED_FORGET_MAX = 2_000
BIG_FOLDER_PAUSE = 12
#: Uploads remembered for the reads that overlapped them (``ListingCache._since``).
JOURNAL = 256
#: Backend methods that change nothing (everything else forgets the cache).
READS = frozenset(
    {"stat", "list", "open_read", "get_meta", "list_meta", "list_digests", "quota"}
    | {"stat_target"}
    | {"redirect_url"}
)

Key = tuple[str, ...]  # (provider, method, user, ticket hash, path)
ALL_DIGESTS = frozenset(DIGEST_ALGORITHMS)
T = TypeVar("T")


class _Listing:
    """One folder's remembered listing: its entries in order, and by name (the first
    of a name, as a scan of the listing finds). Changed only with the cache's lock
    held; readers get a copy of the entries."""

    def __init__(self, when: float, entries: Sequence[Entry]) -> None:
        self.when = when
        self.entries = list(entries)
        self.by_name: dict[str, Entry] = {}
        for entry in self.entries:
            self.by_name.setdefault(entry.name, entry)

    def put(self, entry: Entry) -> int:
        """``entry`` in place of its name's entries (at the end when new); the change
        in length."""
        if entry.name not in self.by_name:
            self.entries.append(entry)
            self.by_name[entry.name] = entry
            return 1
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.name != entry.name] + [entry]
        self.by_name[entry.name] = entry
        return len(self.entries) - before


class ListingCache:
    """The remembered listings of one gateway process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists: OrderedDict[Key, _Listing] = OrderedDict()  # oldest first
        self._stats: dict[Key, tuple[float, Entry]] = {}
        self._metas: dict[Key, tuple[float, dict[str, str]]] = {}
        # key -> etag -> (when, digests known, algorithms asked)
        self._digests: dict[Key, dict[str, tuple[float, dict[str, str], frozenset[str]]]] = {}
        # folder -> (when, name): the last member stat that went to the backend
        self._misses: dict[Key, tuple[float, str]] = {}
        self._big: dict[Key, float] = {}  # folder -> when its listing was found too big
        self._size = 0
        self._only: Key | None = None  # the one scope every key is of, when known
        self.generation = 0
        # the uploads' forgetting since the last other change: (generation it made,
        # scope, path, the committed entry or None); a read that overlapped only those
        # may still be kept (``_since``)
        self._uploads: deque[tuple[int, Key, str, Entry | None]] = deque(maxlen=JOURNAL)
        self._settled = 0  # the generation made by the last change of any other kind

    def forget(self) -> None:
        """Drop everything (a change is about to happen, or just happened)."""
        with self._lock:
            self._drop_all()

    def _drop_all(self) -> None:  # with the lock held
        self.generation += 1
        self._settled = self.generation
        self._lists.clear()
        self._stats.clear()
        self._metas.clear()
        self._digests.clear()
        self._size = 0
        self._only = None

    def _noted(self, key: Key) -> None:  # with the lock held: ``key`` is being kept
        if self._only != key[:-1]:
            self._only = None

    def forget_upload(
        self, key: Key, *, keep_folder: bool = False, added: Entry | None = None
    ) -> None:
        """An upload to ``key`` is about to start, or just committed (or failed): drop
        what it may change for its own caller (the object's entries, its folder's
        listing unless ``keep_folder``) and everything of every other caller and
        share; keep the rest of the caller's own (the same share and identity name
        the same objects by the same paths, and a new or replaced object changes no
        other path: an upload onto a collection fails). ``added``: the committed
        object's entry, put into its folder's listing in place of the name's old
        entry (the listing keeps its age)."""
        scope = key[:-1]
        path = key[-1].rstrip("/") or "/"
        with self._lock:
            if self._only != scope and not self._keep_only(scope):
                return  # emptied: too many keys to walk
            self.generation += 1
            self._uploads.append((self.generation, scope, path, added))
            for own in {(*scope, path), (*scope, path + "/"), key}:
                self._stats.pop(own, None)
                self._metas.pop(own, None)
                self._digests.pop(own, None)
                self._drop_list(own)
            folder = (*scope, posixpath.dirname(path))
            if added is not None and (listing := self._lists.get(folder)) is not None:
                self._size += listing.put(added)
            elif added is not None or not keep_folder:
                self._drop_list(folder)

    def _keep_only(self, scope: Key) -> bool:  # with the lock held
        """Drop every other scope's keys (a walk of them all); past
        ``SCOPED_FORGET_MAX`` keys empty the cache instead (and answer False)."""
        held = len(self._lists) + len(self._stats) + len(self._metas) + len(self._digests)
        if held > SCOPED_FORGET_MAX:
            self._drop_all()
            return False
        self._lists = OrderedDict((k, v) for k, v in self._lists.items() if k[:-1] == scope)
        self._stats = {k: v for k, v in self._stats.items() if k[:-1] == scope}
        self._metas = {k: v for k, v in self._metas.items() if k[:-1] == scope}
        self._digests = {k: v for k, v in self._digests.items() if k[:-1] == scope}
        self._size = sum(len(listing.entries) for listing in self._lists.values())
        self._only = scope
        return True

    def _since(self, key: Key, generation: int) -> list[Entry] | None:  # with the lock held
        """For a read of ``key`` that started at ``generation``: ``None`` when it must
        not be kept (something changed since that may touch ``key``: any change but
        this scope's uploads of other paths); else the entries those uploads committed
        into ``key`` as a folder (a listing of it may or may not show them)."""
        if generation == self.generation:
            return []
        if generation < self._settled:
            return None
        scope, path = key[:-1], key[-1].rstrip("/") or "/"
        since = [u for u in self._uploads if u[0] > generation]
        if len(since) != self.generation - generation:  # older than the journal
            return None
        if any(u[1] != scope or u[2] == path for u in since):
            return None
        return [u[3] for u in since if u[3] is not None and posixpath.dirname(u[2]) == path]

    def _drop_list(self, key: Key) -> None:  # with the lock held
        dropped = self._lists.pop(key, None)
        if dropped is not None:
            self._size -= len(dropped.entries)

    def shows(self, key: Key, seconds: float) -> bool | None:
        """Whether the listing of ``key``'s folder shows its name; ``None`` when no
        listing of the folder is at most ``seconds`` old."""
        *scope, path = key
        folder, name = posixpath.split(path.rstrip("/"))
        with self._lock:
            found = self._lists.get((*scope, folder))
            if found is None or time.monotonic() - found.when > seconds:
                return None
            return name in found.by_name

    def fetched_member(self, folder: Key, name: str) -> None:
        """Note that a stat of member ``name`` of ``folder`` went to the backend."""
        with self._lock:
            if len(self._misses) >= MAX_ENTRIES:
                self._misses.clear()
            self._misses[folder] = (time.monotonic(), name)

    def another_fetched(self, folder: Key, name: str, seconds: float) -> bool:
        """True when a stat of another member of ``folder`` went to the backend within
        ``seconds``, and the folder is not one found too big to list for a stat
        (``CachingBackend._from_folder``)."""
        now = time.monotonic()
        with self._lock:
            last = self._misses.get(folder)
            big = self._big.get(folder)
        if big is not None and now - big <= seconds * BIG_FOLDER_PAUSE:
            return False
        return last is not None and last[1] != name and now - last[0] <= seconds

    def too_big(self, folder: Key) -> None:
        """``folder``'s listing was too long to fetch for its members' stats."""
        with self._lock:
            if len(self._big) >= MAX_ENTRIES:
                self._big.clear()
            self._big[folder] = time.monotonic()

    def listed(self, key: Key, seconds: float) -> tuple[Entry, ...] | None:
        with self._lock:
            found = self._lists.get(key)
            if found is None or time.monotonic() - found.when > seconds:
                return None
            return tuple(found.entries)

    def stated(self, key: Key, seconds: float) -> Entry | None:
        """The entry at ``key``: remembered from a stat, or from its parent's listing
        (the newer of the two)."""
        *scope, path = key
        now = time.monotonic()
        with self._lock:
            found = self._stats.get(key)
            parent = self._lists.get((*scope, posixpath.dirname(path)))
            if found is not None and now - found[0] > seconds:
                found = None
            if path == "/" or parent is None or now - parent.when > seconds:
                return None if found is None else found[1]
            if found is None or parent.when > found[0]:
                return parent.by_name.get(posixpath.basename(path))
            return found[1]

    def meta(self, key: Key, seconds: float) -> dict[str, str] | None:
        with self._lock:
            found = self._metas.get(key)
        if found is None or time.monotonic() - found[0] > seconds:
            return None
        return dict(found[1])

    def keep_meta(self, key: Key, meta: dict[str, str], generation: int) -> None:
        with self._lock:
            if self._since(key, generation) is not None:
                if len(self._metas) >= MAX_ENTRIES:  # expired ones too: start again
                    self._metas.clear()
                self._noted(key)
                self._metas[key] = (time.monotonic(), dict(meta))

    def known_digests(
        self, key: Key, etag: str, seconds: float
    ) -> tuple[dict[str, str], frozenset[str]] | None:
        """The digests known of version ``etag`` at ``key``, and the algorithms asked."""
        with self._lock:
            found = self._digests.get(key, {}).get(etag)
        if found is None or time.monotonic() - found[0] > seconds:
            return None
        return found[1], found[2]

    def keep_digests(
        self, key: Key, etag: str, digests: dict[str, str], asked: frozenset[str], generation: int
    ) -> None:
        with self._lock:
            if self._since(key, generation) is None:
                return
            if len(self._digests) >= MAX_ENTRIES:
                self._digests.clear()
            self._noted(key)
            versions = self._digests.setdefault(key, {})
            old = versions.get(etag)
            if old is not None:  # what an earlier ask of this version found stays
                digests, asked = {**old[1], **digests}, old[2] | asked
            versions[etag] = (time.monotonic(), dict(digests), asked)

    def keep_list(self, key: Key, entries: Sequence[Entry], generation: int) -> None:
        with self._lock:
            added = self._since(key, generation)
            if added is None or len(entries) > MAX_ENTRIES:
                return
            self._noted(key)
            self._drop_list(key)
            listing = self._lists[key] = _Listing(time.monotonic(), entries)
            self._size += len(entries)
            for entry in added:  # committed while it was being listed
                self._size += listing.put(entry)
            while self._size > MAX_ENTRIES and self._lists:
                _, dropped = self._lists.popitem(last=False)
                self._size -= len(dropped.entries)

    def keep_stat(self, key: Key, entry: Entry, generation: int) -> None:
        with self._lock:
            if self._since(key, generation) is not None:
                if len(self._stats) >= MAX_ENTRIES:
                    self._stats.clear()
                self._noted(key)
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
        self._missing: set[str] = set()  # targets found missing from a folder's listing

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
        if usable and not self.fresh and (listed := self._from_folder(path)) is not None:
            return listed
        generation = CACHE.generation
        entry = self.inner.stat(path)
        if usable:
            CACHE.keep_stat(key, entry, generation)
            parent, name = posixpath.split(path.rstrip("/"))
            CACHE.fetched_member(self._key(parent), name)
        return entry

    def _from_folder(self, path: str) -> Entry | None:
        """A caller that stats one member after another (davfs2, Finder, rclone's
        mount, a script's loop) gets the folder listed once: when another member's
        stat went to the backend within ``seconds``, the folder is listed (one request
        per page instead of one per member; then cached like any listing). ``None``:
        ask the backend (the first member, a member the listing does not show, a
        folder that cannot be listed, the share's root: its members are Swift
        containers or top collections, each a cheap lookup, and its listing is not)."""
        entries = self._folder_for_member(path)
        name = posixpath.basename(path.rstrip("/"))
        return None if entries is None else next((e for e in entries if e.name == name), None)

    def _folder_for_member(self, path: str) -> Sequence[Entry] | None:
        """The listing of ``path``'s folder when another member of it was asked of
        the backend within ``seconds`` (listed now unless cached), else ``None``; never
        for the share's root."""
        parent, name = posixpath.split(path.rstrip("/"))
        if parent in ("", "/") or not CACHE.another_fetched(self._key(parent), name, self.seconds):
            return None
        try:
            entries = self.list(parent)
        except (OSError, ValueError):
            return None
        if len(entries) > BIG_FOLDER:  # one listing of it now and then, not per stat
            CACHE.too_big(self._key(parent))
        return entries

    def stat_target(self, path: str) -> Entry:
        """The target of a PUT or MKCOL: a folder the cache knows is answered from it
        (MKCOL's 405, a PUT's 405, with no backend call); so is a name that the
        folder's listing, at most ``seconds`` old, does not show: missing, and the
        upload is told so (``open_write(absent=True)``: no lookups, the write alone).
        A caller writing one new member after another gets the folder listed once
        for that (as ``_from_folder`` for stats), and each commit puts its entry
        into the listing. Anything else is asked of the backend, whose upload reads
        its row anyway (this request's lookup then serves both)."""
        key = self._key(path)
        usable = self._usable() and not self.fresh
        if usable:
            entry = CACHE.stated(key, self.seconds)
            if entry is not None and entry.is_dir:
                return entry
            if entry is None and self._absent(path):
                self._missing.add(path)
                raise FileNotFoundError(errno.ENOENT, f"not in its folder's listing: {path}")
        folder, name = posixpath.split(path.rstrip("/"))
        try:
            return self.inner.stat_target(path)
        except NotImplementedError:
            return self.stat(path)
        finally:
            if usable:
                CACHE.fetched_member(self._key(folder), name)

    def _absent(self, path: str) -> bool:
        """True when the cached listing of the folder does not show ``path``'s name
        (listed now when another member was asked of the backend lately)."""
        key = self._key(path)
        shown = CACHE.shows(key, self.seconds)
        if shown is None and self._folder_for_member(path) is not None:
            shown = CACHE.shows(key, self.seconds)
        return shown is False

    def list(self, path: str) -> Sequence[Entry]:
        def cached(key: Key) -> tuple[Entry, ...] | None:
            return cast(tuple[Entry, ...] | None, _seen("list", CACHE.listed(key, self.seconds)))

        return self._through(path, cached, self.inner.list, CACHE.keep_list)

    def get_meta(self, path: str) -> dict[str, str]:
        def cached(key: Key) -> dict[str, str] | None:
            return CACHE.meta(key, self.seconds)

        return self._through(path, cached, self.inner.get_meta, CACHE.keep_meta)

    def _through(
        self,
        path: str,
        cached: Callable[[Key], T | None],
        fetch: Callable[[str], T],
        keep: Callable[[Key, T, int], None],
    ) -> T:
        """``cached``'s answer when the cache may answer, else ``fetch``'s, kept
        unless something changed meanwhile (``ListingCache.generation``)."""
        key = self._key(path)
        usable = self._usable()
        if usable and not self.fresh and (found := cached(key)) is not None:
            return found
        generation = CACHE.generation
        value = fetch(path)
        if usable:
            keep(key, value, generation)
        return value

    def digests(
        self, path: str, entry: Entry, algorithms: Collection[str], *, compute: bool = False
    ) -> dict[str, str]:
        """The backend's answer, remembered per version (``entry.etag``): algorithms
        asked before are answered from the cache, found or not. With ``compute`` (the
        backend may compute and register a missing checksum of its own: a change) only
        when some digest is known, as the backend would then compute nothing."""
        key, wanted = self._key(path), frozenset(algorithms)
        usable = self._usable() and not self.fresh and bool(entry.etag) and not entry.is_dir
        known = CACHE.known_digests(key, entry.etag or "", self.seconds) if usable else None
        if known is not None and wanted <= known[1]:
            found = {a: v for a, v in known[0].items() if a in wanted}
            if found or not compute:
                return found
        if compute:
            computing = _forgetting(self.inner.digests, self.feed)
            return cast(dict[str, str], computing(path, entry, algorithms, compute=True))
        generation = CACHE.generation
        digests = self.inner.digests(path, entry, algorithms)
        if usable:
            CACHE.keep_digests(key, entry.etag or "", digests, wanted, generation)
        return digests

    def open_write(self, path: str, **options: Any) -> Upload:
        key = self._key(path)
        CACHE.forget_upload(key, keep_folder=True)
        if path in self._missing:  # this request's ``stat_target`` found it missing
            options["absent"] = True
        upload = _ForgettingUpload(self.inner.open_write(path, **options), key, self.feed)
        upload.keep = not self.fresh and self.feed is None
        upload.proven = lambda entry, digests: self._proven(path, entry, digests)
        return cast(Upload, upload)

    def _proven(self, path: str, entry: Entry, digests: Mapping[str, str]) -> None:
        """After a commit (and its forgetting): what it proved, for this caller (see
        the module docstring). A fleet's caches stay emptied (the next request
        aligns to the new change counter)."""
        if self.fresh or self.feed is not None:
            return
        generation = CACHE.generation
        key = self._key(path)
        CACHE.keep_stat(key, entry, generation)
        if entry.etag and digests:  # all a new version has: the gateway's and its own
            known = {**digests, **checksum_digests(entry.checksum)}
            CACHE.keep_digests(key, entry.etag, known, ALL_DIGESTS, generation)

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
    """An upload whose commit forgets the cache (the new object shows at once), then
    hands ``proven`` the new entry and the digests the gateway gave the upload."""

    def __init__(self, inner: Upload, key: Key, feed: ChangeFeed | None = None) -> None:
        self.inner, self.key, self.feed = inner, key, feed
        self.digests: dict[str, str] = {}
        self.proven: Callable[[Entry, Mapping[str, str]], None] | None = None
        self.keep = False  # may the new entry go into its folder's cached listing

    def set_digests(self, digests: Mapping[str, str]) -> None:
        self.inner.set_digests(digests)
        self.digests = dict(digests)  # kept by the backend (it did not refuse them)

    def commit(self) -> Entry:
        entry: Entry | None = None
        try:
            entry = self.inner.commit()
        finally:
            added = None
            if entry is not None and self.keep:
                name = posixpath.basename(self.key[-1].rstrip("/"))
                added = dataclasses.replace(entry, name=name)
            CACHE.forget_upload(self.key, added=added)
            if self.feed is not None:
                self.feed.changed()
        assert entry is not None  # the commit returned
        if self.proven is not None:
            self.proven(entry, self.digests if self.inner.digests_as_given else {})
        return entry

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
