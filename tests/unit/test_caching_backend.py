"""CachingBackend: what is kept, and what a change in between makes it drop."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from davprovider.backend import Entry
from davprovider.dav.cache import CACHE, SCOPED_FORGET_MAX, CachingBackend, ListingCache


def entry(name: str) -> Entry:
    return Entry(name=name, is_dir=False, size=1, modified=1.0, created=None,
                 etag=name, content_type=None, checksum=None)  # fmt: skip


class Inner:
    """Answers list/stat from a dict; ``list`` may wait for ``release``."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.members = {"/d": [entry("a"), entry("b")]}
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def list(self, path: str) -> list[Entry]:
        self.calls["list"] += 1
        snapshot = list(self.members[path])
        self.entered.set()
        self.release.wait(5)
        return snapshot

    def stat(self, path: str) -> Entry:
        self.calls["stat"] += 1
        return entry(path.rsplit("/", 1)[-1])

    def mkdir(self, path: str) -> None:
        self.calls["mkdir"] += 1
        self.members["/d"].append(entry(path.rsplit("/", 1)[-1]))


def cached(inner: Any, user: str = "alice", fresh: bool = False) -> Any:
    return CachingBackend(inner, ("test-share", "basic", user), 60, fresh)


def test_a_listing_answers_listings_and_member_stats_of_the_same_user():
    CACHE.forget()
    inner = Inner()
    assert [e.name for e in cached(inner).list("/d")] == ["a", "b"]
    assert cached(inner).stat("/d/b").name == "b"
    assert [e.name for e in cached(inner).list("/d")] == ["a", "b"]
    cached(inner).stat("/d/missing")  # not in the listing: asked, never inferred
    cached(inner, user="bob").list("/d")
    cached(inner, fresh=True).list("/d")
    assert inner.calls == Counter({"list": 3, "stat": 1})


def test_a_listing_that_overlapped_a_change_is_not_kept():
    CACHE.forget()
    inner = Inner()
    inner.release.clear()
    reader = threading.Thread(target=lambda: cached(inner).list("/d"))
    reader.start()
    assert inner.entered.wait(5)
    cached(inner).mkdir("/d/c")  # lands while the listing is on its way
    inner.release.set()
    reader.join(5)

    assert [e.name for e in cached(inner).list("/d")] == ["a", "b", "c"]
    assert inner.calls == Counter({"list": 2, "mkdir": 1})


def test_an_upload_keeps_the_callers_other_entries_and_drops_everyone_elses() -> None:
    """Scoped forgetting (``ListingCache.forget_upload``): the uploader's cached stats
    of other files stay; the uploaded name, its folder's listing and every other
    caller's entries go."""
    cache = ListingCache()
    mine, theirs = ("/share", "basic", "alice", ""), ("/share", "basic", "bob", "")
    entry = Entry("x", False, 1, 1.0, "e", None, None)
    folder = Entry("d", True, None, 1.0, None, None, None)
    for scope in (mine, theirs):
        cache.keep_stat((*scope, "/d/other.txt"), entry, cache.generation)
        cache.keep_stat((*scope, "/d/new.txt"), entry, cache.generation)
        cache.keep_stat((*scope, "/d"), folder, cache.generation)
        cache.keep_list((*scope, "/d"), [entry], cache.generation)
        cache.keep_list((*scope, "/e"), [entry], cache.generation)
    cache.forget_upload((*mine, "/d/new.txt"))
    assert cache.stated((*mine, "/d/other.txt"), 60) == entry
    assert cache.stated((*mine, "/d"), 60) == folder
    assert cache.listed((*mine, "/e"), 60) is not None
    assert cache.stated((*mine, "/d/new.txt"), 60) is None
    assert cache.listed((*mine, "/d"), 60) is None
    for path in ("/d/other.txt", "/d", "/d/new.txt"):
        assert cache.stated((*theirs, path), 60) is None
    assert cache.listed((*theirs, "/e"), 60) is None


def test_a_folder_too_big_to_list_is_not_listed_for_its_members_stats() -> None:
    cache = ListingCache()
    folder = ("/share", "basic", "alice", "", "/big")
    cache.fetched_member(folder, "a")
    assert cache.another_fetched(folder, "b", 5)  # b's stat would list the folder
    assert not cache.another_fetched(folder, "a", 5)  # the same member again: no
    cache.too_big(folder)
    assert not cache.another_fetched(folder, "b", 5)  # for a while, one by one


def test_an_upload_empties_a_cache_too_large_to_walk() -> None:
    """Scoped forgetting walks every key; past ``SCOPED_FORGET_MAX`` it empties the
    cache instead (entries left to expire go with it)."""
    cache = ListingCache()
    mine = ("/share", "basic", "alice", "")
    entry = Entry("x", False, 1, 1.0, "e", None, None)
    for index in range(SCOPED_FORGET_MAX + 1):
        cache.keep_stat((*mine, f"/d/f{index}"), entry, cache.generation)
    cache.forget_upload((*mine, "/e/new.txt"))
    assert cache.stated((*mine, "/d/f0"), 60) is None
    cache.keep_stat((*mine, "/d/f0"), entry, cache.generation)
    cache.forget_upload((*mine, "/e/new.txt"))
    assert cache.stated((*mine, "/d/f0"), 60) == entry  # small again: scoped


