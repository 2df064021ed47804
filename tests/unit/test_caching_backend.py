"""CachingBackend: what is kept, and what a change in between makes it drop."""

from __future__ import annotations

import threading
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
