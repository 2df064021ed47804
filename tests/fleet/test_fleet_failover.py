"""A gateway killed (SIGKILL) under upload load through HAProxy: every acknowledged upload
is in the zone, whole; the balancer keeps serving on the other gateway."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import signal
import threading
import time
from pathlib import Path

import yaml

from localgrid.fleet import Fleet, free_port
from tests.helpers.external_tools import require_tool
from tests.helpers.irods_gateway import ALICE, gateway_config, seed

AUTH = "Basic " + base64.b64encode(f"{ALICE[0]}:{ALICE[1]}".encode()).decode()
SIZE = 256 * 1024


def put(port: int, path: str, data: bytes) -> int | None:
    """The status of one PUT on a new connection, or None when it got no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("PUT", path, body=data, headers={"Authorization": AUTH})
        reply = conn.getresponse()
        reply.read()
        return reply.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": AUTH})
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def test_a_killed_gateway_loses_no_acknowledged_upload(irods_zone, tmp_path: Path):
    require_tool("redis-server")
    require_tool("haproxy")
    seed(irods_zone)
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(gateway_config(irods_zone.port)))
    fleet = Fleet(tmp_path / "data", config, 2, free_port())
    acknowledged: dict[str, tuple[str, float]] = {}  # path -> (md5, when)
    stop = threading.Event()

    def upload(worker: int) -> None:
        for index in range(10_000):  # bounded; stopped by the event long before
            if stop.is_set():
                return
            path = f"/irods/alice/up-{worker}-{index}.bin"
            data = os.urandom(SIZE)
            if put(fleet.port, path, data) in (201, 204):
                acknowledged[path] = (hashlib.md5(data).hexdigest(), time.monotonic())

    try:
        fleet.start()
        threads = [threading.Thread(target=upload, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        killed_at = time.monotonic()
        os.kill(fleet.processes["gateway-1"].pid, signal.SIGKILL)
        time.sleep(6)  # HAProxy notices within two checks (4 s) and retries elsewhere
        stop.set()
        for thread in threads:
            thread.join(60)
        assert fleet.processes["gateway-1"].poll() is not None
        after = [p for p, (_, when) in acknowledged.items() if when > killed_at + 1]
        assert after, "no upload acknowledged after the kill"
        for path, (digest, _) in acknowledged.items():
            status, body = get(fleet.port, path)
            assert status == 200 and hashlib.md5(body).hexdigest() == digest, path
        assert get(fleet.port, "/irods/alice/notes.txt")[0] == 200
    finally:
        stop.set()
        fleet.stop()
