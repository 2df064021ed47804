"""``davprovider serve --workers N``: real processes on one port. Two workers serve, a
killed worker is replaced, SIGTERM lets an upload in flight finish and then refuses new
connections; locks kept in each process are refused, locks kept in Redis are every
worker's."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from localgrid.redis import LocalRedis
from tests.helpers.fleet import LOCK_BODY, send
from tests.helpers.raw_http import read_status
from tests.helpers.redis_server import redis_server  # noqa: F401  (fixture)
from tests.helpers.serve_process import GatewayProcess, start_process

AUTH = "Basic " + base64.b64encode(b"alice:alice").decode()
READY = re.compile(r"worker (\d+) started \(pid (\d+)\)")


def config(**server: object) -> dict[str, object]:
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 4, **server},
        "logging": {"level": "info", "access_log": True},
        "lock_storage": "none",  # per-process locks are refused with workers (no Redis here)
        "shares": [
            {"path": "/memory", "backend": "memory", "options": {"users": {"alice": "alice"}}}
        ],
    }


@pytest.fixture
def workers(tmp_path: Path):
    started: list[GatewayProcess] = []

    def start(count: int = 2, **server: object) -> GatewayProcess:
        running = start_process(config(**server), tmp_path, args=("--workers", str(count)))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def ready_pids(running: GatewayProcess, count: int, timeout: float = 15.0) -> dict[int, int]:
    """Worker number -> pid of the latest start, once ``count`` workers are ready."""
    deadline = time.monotonic() + timeout
    while True:
        found = {int(n): int(p) for n, p in READY.findall(running.log())}
        alive = {n: p for n, p in found.items() if Path(f"/proc/{p}").exists()}
        if len(alive) >= count or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def get(port: int, path: str = "/memory/") -> int:
    return send(port, "PROPFIND", path, headers={"Depth": "0"}, timeout=10)[0]


def test_two_workers_share_the_port_and_a_dead_one_is_replaced(workers):
    running = workers(2)
    pids = ready_pids(running, 2)
    assert len(pids) == 2 and len(set(pids.values())) == 2
    assert all(parent_of(pid) == running.pid for pid in pids.values())
    serving: set[str] = set()
    with ThreadPoolExecutor(8) as pool:
        for _ in range(5):  # bounded: the kernel picks the worker of each connection
            assert set(pool.map(lambda _: get(running.port), range(40))) == {207}
            serving = set(re.findall(r"davprovider\.access\[(\d+)\]", running.log()))
            if len(serving) == 2:
                break
    assert serving == {str(p) for p in pids.values()}
    os.kill(pids[1], signal.SIGKILL)
    deadline = time.monotonic() + 15
    while ready_pids(running, 2, timeout=0).get(1, pids[1]) == pids[1]:
        assert time.monotonic() < deadline, running.log_tail()
        assert get(running.port) == 207  # worker 2 serves meanwhile
        time.sleep(0.1)
    assert "worker 1 exited (signal 9)" in running.log()
    assert get(running.port) == 207


def test_workers_refuse_locks_kept_in_each_process(tmp_path: Path):
    path = tmp_path / "locks.yaml"
    path.write_text(yaml.safe_dump({**config(), "lock_storage": "memory"}))
    cmd = [sys.executable, "-m", "davprovider", "serve", "--config", str(path), "--workers", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "needs redis:" in done.stderr


def test_workers_share_locks_kept_in_redis(
    redis_server: LocalRedis,  # noqa: F811
    tmp_path: Path,
):
    settings = {**config(), "lock_storage": "memory"}
    settings["redis"] = {"url": redis_server.url, "key_prefix": "workers-test:"}
    running = start_process(settings, tmp_path, args=("--workers", "2"))
    try:
        pids = ready_pids(running, 2)
        path = "/memory/locked.txt"  # each worker has its own memory share: lock a new name
        status, headers, _ = send(running.port, "LOCK", path, LOCK_BODY, {"Timeout": "Second-60"})
        token = headers.get("lock-token", "")
        assert status == 201 and token
        assert redis_server.client().exists(f"workers-test:lock:{token.strip('<>')}")
        refused: set[str] = set()
        with ThreadPoolExecutor(8) as pool:
            for _ in range(5):  # bounded: the kernel picks the worker of each connection
                puts = pool.map(lambda _: send(running.port, "PUT", path, b"two")[0], range(20))
                assert set(puts) == {423}
                refused = set(
                    re.findall(r"davprovider\.access\[(\d+)\].*PUT \S+ 423", running.log())
                )
                if len(refused) == 2:
                    break
        assert refused == {str(p) for p in pids.values()}  # each worker knew the lock
        assert send(running.port, "PUT", path, b"two", {"If": f"({token})"})[0] in {201, 204}
    finally:
        running.stop()


def test_sigterm_lets_an_upload_in_flight_finish_then_refuses(workers):
    running = workers(2, shutdown_timeout=10)
    ready_pids(running, 2)
    body = b"x" * 100_000
    sock = socket.create_connection(("127.0.0.1", running.port), timeout=15)
    head = (
        f"PUT /memory/slow.bin HTTP/1.1\r\nHost: t\r\nAuthorization: {AUTH}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body[:1000])
    time.sleep(0.5)  # the request is in a worker's hands
    os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while True:  # new connections are refused once every worker closed the socket
        try:
            socket.create_connection(("127.0.0.1", running.port), timeout=2).close()
        except ConnectionRefusedError:
            break
        assert time.monotonic() < deadline, "the port still accepts connections"
        time.sleep(0.1)
    for offset in range(1000, len(body), 33_000):  # the rest, slowly
        sock.sendall(body[offset : offset + 33_000])
        time.sleep(0.3)
    status, _ = read_status(sock)
    sock.close()
    assert status.split()[1] in {"201", "204"}, status
    assert running.process.wait(timeout=20) == 0
    assert "stopping 2 workers" in running.log()
