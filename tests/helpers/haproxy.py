"""Debian's HAProxy in front of gateways, for the fleet tests: round-robin per request,
health checks (``OPTIONS /`` every ``CHECK_MS``), a free loopback port, stopped by PID.

``running_haproxy(root, ports)`` writes ``root/haproxy.cfg``, runs ``haproxy -db -f``
(foreground) and waits until a request through it is answered. Without ``haproxy`` the
test is skipped, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from localgrid.swift import free_base_port
from tests.helpers.external_tools import require_tool

CHECK_MS = 300
_CFG = """\
global
    maxconn 1024
    pidfile {root}/haproxy.pid

defaults
    mode http
    option forwardfor
    option redispatch
    retries 2
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout queue 10s

frontend fleet
    bind 127.0.0.1:{port}
    default_backend gateways

backend gateways
    balance roundrobin
    option httpchk
    http-check send meth OPTIONS uri /
    http-check expect status 200
    default-server inter {check_ms} fall 2 rise 1
{servers}
"""


@dataclass
class HAProxy:
    process: subprocess.Popen[bytes]
    port: int
    config: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def config_text(root: Path, port: int, backends: Sequence[int]) -> str:
    servers = "\n".join(f"    server g{i} 127.0.0.1:{p} check" for i, p in enumerate(backends))
    return _CFG.format(root=root, port=port, check_ms=CHECK_MS, servers=servers)


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("OPTIONS", "/")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


@contextmanager
def running_haproxy(
    root: Path, backends: Sequence[int], timeout: float = 15.0
) -> Iterator[HAProxy]:
    binary = require_tool("haproxy")
    root.mkdir(parents=True, exist_ok=True)
    port = free_base_port(1)
    config = root / "haproxy.cfg"
    config.write_text(config_text(root, port, backends))
    with open(root / "haproxy.log", "wb") as log:
        process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=log)
    balancer = HAProxy(process, port, config)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"haproxy did not start:\n{(root / 'haproxy.log').read_text()}")
            time.sleep(0.05)
        yield balancer
    finally:
        balancer.stop()
