"""Memory of the gateway over the local iRODS zone during a large PUT and GET (not a test).

Starts a LocalZone and `davprovider serve` (both on free loopback ports), PUTs and GETs one
object of `--size-mib` with curl, and reports the gateway's RSS before, its peak (VmHWM)
after each transfer, and the throughput curl saw.

    python bench/gateway_memory.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from localgrid.irods import LocalZone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def wait_http(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gateway did not start")


def make_file(path: Path, size: int) -> str:
    digest = hashlib.md5()
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(size >> 20):
            fh.write(block)
            digest.update(block)
    return digest.hexdigest()


def curl(args: list[str]) -> float:
    out = subprocess.run(
        ["curl", "-fsS", "-u", "alice:alice", "-w", "\\n%{speed_upload} %{speed_download}", *args],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    up, down = (float(x) for x in out.stdout.split()[-2:])
    return max(up, down) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalZone(Path(tmp) / "zone") as zone:
        with zone.session() as rods:
            rods.users.create("alice", "rodsuser")
            rods.users.modify("alice", "password", "alice")
        port = free_port()
        cfg = Path(tmp) / "gw.yaml"
        cfg.write_text(
            f"server: {{host: 127.0.0.1, port: {port}}}\nlogging: {{level: warning}}\n"
            f"shares:\n  - path: /irods\n    backend: irods\n"
            f"    options: {{port: {zone.port}, root: home}}\n"
        )
        env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
        gw = subprocess.Popen(
            [sys.executable, "-m", "davprovider", "serve", "--config", str(cfg)], env=env
        )
        try:
            wait_http(port)
            src, back = Path(tmp) / "big.bin", Path(tmp) / "back.bin"
            md5 = make_file(src, args.size_mib << 20)
            url = f"http://127.0.0.1:{port}/irods/alice/big.bin"
            base = status_kib(gw.pid, "VmRSS")
            put = curl(["-o", "/dev/null", "-T", str(src), url])
            after_put = status_kib(gw.pid, "VmHWM")
            get = curl(["-o", str(back), url])
            after_get = status_kib(gw.pid, "VmHWM")
            same = md5 == hashlib.md5(back.read_bytes()).hexdigest()
        finally:
            gw.send_signal(signal.SIGTERM)
            gw.wait(10)
    print(f"## Gateway memory, {args.size_mib} MiB over the local iRODS zone (curl)\n")
    print("| measure | value |\n|---|---|")
    print(f"| RSS before | {base / 1024:.1f} MiB |")
    print(f"| peak RSS after PUT | {after_put / 1024:.1f} MiB (+{(after_put - base) / 1024:.1f}) |")
    print(f"| peak RSS after GET | {after_get / 1024:.1f} MiB (+{(after_get - base) / 1024:.1f}) |")
    print(f"| PUT throughput | {put:.0f} MB/s |\n| GET throughput | {get:.0f} MB/s |")
    print(f"| content identical | {same} |")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