class Upload:
    digests_as_given = False

    def __init__(self, path: str) -> None:
        self.name = path.rsplit("/", 1)[-1]

    def commit(self) -> Entry:
        return entry(self.name)


class Writable(Inner):
    """``Inner`` that writes: ``stat_target`` finds nothing, ``open_write`` notes
    whether it was told the target is absent."""

    def __init__(self) -> None:
        super().__init__()
        self.absent: list[bool] = []

    def stat_target(self, path: str) -> Entry:
        self.calls["stat_target"] += 1
        raise FileNotFoundError(path)

    def open_write(self, path: str, **options: Any) -> Upload:
        self.absent.append(options.get("absent", False))
        return Upload(path)


def put(backend: Any, path: str) -> None:
    """What a PUT does: the target's lookup, then the upload."""
    try:
        backend.stat_target(path)
    except FileNotFoundError:
        pass
    backend.open_write(path, size=1).commit()


def test_a_name_missing_from_a_fresh_listing_is_written_with_no_lookup() -> None:
    """A PUT target the folder's cached listing does not show is missing (the upload
    is told: ``absent``), and the commit puts it into that listing."""
    CACHE.forget()
    inner = Writable()
    cached(inner).list("/d")
    put(cached(inner), "/d/c")
    assert inner.absent == [True] and inner.calls["stat_target"] == 0
    assert [e.name for e in cached(inner).list("/d")] == ["a", "b", "c"]
    assert cached(inner).stat("/d/c").name == "c"
    put(cached(inner), "/d/a")  # shown: an overwrite, looked up by the backend
    put(cached(inner, fresh=True), "/d/e")  # a browser's reload: asked too
    assert inner.absent == [True, False, False]
    assert inner.calls == Counter({"list": 1, "stat_target": 2})
    put(cached(inner, user="bob"), "/d/f")  # bob has no listing of /d: asked
    assert inner.calls == Counter({"list": 1, "stat_target": 3})


def test_new_members_written_one_after_another_list_the_folder_once() -> None:
    CACHE.forget()
    inner = Writable()
    for name in ("x1", "x2", "x3", "x4"):
        put(cached(inner, user="carol"), f"/d/{name}")
    # x1 asked of the backend; x2 lists the folder; x3, x4 from that listing
    assert inner.absent == [False, True, True, True]
    assert inner.calls == Counter({"stat_target": 1, "list": 1})
    listed = cached(inner, user="carol").list("/d")
    assert [e.name for e in listed] == ["a", "b", "x2", "x3", "x4"]


def test_a_listing_older_than_the_cache_time_says_nothing_of_a_target() -> None:
    CACHE.forget()
    inner = Writable()
    short = CachingBackend(inner, ("test-share", "basic", "alice"), 0.05, False)
    short.list("/d")
    time.sleep(0.1)
    put(CachingBackend(inner, ("test-share", "basic", "alice"), 0.05, False), "/d/c")
    assert inner.absent == [False] and inner.calls["stat_target"] == 1


def test_a_read_that_overlapped_only_the_callers_uploads_of_other_paths_is_kept() -> None:
    """Several transfers of one caller into one folder: a listing under way while
    another file commits is kept, with that file in it; what an upload of the same
    path, another caller's upload or any other change overlapped is not."""
    cache = ListingCache()
    mine, theirs = ("/share", "basic", "alice", ""), ("/share", "basic", "bob", "")
    old, new = (
        Entry("a", False, 1, 1.0, "e", None, None),
        Entry("b", False, 2, 2.0, "f", None, None),
    )
    started = cache.generation
    cache.forget_upload((*mine, "/d/b"), added=new)  # b commits while /d is being listed
    cache.keep_list((*mine, "/d"), [old], started)
    assert [e.name for e in cache.listed((*mine, "/d"), 60) or ()] == ["a", "b"]
    cache.keep_stat((*mine, "/d/a"), old, started)  # another path: kept
    assert cache.stated((*mine, "/d/a"), 60) == old
    cache.keep_stat((*mine, "/d/b"), old, started)  # the uploaded path: a stale answer
    assert cache._stats.get((*mine, "/d/b")) is None

    started = cache.generation
    cache.forget_upload((*theirs, "/d/c"), added=new)  # another caller's upload
    cache.keep_list((*mine, "/e"), [old], started)
    assert cache.listed((*mine, "/e"), 60) is None

    started = cache.generation
    cache.forget()  # any other change
    cache.keep_list((*mine, "/e"), [old], started)
    assert cache.listed((*mine, "/e"), 60) is None
