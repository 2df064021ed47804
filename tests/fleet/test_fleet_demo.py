"""``python -m localgrid.fleet`` (what ``make demo GATEWAYS=N`` runs): Redis, two gateways
and HAProxy come up, ``fleet.json`` describes them, requests through the balancer reach
both gateways round-robin, and SIGTERM stops every process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from localgrid.fleet import free_port
from tests.helpers.external_tools import require_tool
from tests.helpers.fleet import send


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_fleet_starts_serves_round_robin_and_stops(tmp_path: Path):
    require_tool("redis-server")
    require_tool("haproxy")
    config = tmp_path / "memory.yaml"
    share = {"path": "/memory", "backend": "memory", "options": {"users": {"alice": "alice"}}}
    config.write_text(yaml.safe_dump({"shares": [share], "logging": {"access_log": True}}))
    port = free_port()
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "localgrid.fleet", "--config", str(config)]
    cmd += ["--data", str(data), "--port", str(port), "--gateways", "2"]
    log = open(tmp_path / "fleet.log", "wb")  # noqa: SIM115
    fleet = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    summary_path = data / "fleet.json"
    try:
        deadline = time.monotonic() + 90
        while not summary_path.exists():
            assert fleet.poll() is None, (tmp_path / "fleet.log").read_text()
            assert time.monotonic() < deadline, "no fleet.json"
            time.sleep(0.2)
        summary = json.loads(summary_path.read_text())
        assert summary["balancer"] == port and summary["redis"] > 0
        gateways = summary["gateways"]
        assert len(gateways) == 2 and all(alive(g["pid"]) for g in gateways)
        for gateway in gateways:
            assert send(gateway["port"], "GET", gateway["health"], auth=None)[0] == 200
            status, _, page = send(gateway["port"], "GET", gateway["metrics"], auth=None)
            assert status == 200 and b"davprovider_requests_total" in page
        assert send(port, "GET", "/metrics", auth=None)[0] == 403  # not through the balancer
        for _ in range(4):
            status = send(port, "PROPFIND", "/memory/", headers={"Depth": "0"})[0]
            assert status == 207
        for index in (1, 2):  # round-robin: each gateway answered some
            text = (data / "fleet" / f"gateway-{index}.log").read_text()
            assert '"PROPFIND /memory/" 207' in text, text[-2000:]
        pids = [g["pid"] for g in gateways]
        fleet.send_signal(signal.SIGTERM)
        assert fleet.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids)
        try:
            send(port, "GET", "/", auth=None, timeout=10)
            raise AssertionError("the balancer still answers")
        except OSError:
            pass
    finally:
        if fleet.poll() is None:
            fleet.kill()
            fleet.wait(10)
        log.close()
