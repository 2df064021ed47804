"""Three gateway processes over one iRODS zone and one Swift, sharing one Redis, behind
HAProxy (round-robin per request): they behave as one server. Locks race and hold
across gateways, listings are coherent at once, litmus passes through the balancer on
both shares, and a Redis restart is survived without restarting the gateways."""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localgrid.irods import LocalZone
from localgrid.redis import LocalRedis
from localgrid.swift import LocalSwift
from tests.helpers.davxml import hrefs
from tests.helpers.fleet import LOCK_BODY, fleet_config, send, start_gateways
from tests.helpers.haproxy import HAProxy, running_haproxy
from tests.helpers.irods_gateway import AUTH_ALICE, SHARE, GatewayProcess, seed
from tests.helpers.litmus_run import assert_litmus_passes
from tests.helpers.redis_server import NO_KEYS, local_redis
from tests.helpers.swift_helpers import MiB, local_swift, swift_share

ROUNDS = 8
RACERS = 12


@dataclass
class Fleet:
    gateways: list[GatewayProcess]
    redis: LocalRedis
    balancer: HAProxy
    swift: LocalSwift

    @property
    def ports(self) -> list[int]:
        return [g.port for g in self.gateways]


@pytest.fixture(scope="module")
def fleet(irods_zone: LocalZone, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    seed(irods_zone)
    root = tmp_path_factory.mktemp("fleet")
    with (
        local_redis(tmp_path_factory, "fleet-redis", NO_KEYS) as redis,
        local_swift(tmp_path_factory, "fleet-swift") as swift,
    ):
        share = swift_share(swift, segment_size=MiB)
        limit = {"failures": 5, "window": 60, "block": 30, "trusted_proxies": ["127.0.0.1/32"]}
        config = fleet_config(irods_zone.port, redis.url, [share], login_limit=limit)
        gateways = start_gateways(config, root, 3)
        try:
            with running_haproxy(root / "haproxy", [g.port for g in gateways]) as balancer:
                yield Fleet(gateways, redis, balancer, swift)
        finally:
            for gateway in gateways:
                gateway.stop()


@pytest.fixture
def folder(fleet: Fleet) -> str:
    path = f"{SHARE}/alice/f-{uuid.uuid4().hex[:8]}/"
    assert send(fleet.ports[0], "MKCOL", path)[0] == 201
    return path


def lock(port: int, path: str, timeout: str = "Second-120") -> tuple[int, str | None]:
    status, headers, _ = send(port, "LOCK", path, LOCK_BODY, {"Timeout": timeout})
    return status, headers.get("lock-token")


def _racer(
    port: int, target: str, start: threading.Barrier, results: list[tuple[int, str | None]]
) -> None:
    start.wait(timeout=20)
    results.append(lock(port, target))


def test_twelve_clients_race_for_one_lock_through_three_gateways(fleet: Fleet, folder: str) -> None:
    target = f"{folder}contended.txt"
    assert send(fleet.ports[0], "PUT", target, b"x")[0] == 201
    for round_ in range(ROUNDS):
        start = threading.Barrier(RACERS)
        results: list[tuple[int, str | None]] = []
        threads = [
            threading.Thread(target=_racer, args=(fleet.ports[i % 3], target, start, results))
            for i in range(RACERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] + [423] * (RACERS - 1), (round_, statuses)
        token = next(token for status, token in results if status == 200)
        assert token
        unlocked = send(fleet.ports[round_ % 3], "UNLOCK", target, headers={"Lock-Token": token})
        assert unlocked[0] == 204, (round_, unlocked)


def test_a_lock_taken_on_one_gateway_holds_on_the_others(fleet: Fleet, folder: str) -> None:
    one, two, three = fleet.ports
    target = f"{folder}doc.txt"
    assert send(one, "PUT", target, b"v1")[0] == 201
    status, token = lock(one, target)
    assert status == 200 and token
    assert send(two, "PUT", target, b"v2")[0] == 423
    assert send(three, "DELETE", target)[0] == 423
    assert send(two, "MOVE", target, headers={"Destination": f"{folder}moved.txt"})[0] == 423
    assert send(three, "DELETE", folder)[0] == 423  # a lock below the folder
    assert lock(three, target)[0] == 423
    assert send(two, "PUT", target, b"v2", {"If": f"({token})"})[0] == 204
    assert send(three, "GET", target)[2] == b"v2"
    assert send(three, "UNLOCK", target, headers={"Lock-Token": token})[0] == 204
    assert send(one, "PUT", target, b"v3")[0] == 204
    status, token = lock(two, folder, "Second-120")  # depth infinity on the folder
    assert status == 200 and token
    assert send(three, "PUT", f"{folder}new.txt", b"n")[0] == 423
    assert send(one, "PUT", f"{folder}new.txt", b"n", {"If": f"({token})"})[0] == 201
    assert send(one, "UNLOCK", folder, headers={"Lock-Token": token})[0] == 204


def test_no_gateway_grants_a_lock_on_a_file_another_is_writing(fleet: Fleet, folder: str) -> None:
    one, two, _ = fleet.ports
    target = f"{folder}streamed.bin"
    assert send(one, "PUT", target, b"old")[0] == 201
    body = b"n" * 200_000
    with socket.create_connection(("127.0.0.1", one), timeout=30) as sock:
        head = (
            f"PUT {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH_ALICE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[:100_000])
        redis, deadline = fleet.redis.client(), time.monotonic() + 10
        while not any(b"\0write:" in m for m in redis.zrange("davprovider:locks", 0, -1)):
            assert time.monotonic() < deadline, "the write was never marked"
            time.sleep(0.02)  # until gateway one has begun the write
        assert lock(two, target)[0] == 423
        assert lock(fleet.ports[2], folder)[0] == 423  # depth infinity over it, too
        sock.sendall(body[100_000:])
        assert sock.recv(200).split(b" ")[1] == b"204"
    status, token = lock(two, target)
    assert status == 200 and token
    assert send(two, "UNLOCK", target, headers={"Lock-Token": token})[0] == 204
    assert send(one, "GET", target)[2] == body


def listing(port: int, path: str) -> set[str]:
    """The member names of a Depth 1 PROPFIND of ``path``."""
    status, _, body = send(port, "PROPFIND", path, headers={"Depth": "1"})
    assert status == 207, body
    return {
        p.rstrip("/").rsplit("/", 1)[-1] for p in hrefs(body) if p.rstrip("/") != path.rstrip("/")
    }


def test_a_change_through_one_gateway_is_listed_by_the_others_at_once(
    fleet: Fleet, folder: str
) -> None:
    for round_ in range(10):
        writer, reader = fleet.ports[round_ % 3], fleet.ports[(round_ + 1) % 3]
        before = listing(reader, folder)  # the reader's cache holds this listing now
        name = f"n{round_}.txt"
        assert name not in before
        assert send(writer, "PUT", f"{folder}{name}", b"data")[0] == 201
        assert name in listing(reader, folder), round_
        assert send(writer, "DELETE", f"{folder}{name}")[0] == 204
        assert name not in listing(reader, folder), round_


def test_litmus_passes_through_the_balancer_on_both_shares(fleet: Fleet, tmp_path: Path) -> None:
    irods_dir = f"{SHARE}/alice/litmus-{uuid.uuid4().hex[:6]}/"
    swift_dir = f"/swift/litmus-{uuid.uuid4().hex[:6]}/"
    for path in (irods_dir, swift_dir):
        assert send(fleet.balancer.port, "MKCOL", path)[0] == 201
    for path in (irods_dir, swift_dir):
        since = [len(g.log()) for g in fleet.gateways]
        work = tmp_path / path.strip("/").replace("/", "-")
        work.mkdir()
        assert_litmus_passes(["-k", fleet.balancer.url(path), "alice", "alice"], work)
        logs = [g.log()[offset:] for g, offset in zip(fleet.gateways, since, strict=True)]
        counts = [len(re.findall(r' alice "[A-Z]+ ', log)) for log in logs]
        assert all(count > 20 for count in counts), counts  # every gateway took part


def test_failed_logins_through_the_balancer_block_the_address_on_every_gateway(
    fleet: Fleet,
) -> None:
    wrong = "Basic " + base64.b64encode(b"alice:wrong").decode()
    redis = fleet.redis.client()
    try:
        for _ in range(5):  # round-robin: spread over the three gateways
            assert send(fleet.balancer.port, "PROPFIND", "/irods/", auth=wrong)[0] == 401
        status, headers, _ = send(fleet.balancer.port, "PROPFIND", "/irods/")
        assert status == 429 and 25 <= int(headers["retry-after"]) <= 30
        for port in fleet.ports:  # the same client address, straight to each gateway
            assert send(port, "PROPFIND", "/irods/")[0] == 429
    finally:
        redis.delete("davprovider:blocked:127.0.0.1", "davprovider:logins:127.0.0.1")
    assert send(fleet.balancer.port, "PROPFIND", "/irods/", headers={"Depth": "0"})[0] == 207


def test_gateways_follow_a_redis_restart_without_being_restarted(fleet: Fleet, folder: str) -> None:
    one, two, three = fleet.ports
    target = f"{folder}r.txt"
    assert send(one, "PUT", target, b"before")[0] == 201
    pids = [g.pid for g in fleet.gateways]
    fleet.redis.stop()
    assert lock(one, target)[0] == 503  # the lock state cannot be known: no lock
    assert send(two, "PUT", target, b"x")[0] == 503  # nor a write that a lock could stop
    assert send(three, "GET", target)[2] == b"before"  # reads go on
    assert listing(three, folder) == listing(three, folder)
    fleet.redis.start()
    deadline = time.monotonic() + 20
    while lock(two, target)[0] != 200:
        assert time.monotonic() < deadline, "no lock after Redis came back"
        time.sleep(0.2)
    assert send(one, "PUT", target, b"y")[0] == 423  # enforced again, everywhere
    assert send(three, "PUT", target, b"y")[0] == 423
    for round_ in range(3):  # and listings coherent again
        before = listing(three, folder)
        assert send(one, "MKCOL", f"{folder}d{round_}/")[0] == 201
        assert f"d{round_}" in listing(three, folder) and f"d{round_}" not in before
    assert [g.pid for g in fleet.gateways] == pids and all(
        g.process.poll() is None for g in fleet.gateways
    )
