"""Helpers of the integration tests: the gateway as a real process over the local iRODS zone.

``seed(zone)`` fills a fresh zone through python-irodsclient with:

- users ``alice``/``alice`` and ``bob``/``bob``, each with a file in their home
  (``/tempZone/home/bob/secret.txt`` is readable by bob only);
- ``/tempZone/home/shared``, made by rods, readable by alice and bob, with ``readme.txt``.

``start_gateway(config, dir)`` runs ``python -m davprovider serve --config FILE`` on a free
port of 127.0.0.1 (port 0; the real one is read from its log) and returns a
``GatewayProcess``, stopped by PID. The HTTP client (``Gateway``) and the multistatus
parser (``propstats``) are the
memory-share tests' own (tests/dav/), imported through the ``tests`` folder that pytest
puts on ``sys.path`` (test folders have no ``__init__.py``).
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import yaml
from dav.conftest import Gateway
from dav.test_verbs import propstats
from irods.access import iRODSAccess
from prc_io import read_object, write_object  # noqa: F401  (re-exported to the tests)

from localgrid.irods import LocalZone

ZONE = "tempZone"
HOME = f"/{ZONE}/home"
SHARE = "/irods"
ALICE = ("alice", "alice")
BOB = ("bob", "bob")
SECRET = b"bob's secret\n"
NOTES = b"alice's notes\n"
README = b"shared with alice and bob\n"


def basic(user: tuple[str, str]) -> str:
    """An ``Authorization: Basic`` value."""
    return "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()


AUTH_ALICE = basic(ALICE)
TEMP = ".davprovider-upload-"  # name prefix of the hidden temporary objects of uploads
SERVING = re.compile(r"serving /irods \(irods\) on http://([\d.]+):(\d+)/")


@dataclass
class GatewayProcess:
    """A running ``davprovider serve``: its process, its log, and a client (as alice)."""

    process: subprocess.Popen[bytes]
    log_path: Path
    client: Gateway

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return self.client.port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_tail(self, size: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-size:]

    def memory(self, field: str) -> int:
        """A memory figure of the gateway process from /proc (VmRSS, VmHWM), in bytes."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        assert match, status
        return int(match.group(1)) * 1024

    def reset_peak_memory(self) -> bool:
        """Reset VmHWM (peak RSS) to the current RSS; False where the kernel refuses."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def gateway_config(zone_port: int) -> dict[str, Any]:
    """One share ``/irods`` over the zone's home collection, basic auth, port 0 (free)."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 16, "timeout": 20},
        "logging": {"level": "info", "access_log": True},
        "auth": {"chain": ["basic"]},
        "shares": [
            {
                "path": SHARE,
                "backend": "irods",
                "options": {
                    "host": "127.0.0.1",
                    "port": zone_port,
                    "zone": ZONE,
                    "root": "home",
                    "timeout": 20,
                },
            }
        ],
    }


def start_gateway(config: dict[str, Any], workdir: Path, timeout: float = 20.0) -> GatewayProcess:
    """Write ``config`` to ``workdir``, start the gateway, wait until it answers HTTP."""
    config_path = workdir / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log_path = workdir / "gateway.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "davprovider", "serve", "--config", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    deadline = time.monotonic() + timeout
    port = None
    while port is None:
        match = SERVING.search(log_path.read_text(errors="replace"))
        if match:
            port = int(match.group(2))
        elif process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"gateway did not start:\n{log_path.read_text()[-4000:]}")
        else:
            time.sleep(0.05)
    running = GatewayProcess(process, log_path, Gateway("127.0.0.1", port, {}, None, ALICE))
    while True:  # the socket is bound; wait for an HTTP answer
        try:
            running.client.request("OPTIONS", "/", user=None)
            return running
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                running.stop()
                pytest.fail(f"gateway does not answer:\n{running.log_tail()}")
            time.sleep(0.05)


def seed(zone: LocalZone) -> None:
    """Users, homes and the shared collection (see the module docstring)."""
    with zone.session() as rods:
        for user, password in (ALICE, BOB):
            rods.users.create(user, "rodsuser")
            rods.users.modify(user, "password", password)
        shared = f"{HOME}/shared"
        rods.collections.create(shared)
        write_object(rods, f"{shared}/readme.txt", README)
        for user in ("alice", "bob"):
            rods.acls.set(iRODSAccess("read", shared, user))
            rods.acls.set(iRODSAccess("read", f"{shared}/readme.txt", user))
    for (user, password), name, data in ((ALICE, "notes.txt", NOTES), (BOB, "secret.txt", SECRET)):
        with zone.session(user, password) as session:
            write_object(session, f"{HOME}/{user}/{name}", data)


def leftovers(rods: Any, collection: str, expected: set[str]) -> list[str]:
    """Objects in ``collection`` other than ``expected``, listed as rods (who sees all)."""
    names = [obj.name for obj in rods.collections.get(collection).data_objects]
    return sorted(set(names) - expected)


def wait_for_no_leftovers(
    rods: Any, collection: str, *expected: str, timeout: float = 5.0
) -> list[str]:
    """Poll until the gateway removed its temporary upload objects; what is left."""
    deadline = time.monotonic() + timeout
    while (left := leftovers(rods, collection, set(expected))) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def wait_for_temporary(rods: Any, collection: str, timeout: float = 5.0) -> str:
    """Poll until an upload's temporary object shows in ``collection``; its name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = [obj.name for obj in rods.collections.get(collection).data_objects]
        temporaries = [name for name in names if name.startswith(TEMP)]
        if temporaries:
            return temporaries[0]
        time.sleep(0.05)
    raise AssertionError(f"no upload in progress in {collection}")


def chunk(data: bytes) -> bytes:
    """One chunk of a ``Transfer-Encoding: chunked`` body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def read_response(sock: socket.socket) -> tuple[str, bytes]:
    """Status line and body of one response on a raw socket (Content-Length bodies)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while match and len(body) < int(match.group(1)):
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return head.split(b"\r\n", 1)[0].decode("latin-1"), body


def hrefs(multistatus: bytes) -> dict[str, dict[str, str]]:
    """``propstats`` of a 207 body, keyed by the decoded path of each href."""
    return {unquote(urlparse(h).path): props for h, props in propstats(multistatus).items()}
