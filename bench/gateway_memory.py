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
import subprocess
import sys
import tempfile
from pathlib import Path

from common import start_gateway, start_zone


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
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        zone = start_zone(root)  # alice/alice among the seeded users
        irods = {"port": zone.port, "root": "home"}
        config = {
            "server": {"host": "127.0.0.1", "port": 0},
            "logging": {"level": "info", "access_log": False},
            "shares": [{"path": "/irods", "backend": "irods", "options": irods}],
        }
        gw = start_gateway(root, "gateway", config)  # MALLOC_ARENA_MAX=2
        try:
            src, back = root / "big.bin", root / "back.bin"
            md5 = make_file(src, args.size_mib << 20)
            url = gw.url("/irods/alice/big.bin")
            base = gw.memory()["VmRSS"] // 1024
            put = curl(["-o", "/dev/null", "-T", str(src), url])
            after_put = gw.memory()["VmHWM"] // 1024
            get = curl(["-o", str(back), url])
            after_get = gw.memory()["VmHWM"] // 1024
            same = md5 == hashlib.md5(back.read_bytes()).hexdigest()
        finally:
            gw.stop()
            zone.stop()
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
