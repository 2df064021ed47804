"""What the fleet's shared state in Redis adds to LOCK, UNLOCK and PUT (not a test).

Two ``davprovider serve`` processes over the memory backend (so that the backend costs
almost nothing and the difference shows): one alone (locks in its process), one with
``redis:`` (locks in Redis, listing-cache invalidations published) against a local
``redis-server`` (``localgrid.redis``). Each is asked over one keep-alive connection,
alternating between the two in every run: LOCK then UNLOCK of one file, and a PUT of
1 KiB; the figure is the median latency per verb, and the ratio and the difference are
taken within the same run. Then the lock storage's own calls in this process (one Lua
script each: acquire, write check, release).

    python bench/fleet_locks.py [--runs 5] [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import Client, Server, fmt3, machine, md_table, percentile, start_gateway, workspace

from davprovider.dav.redislocks import FleetLockManager, RedisLockStorage
from davprovider.settings import RedisSettings
from localgrid.redis import LocalRedis

LOCK_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>
<D:locktype><D:write/></D:locktype><D:owner>bench</D:owner></D:lockinfo>"""
USERS = {"alice": "alice"}
VERBS = ("LOCK", "UNLOCK", "PUT")


def memory_config(redis_url: str | None, listing_cache: float) -> dict[str, Any]:
    config: dict[str, Any] = {
        "listing_cache": listing_cache,
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 30},
        "logging": {"level": "info", "access_log": False},
        "shares": [{"path": "/m", "backend": "memory", "options": {"users": USERS}}],
    }
    if redis_url:
        config["redis"] = {"url": redis_url}
    return config


def one_round(client: Client, path: str, body: bytes) -> dict[str, float]:
    """LOCK, UNLOCK, PUT once: seconds each."""
    took: dict[str, float] = {}
    reply = client.request("LOCK", path, LOCK_BODY, {"Timeout": "Second-60"})
    assert reply.status == 200, reply.status
    took["LOCK"] = reply.seconds
    token = reply.headers["lock-token"]
    reply = client.request("UNLOCK", path, headers={"Lock-Token": token})
    assert reply.status == 204, reply.status
    took["UNLOCK"] = reply.seconds
    reply = client.request("PUT", path, body)
    assert reply.status in (201, 204), reply.status
    took["PUT"] = reply.seconds
    return took


def run(servers: dict[str, Server], requests: int) -> dict[str, dict[str, float]]:
    """One run: medians per server and verb (requests alternate between the servers)."""
    clients = {name: s.client(("alice", "alice")) for name, s in servers.items()}
    samples: dict[str, dict[str, list[float]]] = {n: {v: [] for v in VERBS} for n in servers}
    body = b"x" * 1024
    for client in clients.values():  # warm-up, untimed
        assert client.request("PUT", "/m/f.txt", body).status in (201, 204)
        for _ in range(20):
            one_round(client, "/m/f.txt", body)
    for _ in range(requests):
        for name, client in clients.items():
            for verb, seconds in one_round(client, "/m/f.txt", body).items():
                samples[name][verb].append(seconds)
    for client in clients.values():
        client.close()
    return {n: {v: statistics.median(s) for v, s in by.items()} for n, by in samples.items()}


def storage_calls(url: str, count: int) -> dict[str, list[float]]:
    """Microseconds of the lock storage's own calls (one Lua script each), in process."""
    manager = FleetLockManager(RedisLockStorage(RedisSettings(url=url, key_prefix="bench:")))
    took: dict[str, list[float]] = {"acquire": [], "write check": [], "release": []}
    for index in range(count):
        url_path = f"/m/dir/file-{index % 50}"
        started = time.perf_counter()
        lock = manager.acquire(
            url=url_path, lock_type="write", lock_scope="exclusive", lock_depth="0",
            lock_owner=b"<o/>", timeout=60, principal="alice", token_list=[],
        )  # fmt: skip
        took["acquire"].append(time.perf_counter() - started)
        started = time.perf_counter()
        manager.check_write_permission(
            url=url_path, depth="0", token_list=[lock["token"]], principal="alice"
        )
        took["write check"].append(time.perf_counter() - started)
        started = time.perf_counter()
        manager.release(lock["token"])
        took["release"].append(time.perf_counter() - started)
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    root = workspace("davbench-fleet-")
    with LocalRedis(Path(root) / "redis") as redis:
        servers = {
            f"{name}{suffix}": start_gateway(
                root, f"{name}{suffix}", memory_config(url, 0 if suffix else 5)
            )
            for name, url in (("alone", None), ("redis", redis.url))
            for suffix in ("", "-nocache")
        }
        try:
            runs = [run(servers, args.requests) for _ in range(args.runs)]
        finally:
            for server in servers.values():
                server.stop()
        calls = storage_calls(redis.url, args.requests * 3)
    print(machine())
    print(f"{args.runs} runs x {args.requests} rounds (LOCK, UNLOCK, PUT 1 KiB), memory backend")
    for suffix, what in (("", "listing cache 5 s (default)"), ("-nocache", "listing cache off")):
        rows = []
        for verb in VERBS:
            alone = [r[f"alone{suffix}"][verb] for r in runs]
            fleet = [r[f"redis{suffix}"][verb] for r in runs]
            rows.append([
                verb, fmt3(alone, 2, 1000), fmt3(fleet, 2, 1000),
                fmt3([f - a for f, a in zip(fleet, alone, strict=True)], 2, 1000),
                fmt3([f / a for f, a in zip(fleet, alone, strict=True)], 2),
            ])  # fmt: skip
        print(f"\n{what}:")
        print(md_table(["verb", "alone ms", "with redis ms", "added ms", "ratio"], rows))
    print()
    micro = [
        [name, f"{statistics.median(values) * 1e6:.0f}", f"{percentile(values, 99) * 1e6:.0f}"]
        for name, values in calls.items()
    ]
    print(md_table(["lock storage call (one Lua script)", "µs median", "µs p99"], micro))
    return 0


if __name__ == "__main__":
    sys.exit(main())
