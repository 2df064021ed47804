"""The fleet's lock storage (``dav/redislocks.py``) against a real Redis with ``KEYS``
disabled: atomic acquire with the conflict checks along the path, refresh, release, TTL
expiry and the index sweep, JSON values; two in-process gateways over one store enforce
each other's locks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from wsgidav.dav_error import DAVError

from davprovider.dav.redislocks import FleetLockManager, RedisLockStorage
from davprovider.fleet.connection import make_client
from davprovider.memory import MemoryFactory
from davprovider.settings import RedisSettings
from localgrid.redis import LocalRedis
from tests.helpers.gateway import memory_config, running_gateway
from tests.helpers.redis_server import local_redis, redis_server  # noqa: F401  (fixture)

LOCK_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>
<D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>"""


@pytest.fixture
def options(redis_server: LocalRedis, request: pytest.FixtureRequest) -> Iterator[RedisSettings]:  # noqa: F811
    """Settings with a key prefix of this test's own."""
    yield RedisSettings(url=redis_server.url, key_prefix=f"t-{request.node.name[:40]}:")


def manager(options: RedisSettings) -> FleetLockManager:
    """A lock manager with its own client (as another gateway process would have)."""
    return FleetLockManager(RedisLockStorage(options, make_client(options)))


def take(
    lm: FleetLockManager, url: str, scope: str = "exclusive", depth: str = "0", **kw: Any
) -> Any:
    return lm.acquire(
        url=url, lock_type="write", lock_scope=scope, lock_depth=depth, lock_owner=b"<o/>",
        timeout=kw.get("timeout", 60), principal=kw.get("principal", "alice"), token_list=[],
    )  # fmt: skip


def refused(lm: FleetLockManager, url: str, **kw: Any) -> list[str]:
    with pytest.raises(DAVError) as caught:
        take(lm, url, **kw)
    assert caught.value.value == 423
    assert caught.value.err_condition is not None
    return list(caught.value.err_condition.hrefs)


def test_conflicts_along_the_path(options: RedisSettings) -> None:
    one, two = manager(options), manager(options)
    lock = take(one, "/s/a/file")
    assert refused(two, "/s/a/file") == ["/s/a/file"]
    assert refused(two, "/s/a", depth="infinity") == ["/s/a/file"]  # a lock below
    take(two, "/s/a", depth="0")  # a depth-0 parent lock does not cover the file
    parent = take(one, "/s/b", depth="infinity")
    assert refused(two, "/s/b/deep/file") == ["/s/b"]  # a depth-infinity parent
    take(one, "/s/c", scope="shared")
    take(two, "/s/c", scope="shared")  # shared with shared
    assert refused(two, "/s/c") == ["/s/c"]
    assert one.release(lock["token"]) is None
    take(two, "/s/a/file")
    one.release(parent["token"])
    take(two, "/s/b/deep/file")


def test_write_checks_see_other_processes_locks(options: RedisSettings) -> None:
    one, two = manager(options), manager(options)
    lock = take(one, "/s/dir", depth="infinity")
    for url, depth in (("/s/dir/f", "0"), ("/s/dir", "infinity"), ("/s", "infinity")):
        with pytest.raises(DAVError) as caught:
            two.check_write_permission(url=url, depth=depth, token_list=[], principal="alice")
        assert caught.value.value == 423, url
    mine = [lock["token"]]
    two.check_write_permission(url="/s/dir/f", depth="0", token_list=mine, principal="alice")
    with pytest.raises(DAVError):  # the token is alice's, not bob's
        two.check_write_permission(url="/s/dir/f", depth="0", token_list=mine, principal="bob")
    two.check_write_permission(url="/s/other", depth="infinity", token_list=[], principal="bob")
    assert [x["token"] for x in two.get_indirect_url_lock_list("/s/dir/f/")] == mine


def test_a_write_in_progress_anywhere_refuses_a_lock(options: RedisSettings) -> None:
    one, two = manager(options), manager(options)
    with one.write_transaction(url="/s/w/file", token_list=[], principal="alice"):
        assert refused(two, "/s/w/file") == ["/s/w/file"]
        assert refused(two, "/s/w", depth="infinity") == ["/s/w/file"]
        take(two, "/s/w", depth="0")  # a depth-0 lock of the folder does not cover it
        assert two.get_url_lock_list("/s/w/file") == []  # a marker is no lock
        with two.write_transaction(url="/s/w/file", token_list=[], principal="bob"):
            pass  # writes do not exclude writes
    take(two, "/s/w/file")
    writing = one.write_transaction(url="/s/w/file", token_list=[], principal="alice")
    with pytest.raises(DAVError) as caught, writing:  # a lock refuses the write, no mark left
        pass
    assert caught.value.value == 423
    assert one.writes.pop("/s/w/file") is None
    members = one.storage.redis.zrange(options.key_prefix + "locks", 0, -1)
    assert not any(b"write:" in m for m in members)


