"""Throughput of one large PUT and GET (not a test): the gateway against the direct client
of the same backend, rclone serve webdav over the same Swift, and stock WsgiDAV over a local
folder, over plain HTTP and HTTPS.

HTTP transfers are made by curl (``-T`` file, ``-o`` file); the direct clients are
python-irodsclient (``data_objects.put/get``, one stream and PRC's default parallel
transfer) and python-swiftclient (``put_object``/``get_object``, 1 MiB chunks). Every
system gets the same file from tmpfs and writes the download to tmpfs; each PUT goes to an
absent name (the previous copy is removed first, untimed). One round runs every system
once, so the ratios of a round are taken under the same load. The gateway's peak RSS
(VmHWM, reset before each transfer) gives its memory growth per transfer.

``gw-irodsN-http`` is a second gateway whose /irods share has ``parallel_streams: 4``.

    python bench/throughput.py [--size-mib 1024] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    ALICE,
    ZONE_HOME,
    Environment,
    MiB,
    Server,
    curl_get,
    curl_put,
    file_md5,
    fmt3,
    gateway_settings,
    md_table,
    random_file,
    run_alone,
    start_gateway,
)
from irods import keywords as kw

Transfer = Callable[[], float]
HOME = f"{ZONE_HOME}/alice"
PRC = ("prc1", "prc1sum", "prcN", "prcNsum")

#: (key, label, backend); ratios below refer to the keys
SYSTEMS = [
    ("prc1", "python-irodsclient, 1 stream", "iRODS"),
    ("prc1sum", "python-irodsclient, 1 stream, registering the checksum", "iRODS"),
    ("prcN", "python-irodsclient, parallel (default)", "iRODS"),
    ("prcNsum", "python-irodsclient, parallel, registering the checksum", "iRODS"),
    ("gw-irods-http", "gateway /irods, HTTP", "iRODS"),
    ("gw-irods-https", "gateway /irods, HTTPS", "iRODS"),
    ("gw-irodsN-http", "gateway /irods, HTTP, 4 parallel streams", "iRODS"),
    ("swiftclient", "python-swiftclient", "Swift"),
    ("gw-swift-http", "gateway /swift, HTTP", "Swift"),
    ("gw-swift-https", "gateway /swift, HTTPS", "Swift"),
    ("rclone-http", "rclone serve webdav, HTTP", "Swift"),
    ("rclone-https", "rclone serve webdav, HTTPS", "Swift"),
    ("stock-http", "stock WsgiDAV, local folder, HTTP", "tmpfs"),
    ("stock-https", "stock WsgiDAV, local folder, HTTPS", "tmpfs"),
]
#: (label, numerator, denominator, target): throughput ratios taken within one round
RATIOS = [
    ("gateway/iRODS HTTP ÷ PRC 1 stream", "gw-irods-http", "prc1", 0.8),
    ("gateway/iRODS HTTP ÷ PRC 1 stream + checksum", "gw-irods-http", "prc1sum", 0.8),
    ("gateway/iRODS HTTPS ÷ PRC 1 stream", "gw-irods-https", "prc1", 0.8),
    ("gateway/iRODS HTTP ÷ PRC parallel", "gw-irods-http", "prcN", 0.8),
    ("gateway/iRODS HTTP, 4 streams ÷ PRC parallel", "gw-irodsN-http", "prcN", 0.9),
    ("gateway/iRODS HTTP ÷ PRC parallel + checksum", "gw-irods-http", "prcNsum", None),
    ("gateway/iRODS HTTP, 4 streams ÷ PRC parallel + checksum", "gw-irodsN-http", "prcNsum", None),
    ("gateway/iRODS HTTP, 4 streams ÷ 1 stream", "gw-irodsN-http", "gw-irods-http", None),
    ("gateway/Swift HTTP ÷ swiftclient", "gw-swift-http", "swiftclient", 0.8),
    ("gateway/Swift HTTPS ÷ swiftclient", "gw-swift-https", "swiftclient", 0.8),
    ("gateway/Swift HTTP ÷ rclone HTTP", "gw-swift-http", "rclone-http", 1.0),
    ("gateway/Swift HTTPS ÷ rclone HTTPS", "gw-swift-https", "rclone-https", 1.0),
    ("gateway/iRODS HTTP ÷ stock WsgiDAV HTTP", "gw-irods-http", "stock-http", None),
    ("gateway/Swift HTTP ÷ stock WsgiDAV HTTP", "gw-swift-http", "stock-http", None),
    ("stock WsgiDAV HTTPS ÷ HTTP", "stock-https", "stock-http", None),
]


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU seconds and its waited-for children's (curl)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def cpu_so_far(server: Server | None, zone_pid: int) -> list[float]:
    """CPU seconds so far of the gateway (0 without one), the zone and the client."""
    mine = cpu_seconds(server.pid) if server else 0.0
    return [mine, cpu_seconds(zone_pid), own_cpu_seconds()]


class Transfers:
    """PUT and GET of one file for every system; each returns seconds."""

    def __init__(self, env: Environment, source: Path, target: Path) -> None:
        self.env, self.source, self.target = env, source, target
        self.size = source.stat().st_size
        self.prc = env.zone.session(*ALICE)
        self.swift = env.swift_conn()
        self.swift.put_container("bench")
        self.name = f"big-{self.size // MiB}m.bin"

    def close(self) -> None:
        self.prc.cleanup()
        self.swift.close()

    def server(self, key: str) -> tuple[Server, str, tuple[str, str] | None]:
        """The server, the path of the test file on it, and the credentials."""
        kind, _, scheme = key.rpartition("-")
        if kind == "gw-irods":
            return self.env.gateway[scheme], f"/irods/alice/{key}-{self.name}", ALICE
        if kind == "gw-irodsN":
            return self.parallel_gateway(), f"/irods/alice/{key}-{self.name}", ALICE
        if kind == "gw-swift":
            return self.env.gateway[scheme], f"/swift/bench/{key}-{self.name}", ALICE
        if kind == "rclone":
            return self.env.rclone[scheme], f"/bench/{key}-{self.name}", None
        return self.env.stock[scheme], f"/{key}-{self.name}", None

    def parallel_gateway(self) -> Server:
        """A second gateway (HTTP) whose /irods share uses 4 parallel streams."""
        if "gw-parallel" not in self.env.extra:
            config = gateway_settings(self.env.zone, self.env.swift, None)
            share = config["shares"][0]
            share["options"] = {**share["options"], "parallel_streams": 4}
            self.env.extra["gw-parallel"] = start_gateway(self.env.root, "gw-parallel", config)
        return self.env.extra["gw-parallel"]

    def remove(self, key: str) -> None:
        """Remove the previous copy (untimed), so every PUT creates its object."""
        if key.startswith("prc"):
            path = f"{HOME}/{key}-{self.name}"
            if self.prc.data_objects.exists(path):
                self.prc.data_objects.unlink(path, force=True)
        elif key == "swiftclient":
            try:
                self.swift.delete_object("bench", f"{key}-{self.name}")
            except Exception as exc:  # noqa: BLE001 - absent is fine
                if getattr(exc, "http_status", None) != 404:
                    raise
        else:
            server, path, auth = self.server(key)
            with server.client(auth) as client:
                status = client.request("DELETE", path).status
            if status not in (200, 204, 404):
                raise RuntimeError(f"DELETE {path} on {server.name}: {status}")
        self.target.unlink(missing_ok=True)

    def put(self, key: str) -> float:
        started = time.perf_counter()
        if key in PRC:
            # prc1sum, prcNsum: as the gateway asks by default (register_checksums),
            # iRODS reads the new object once on close to register its SHA-256
            options: dict[str, Any] = {"num_threads": 1} if key.startswith("prc1") else {}
            if key.endswith("sum"):
                options[kw.REG_CHKSUM_KW] = ""
            self.prc.data_objects.put(str(self.source), f"{HOME}/{key}-{self.name}", **options)
        elif key == "swiftclient":
            with self.source.open("rb") as body:
                self.swift.put_object(
                    "bench",
                    f"{key}-{self.name}",
                    contents=body,
                    content_length=self.size,
                    chunk_size=MiB,
                )
        else:
            server, path, auth = self.server(key)
            return curl_put(server, path, self.source, auth)
        return time.perf_counter() - started

    def get(self, key: str) -> float:
        started = time.perf_counter()
        if key in PRC:
            threads = {"num_threads": 1} if key.startswith("prc1") else {}
            self.prc.data_objects.get(f"{HOME}/{key}-{self.name}", str(self.target), **threads)
        elif key == "swiftclient":
            _, body = self.swift.get_object("bench", f"{key}-{self.name}", resp_chunk_size=MiB)
            with self.target.open("wb") as out:
                for piece in body:
                    out.write(piece)
        else:
            server, path, auth = self.server(key)
            return curl_get(server, path, self.target, auth)
        return time.perf_counter() - started

    def gateway_of(self, key: str) -> Server | None:
        if key.startswith(("gw-", "rclone-", "stock-")):
            return self.server(key)[0]
        return None


def measure(env: Environment, size_mib: int, runs: int, systems: list[str]) -> dict[str, Any]:
    """``runs`` rounds of PUT then GET for every system; MB/s, ratios, memory."""
    source, target = env.root / "source.bin", env.root / "download.bin"
    md5 = random_file(source, size_mib * MiB)
    transfers = Transfers(env, source, target)
    speeds: dict[str, dict[str, list[float]]] = {k: {"put": [], "get": []} for k in systems}
    growth: dict[str, dict[str, list[float]]] = {k: {"put": [], "get": []} for k in systems}
    rss: dict[str, list[float]] = {k: [] for k in systems}
    # CPU seconds per GiB of the gateway, the zone and the client, on iRODS
    irods = {key for key, _, backend in SYSTEMS if backend == "iRODS"}
    cpu: dict[str, dict[str, list[list[float]]]] = {
        k: {"put": [], "get": []} for k in systems if k in irods
    }
    zone_pid = env.zone.process.pid
    try:
        for round_no in range(runs):
            for key in systems:
                transfers.remove(key)
                server = transfers.gateway_of(key)
                for verb in ("put", "get"):
                    before = server.memory()["VmRSS"] if server else 0
                    if server:
                        server.reset_peak()
                    spent = cpu_so_far(server, zone_pid)
                    seconds = getattr(transfers, verb)(key)
                    speeds[key][verb].append(size_mib * MiB / 1e6 / seconds)
                    if key in cpu:
                        now = cpu_so_far(server, zone_pid)
                        scale = 1024 / size_mib  # per GiB
                        used = [(b - a) * scale for a, b in zip(spent, now, strict=True)]
                        cpu[key][verb].append(used)
                    if server:
                        after = server.memory()
                        growth[key][verb].append((after["VmHWM"] - before) / MiB)
                        rss[key].append(after["VmRSS"] / MiB)
                if target.stat().st_size != size_mib * MiB:
                    raise RuntimeError(f"{key}: downloaded {target.stat().st_size} bytes")
                if round_no == 0 and file_md5(target) != md5:
                    raise RuntimeError(f"{key}: downloaded content differs")
                print(
                    f"  {size_mib} MiB round {round_no + 1} {key}: "
                    f"put {speeds[key]['put'][-1]:.0f} get {speeds[key]['get'][-1]:.0f} MB/s",
                    file=sys.stderr,
                    flush=True,
                )
        for key in systems:
            transfers.remove(key)
    finally:
        transfers.close()
        source.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
    ratios = {}
    for label, num, den, target_ratio in RATIOS:
        if num in systems and den in systems:
            ratios[label] = {
                verb: [n / d for n, d in zip(speeds[num][verb], speeds[den][verb], strict=True)]
                for verb in ("put", "get")
            } | {"target": target_ratio}
    return {
        "size_mib": size_mib,
        "runs": runs,
        "speeds": speeds,
        "ratios": ratios,
        "growth_mib": growth,
        "rss_mib": rss,
        "cpu_per_gib": cpu,
    }


def report(result: dict[str, Any]) -> str:
    size = result["size_mib"]
    label = "1 GiB" if size == 1024 else f"{size} MiB"
    speeds, growth = result["speeds"], result["growth_mib"]
    rows = []
    for key, name, backend in SYSTEMS:
        if key not in speeds:
            continue
        g = growth[key]
        mem = f"+{max(g['put']):.1f} / +{max(g['get']):.1f}" if g["put"] else "n/a"
        rows.append([name, backend, fmt3(speeds[key]["put"]), fmt3(speeds[key]["get"]), mem])
    table = md_table(
        [
            "system",
            "backend",
            f"PUT {label}, MB/s",
            f"GET {label}, MB/s",
            "server RSS growth PUT / GET (max), MiB",
        ],
        rows,
    )
    ratio_rows = []
    for name, values in result["ratios"].items():
        target = values["target"]
        cells = []
        for verb in ("put", "get"):
            med = sorted(values[verb])[len(values[verb]) // 2]
            mark = "" if target is None else (" ✓" if med >= target else " ✗")
            cells.append(fmt3(values[verb], 2) + mark)
        ratio_rows.append([name, *cells, "—" if target is None else f"≥ {target}"])
    ratios = md_table(["ratio (same round)", "PUT", "GET", "target"], ratio_rows)
    return f"{table}\n\n{ratios}\n{cpu_report(result)}"


def cpu_report(result: dict[str, Any]) -> str:
    """CPU seconds per GiB on iRODS, by process: what two cores allow."""
    cpu = result.get("cpu_per_gib") or {}
    rows = []
    for key, name, _ in SYSTEMS:
        if not cpu.get(key, {}).get("put"):
            continue
        cells = []
        for verb in ("put", "get"):
            runs = cpu[key][verb]
            gateway, zone, client = (sorted(r[i] for r in runs)[len(runs) // 2] for i in range(3))
            mine = f"{gateway:.2f} + " if key.startswith("gw-") else ""
            cells.append(f"{mine}{zone:.2f} + {client:.2f} = {gateway + zone + client:.2f}")
        rows.append([name, *cells])
    if not rows:
        return ""
    head = ["system", "PUT: [gateway +] zone + client", "GET: [gateway +] zone + client"]
    return (
        "\nCPU seconds per GiB moved (medians; the client is curl or python-irodsclient "
        "itself; clock ticks of 10 ms):\n\n" + md_table(head, rows) + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--systems", default=",".join(k for k, _, _ in SYSTEMS))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    systems = args.systems.split(",")
    return run_alone(args.json, lambda env: measure(env, args.size_mib, args.runs, systems), report)


if __name__ == "__main__":
    sys.exit(main())
