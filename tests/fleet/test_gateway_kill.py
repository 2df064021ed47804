"""A gateway SIGKILLed while clients upload through HAProxy to three gateways sharing
Redis: every upload that was acknowledged (201/204) is there, whole; none that was cut
off left a partial object under its name; the balancer keeps serving on the gateways
that are left."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
import uuid

import pytest

from localgrid.irods import LocalZone
from tests.helpers.fleet import fleet_config, send, start_gateways
from tests.helpers.haproxy import CHECK_MS, running_haproxy
from tests.helpers.irods_gateway import SHARE, seed
from tests.helpers.redis_server import NO_KEYS, local_redis

CLIENTS = 6
LOAD_SECONDS = 6.0
KILL_AFTER = 1.5
MAX_UPLOADS = 400  # per client


def uploader(
    port: int, folder: str, stop: threading.Event, attempts: dict[str, str], acked: dict[str, str]
) -> None:
    for _ in range(MAX_UPLOADS):
        if stop.is_set():
            return
        body = os.urandom(int.from_bytes(os.urandom(2), "big") * 16 + 1)  # up to 1 MiB
        name = f"{folder}u-{uuid.uuid4().hex[:12]}.bin"
        attempts[name] = hashlib.sha256(body).hexdigest()
        try:
            status = send(port, "PUT", name, body, timeout=20)[0]
        except OSError:
            continue  # cut off: not acknowledged
        if status in (201, 204):
            acked[name] = attempts[name]


def test_a_killed_gateway_loses_no_acknowledged_upload(
    irods_zone: LocalZone, tmp_path_factory: pytest.TempPathFactory
) -> None:
    seed(irods_zone)
    root = tmp_path_factory.mktemp("kill")
    with local_redis(tmp_path_factory, "kill-redis", NO_KEYS) as redis:
        gateways = start_gateways(fleet_config(irods_zone.port, redis.url), root, 3)
        try:
            with running_haproxy(root / "haproxy", [g.port for g in gateways]) as balancer:
                folder = f"{SHARE}/alice/k-{uuid.uuid4().hex[:6]}/"
                assert send(balancer.port, "MKCOL", folder)[0] == 201
                stop = threading.Event()
                attempts: dict[str, str] = {}
                acked: dict[str, str] = {}
                threads = [
                    threading.Thread(
                        target=uploader, args=(balancer.port, folder, stop, attempts, acked)
                    )
                    for _ in range(CLIENTS)
                ]
                for thread in threads:
                    thread.start()
                time.sleep(KILL_AFTER)
                before_kill = len(acked)
                os.kill(gateways[1].pid, signal.SIGKILL)
                gateways[1].process.wait(timeout=10)
                time.sleep(LOAD_SECONDS - KILL_AFTER)
                stop.set()
                for thread in threads:
                    thread.join(timeout=60)
                assert not any(t.is_alive() for t in threads)
                assert before_kill > 0 and len(acked) > before_kill  # served on after the kill
                time.sleep(3 * CHECK_MS / 1000)  # the balancer has marked it down by now
                for _ in range(10):  # and keeps serving
                    assert send(balancer.port, "PROPFIND", folder, headers={"Depth": "0"})[0] == 207
                for name, digest in attempts.items():
                    status, _, body = send(balancer.port, "GET", name)
                    if name in acked:
                        assert status == 200, name  # no acknowledged upload lost
                    if status == 200:  # nothing partial under any name
                        assert hashlib.sha256(body).hexdigest() == digest, name
                    else:
                        assert status == 404, (name, status)
        finally:
            for gateway in gateways:
                gateway.stop()