def test_values_are_json_and_timeouts_are_ttls(options: RedisSettings) -> None:
    lm = manager(options)
    lock = take(lm, "/s/x", timeout=2)
    raw = lm.storage.redis
    stored = json.loads(raw.get(options.key_prefix + "lock:" + lock["token"]))
    assert stored["root"] == "/s/x" and stored["principal"] == "alice"
    assert 0 < raw.pttl(options.key_prefix + "lock:" + lock["token"]) <= 2000
    assert lm.get_lock(lock["token"])["owner"] == b"<o/>"
    refreshed = lm.refresh(lock["token"], timeout=30)
    assert refreshed["timeout"] == 30 and refreshed["expire"] > time.time() + 25
    assert lm.get_lock(lock["token"], key="timeout") == 30
    short = take(lm, "/s/y", timeout=1)
    time.sleep(1.2)
    assert lm.get_lock(short["token"]) is None  # gone by its TTL
    assert raw.zcard(options.key_prefix + "locks") == 2  # its index member waits
    lm.storage.cleanup()
    assert raw.zcard(options.key_prefix + "locks") == 1  # swept
    with pytest.raises(ValueError):
        lm.refresh(short["token"], timeout=10)
    take(lm, "/s/y")
    assert lm.storage.delete("opaquelocktoken:unknown") is False


def test_twelve_racers_one_winner_per_round(options: RedisSettings) -> None:
    managers = [manager(options) for _ in range(12)]
    for round_ in range(10):
        url = f"/s/race-{round_}"
        start = threading.Barrier(len(managers))
        winners: list[str] = []
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_race, args=(lm, url, start, winners, errors))
            for lm in managers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not errors and len(winners) == 1, (round_, winners, errors)


def _race(
    lm: FleetLockManager,
    url: str,
    start: threading.Barrier,
    winners: list[str],
    errors: list[BaseException],
) -> None:
    start.wait(timeout=10)
    try:
        winners.append(take(lm, url)["token"])
    except DAVError as exc:
        if exc.value != 423:
            errors.append(exc)


def test_two_gateways_one_lock(options: RedisSettings) -> None:
    """A lock taken through one gateway holds on the other (shared memory store)."""
    config = memory_config(redis={"url": options.url, "key_prefix": options.key_prefix})
    with running_gateway(config) as one:
        factories = {"/memory": one.factories["/memory"]}
        assert isinstance(factories["/memory"], MemoryFactory)
        with running_gateway(config, factories) as two:
            assert one.put("/memory/doc.txt", b"v1").status == 201
            taken = one.request("LOCK", "/memory/doc.txt", LOCK_BODY, {"Timeout": "Second-60"})
            assert taken.status == 200, taken.body
            token = taken.header("lock-token")
            assert token
            assert two.put("/memory/doc.txt", b"v2").status == 423
            assert two.request("DELETE", "/memory/doc.txt").status == 423
            assert two.request("LOCK", "/memory/doc.txt", LOCK_BODY).status == 423
            assert two.put("/memory/doc.txt", b"v2", headers={"If": f"({token})"}).status == 204
            assert (
                two.request("UNLOCK", "/memory/doc.txt", headers={"Lock-Token": token}).status
                == 204
            )
            assert one.put("/memory/doc.txt", b"v3").status == 204


def test_a_password_protected_redis(tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path_factory.mktemp("pw") / "redis.pw"
    secret.write_text("fleet-secret\n")
    with local_redis(tmp_path_factory, "auth", "requirepass fleet-secret\n") as server:
        options = RedisSettings(url=server.url, password_file=str(secret))
        take(manager(options), "/s/p")
        wrong = RedisSettings(url=server.url.replace("//", "//:nope@"))
        with pytest.raises(DAVError) as caught:  # refused by Redis: no lock state, 503
            take(manager(wrong), "/s/q")
        assert caught.value.value == 503
