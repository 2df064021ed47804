"""The health URL (200 with every backend answering, 503 with one down, no login, bounded
in time) and ``/metrics`` (allowed addresses only; requests, bytes, backend calls,
listing-cache hits, logins; summed over ``--workers`` processes)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
from pathlib import Path

import pytest

from davprovider.settings import ConfigError, settings_from_mapping
from tests.helpers.gateway import memory_config, running_gateway
from tests.helpers.metrics_page import sample
from tests.helpers.serve_process import start_process

HEALTH = "/.well-known/davprovider/health"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_health_answers_without_login_and_metrics_count_requests():
    with running_gateway(memory_config()) as gw:
        health = gw.get(HEALTH, user=None)
        assert health.status == 200
        assert json.loads(health.body) == {"status": "ok", "shares": {"/memory": "ok"}}
        before = gw.get("/metrics", user=None).body.decode()
        assert gw.put("/memory/m.txt", b"x" * 1000).status == 201
        for _ in range(2):
            assert gw.request("PROPFIND", "/memory/", headers={"Depth": "1"}).status == 207
        assert gw.get("/memory/", user=("alice", "wrong")).status == 401
        deadline = time.monotonic() + 5  # a request is counted just after its answer
        while True:
            page = gw.get("/metrics", user=None)
            assert page.status == 200 and page.header("content-type").startswith("text/plain")
            after = page.body.decode()
            total = sample(after, "davprovider_requests_total")
            if total - sample(before, "davprovider_requests_total") >= 4:
                break
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("davprovider_requests_total", method="PUT", status="201") == 1
    assert grew("davprovider_requests_total", method="PROPFIND", status="207") == 2
    assert grew("davprovider_request_seconds_count", method="PROPFIND") == 2
    assert grew("davprovider_received_bytes_total") >= 1000
    assert grew("davprovider_sent_bytes_total") > 0
    assert grew("davprovider_backend_calls_total", backend="memory", operation="list") >= 1
    assert grew("davprovider_backend_calls_total", operation="commit", outcome="ok") == 1
    assert grew("davprovider_backend_call_seconds_count", operation="write") >= 1
    assert grew("davprovider_listing_cache_total", kind="list", result="hit") >= 1
    assert grew("davprovider_logins_total", method="basic", result="accepted") == 3
    assert grew("davprovider_logins_total", method="basic", result="rejected") == 1
    assert sample(after, "davprovider_active_transfers") == 0
    assert grew("davprovider_requests_total", method="GET", status="200") == 0  # not /metrics


def test_metrics_only_for_allowed_addresses():
    with running_gateway(memory_config(metrics={"allow": ["10.0.0.0/8"]})) as gw:
        reply = gw.get("/metrics", user=None)
        assert reply.status == 403 and b"davprovider_" not in reply.body
    with running_gateway(memory_config()) as gw:  # loopback, but through a proxy
        forwarded = gw.get("/metrics", user=None, headers={"X-Forwarded-For": "203.0.113.9"})
        assert forwarded.status == 403
    with running_gateway(memory_config(metrics={"allow": []})) as gw:
        assert gw.get("/metrics", user=None).status == 404


def test_health_is_503_when_a_backend_does_not_answer():
    config = memory_config(health={"timeout": 2, "cache": 0})
    down = f"http://127.0.0.1:{closed_port()}/auth/v1.0"
    config["shares"].append(
        {"path": "/swift", "backend": "swift", "options": {"auth_url": down, "timeout": 2}}
    )
    with running_gateway(config) as gw:
        started = time.monotonic()
        reply = gw.get(HEALTH, user=None)
        assert time.monotonic() - started < 5
        assert reply.status == 503, reply.body
        body = json.loads(reply.body)
        assert body["status"] == "unavailable" and body["shares"]["/memory"] == "ok"
        assert body["shares"]["/swift"] != "ok" and "127.0.0.1" not in reply.body.decode()


def test_metrics_of_all_workers_add_up(tmp_path: Path):
    config = memory_config(logging={"access_log": False}, lock_storage="none")
    config["shares"][0]["options"]["users"] = {"alice": "alice"}
    running = start_process(config, tmp_path, args=("--workers", "2"))
    auth = "Basic " + base64.b64encode(b"alice:alice").decode()
    try:
        for _ in range(30):  # new connections: both workers take some
            conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
            conn.request("PROPFIND", "/memory/", headers={"Authorization": auth, "Depth": "0"})
            assert conn.getresponse().status == 207
            conn.close()
        counted = []
        deadline = time.monotonic() + 5  # a request is counted just after its answer
        while len(counted) < 4 and time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
            conn.request("GET", "/metrics")
            page = conn.getresponse().read().decode()
            conn.close()
            if sample(page, "davprovider_requests_total", method="PROPFIND", status="207") == 30:
                counted.append(page)
    finally:
        running.stop()
    assert len(counted) == 4  # whichever worker answered: the sum of both


def test_a_share_cannot_hide_the_server_urls():
    for path in ("/metrics", "/.well-known"):
        with pytest.raises(ConfigError, match=r"shares\[0\].path: is reserved"):
            settings_from_mapping({"shares": [{"path": path, "backend": "memory"}]})
