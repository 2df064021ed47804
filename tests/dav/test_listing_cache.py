"""The listing cache: repeated listings and member stats cost no backend call, any change
through the gateway shows at once, other changes after ``listing_cache`` seconds."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from davprovider.backend import Backend
from davprovider.memory import MemoryBackend, MemoryFactory, Options

NAMED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/>
</D:prop></D:propfind>"""
DEPTH1 = {"Depth": "1"}
ALICE, BOB = ("alice", "alice-pw"), ("bob", "bob-pw")


class Counting:
    def __init__(self, inner: Backend, calls: Counter[str]) -> None:
        self._inner, self._calls = inner, calls

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls[name] += 1
            return target(*args, **kwargs)

        return call


class CountingFactory(MemoryFactory):
    def __init__(self) -> None:
        super().__init__(Options(users={"alice": "alice-pw", "bob": "bob-pw"}))
        self.calls: Counter[str] = Counter()
        direct = MemoryBackend(self.tree)
        direct.mkdir("/docs")
        for name in ("a.txt", "b.txt", "c.txt"):
            upload = direct.open_write(f"/docs/{name}", size=3)
            upload.write(b"abc")
            upload.commit()

    def __call__(self, identity: Any) -> Any:
        return Counting(super().__call__(identity), self.calls)


def names(body: bytes) -> list[str]:
    return sorted(n for n in ("a.txt", "b.txt", "c.txt", "d.txt") if f"/{n}<".encode() in body)


def start(start_gateway: Any, config: Any, seconds: float = 5) -> tuple[Any, CountingFactory]:
    factory = CountingFactory()
    gateway = start_gateway(config(listing_cache=seconds), {"/memory": factory})
    return gateway, factory


def test_a_listing_answers_the_next_listing_and_the_members_stats(start_gateway, config):
    gw, factory = start(start_gateway, config)
    first = gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    assert factory.calls == Counter({"stat": 1, "list": 1})
    factory.calls.clear()

    again = gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    for name in ("a.txt", "b.txt", "c.txt"):  # Finder and Explorer ask each member next
        member = gw.request("PROPFIND", f"/memory/docs/{name}", NAMED, headers={"Depth": "0"})
        assert member.status == 207
    assert gw.get("/memory/docs/a.txt", user=ALICE).body == b"abc"

    assert again.body == first.body and names(first.body) == ["a.txt", "b.txt", "c.txt"]
    assert factory.calls == Counter({"redirect_url": 1, "open_read": 1}), factory.calls


def test_a_change_through_the_gateway_shows_at_once(start_gateway, config):
    gw, factory = start(start_gateway, config)
    gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)

    assert gw.put("/memory/docs/d.txt", b"new", user=BOB).status == 201
    after_put = gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    assert gw.request("DELETE", "/memory/docs/a.txt", user=ALICE).status == 204
    after_delete = gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    assert gw.request("MOVE", "/memory/docs/b.txt", headers={
        "Destination": "/memory/docs/e.txt"}, user=ALICE).status == 201  # fmt: skip
    moved = gw.request("PROPFIND", "/memory/docs/e.txt", NAMED, headers={"Depth": "0"})

    assert names(after_put.body) == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert names(after_delete.body) == ["b.txt", "c.txt", "d.txt"]
    assert moved.status == 207
    assert gw.get("/memory/docs/b.txt", user=ALICE).status == 404


def test_a_change_behind_the_gateway_shows_after_the_ttl_or_when_asked_fresh(start_gateway, config):
    gw, factory = start(start_gateway, config, seconds=0.5)
    gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    MemoryBackend(factory.tree).remove("/docs/c.txt")  # as iput or the swift CLI would

    cached = gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    fresh = gw.request("PROPFIND", "/memory/docs/", NAMED, user=ALICE,
                       headers={**DEPTH1, "Cache-Control": "no-cache"})  # fmt: skip
    assert names(cached.body) == ["a.txt", "b.txt", "c.txt"]
    assert names(fresh.body) == ["a.txt", "b.txt"]

    MemoryBackend(factory.tree).remove("/docs/b.txt")
    time.sleep(0.6)
    later = gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    assert names(later.body) == ["a.txt"]


def test_users_never_share_a_listing(start_gateway, config):
    gw, factory = start(start_gateway, config)
    gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    factory.calls.clear()

    gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=BOB)

    assert factory.calls == Counter({"stat": 1, "list": 1})


def test_zero_seconds_turns_the_cache_off(start_gateway, config):
    gw, factory = start(start_gateway, config, seconds=0)
    for _ in range(2):
        gw.request("PROPFIND", "/memory/docs/", NAMED, headers=DEPTH1, user=ALICE)
    assert factory.calls == Counter({"stat": 2, "list": 2})
