"""Listing-cache coherence (``fleet/invalidation.py`` with ``dav/cache.py``) on a real
Redis: another gateway's change drops this process's cached listings at once; without
Redis nothing is cached; when Redis returns, caching resumes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from davprovider.backend import Entry
from davprovider.dav.cache import CACHE, CachingBackend
from davprovider.fleet.invalidation import ChangeFeed
from davprovider.settings import RedisSettings
from localgrid.redis import LocalRedis
from tests.helpers.redis_server import local_redis


def entry(name: str) -> Entry:
    return Entry(name=name, is_dir=False, size=1, modified=1.0, created=None,
                 etag=name, content_type=None, checksum=None)  # fmt: skip


class Inner:
    def __init__(self) -> None:
        self.lists = 0
        self.members = [entry("a")]

    def list(self, path: str) -> list[Entry]:
        self.lists += 1
        return list(self.members)


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    with local_redis(tmp_path_factory, "feed") as server:
        yield server


def feeds(redis: LocalRedis) -> tuple[ChangeFeed, ChangeFeed, list[int]]:
    """This gateway's feed (forgets CACHE) and another gateway's (counts its drops)."""
    options = RedisSettings(url=redis.url, timeout=0.5, connect_timeout=0.5)
    other_drops: list[int] = []
    mine = ChangeFeed(options, CACHE.forget).start()
    other = ChangeFeed(options, lambda: other_drops.append(1)).start()
    wait_for(lambda: mine.subscribed.is_set() and other.subscribed.is_set())
    return mine, other, other_drops


def request(inner: Any, feed: ChangeFeed) -> list[str]:
    """One request's listing of /d through the cache (a CachingBackend per request)."""
    backend = CachingBackend(inner, ("share", "basic", "alice"), 60, False, feed)
    return [e.name for e in backend.list("/d")]


def test_a_change_elsewhere_drops_the_cache_and_redis_loss_stops_caching(redis: LocalRedis) -> None:
    mine, other, other_drops = feeds(redis)
    try:
        CACHE.forget()
        inner = Inner()
        assert request(inner, mine) == ["a"] and request(inner, mine) == ["a"]
        assert inner.lists == 1  # the second came from the cache
        inner.members.append(entry("b"))  # another gateway changes the folder...
        other.changed()  # ...and says so, as its CachingBackend does after a change
        assert request(inner, mine) == ["a", "b"]  # at once: the counter check
        assert inner.lists == 2
        wait_for(lambda: len(other_drops) >= 1)  # the message reached the listeners too
        # a change through this gateway reaches the other one's listener
        backend = CachingBackend(_Changing(inner), ("share", "basic", "alice"), 60, False, mine)
        before = len(other_drops)
        backend.mkdir("/d/c")
        wait_for(lambda: len(other_drops) > before)

        redis.stop()
        wait_for(lambda: not mine.subscribed.is_set())
        for _ in range(3):
            assert request(inner, mine) == ["a", "b", "c"]  # never cached without Redis
        assert inner.lists == 5
        redis.start()
        wait_for(lambda: mine.subscribed.is_set(), 15)
        time.sleep(1.1)  # past the back-off after the failed counter reads
        request(inner, mine)
        request(inner, mine)
        assert inner.lists == 6  # caching again
    finally:
        mine.stop()
        other.stop()


class _Changing:
    def __init__(self, inner: Inner) -> None:
        self.inner = inner

    def list(self, path: str) -> list[Entry]:
        return self.inner.list(path)

    def mkdir(self, path: str) -> None:
        self.inner.members.append(entry(path.rsplit("/", 1)[-1]))


def test_a_read_overlapping_a_remote_change_is_not_kept(redis: LocalRedis) -> None:
    mine, other, _ = feeds(redis)
    try:
        CACHE.forget()
        inner = Inner()
        entered, release = threading.Event(), threading.Event()

        class Slow(Inner):
            def list(self, path: str) -> list[Entry]:
                snapshot = inner.list(path)
                entered.set()
                release.wait(5)
                return snapshot

        seen: list[list[str]] = []
        reader = threading.Thread(target=lambda: seen.append(request(Slow(), mine)))
        reader.start()
        assert entered.wait(5)
        inner.members.append(entry("b"))
        other.changed()
        release.set()
        reader.join(5)
        assert seen == [["a"]]  # began before the change: may answer the old listing
        assert request(inner, mine) == ["a", "b"]  # but it was not kept
    finally:
        mine.stop()
        other.stop()


def test_a_forked_worker_listens_on_its_own(redis: LocalRedis) -> None:
    """A pre-forked worker inherits the feed but not its thread: it starts its own."""
    mine, other, _ = feeds(redis)
    try:
        pid = os.fork()
        if pid == 0:  # the child: exit status 0 when it caches and follows changes
            code = 1
            try:
                wait_for(lambda: mine.current() is not None, 10)
                CACHE.forget()
                inner = Inner()
                request(inner, mine), request(inner, mine)
                inner.members.append(entry("b"))
                ChangeFeed(mine.options, lambda: None).changed()
                code = 0 if request(inner, mine) == ["a", "b"] and inner.lists == 2 else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        mine.stop()
        other.stop()
