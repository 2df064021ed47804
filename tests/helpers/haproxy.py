"""Debian's HAProxy in front of gateways, for the fleet tests: the demo's configuration
(``localgrid.fleet.haproxy_config``: round-robin per request, health checks at the health
URL) with checks every ``CHECK_MS``, on a free loopback port, stopped by PID.

``running_haproxy(root, ports)`` writes ``root/haproxy.cfg``, runs ``haproxy -db -f``
(foreground) and waits until the health URL answers through it. Without ``haproxy`` the
test is skipped, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from localgrid.fleet import haproxy_config, healthy
from localgrid.swift import free_base_port
from localgrid.tools import stop_process
from tests.helpers.external_tools import require_tool

CHECK_MS = 300


@dataclass
class HAProxy:
    process: subprocess.Popen[bytes]
    port: int
    config: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def running_haproxy(
    root: Path, backends: Sequence[int], timeout: float = 15.0
) -> Iterator[HAProxy]:
    binary = require_tool("haproxy")
    root.mkdir(parents=True, exist_ok=True)
    port = free_base_port(1)
    config = root / "haproxy.cfg"
    config.write_text(haproxy_config(port, list(backends), CHECK_MS))
    with open(root / "haproxy.log", "wb") as log:
        process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=log)
    balancer = HAProxy(process, port, config)
    try:
        deadline = time.monotonic() + timeout
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"haproxy did not start:\n{(root / 'haproxy.log').read_text()}")
            time.sleep(0.05)
        yield balancer
    finally:
        balancer.stop()
