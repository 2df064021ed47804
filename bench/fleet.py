"""Small-file GET and PROPFIND ops/s of one gateway with 1, 2 and 4 worker processes, and of
3 gateways behind HAProxy (not a test; results in BENCHMARKS.md).

Every setup serves the same share: ``bench/seeded_memory.py`` (200 files of 4 KiB held in
each process), so the gateways, not a backend, are measured. The load comes from
``--procs`` client processes with ``--conns`` keep-alive connections each (one thread per
connection), for ``--seconds`` per figure: GET of a file, then PROPFIND Depth 0 of a file
(Basic login on every request, as WebDAV clients do). All setups run at once in one run
and are measured in turn, ``--rounds`` times (medians, and the range over the rounds), so
the machine's drift spreads over all of them and their ratios compare. On a machine with
few cores the clients and the servers share them: the figures say what more processes buy
there, not what a big host gives.

    python bench/fleet.py [--seconds 4] [--rounds 5] [--procs 4] [--conns 4] [--workers 1,2,4]
                          [--gateways 3]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import machine, md_table  # noqa: E402

from localgrid.fleet import Fleet, free_port, healthy, start_gateway  # noqa: E402

FILES = 200
AUTH = "Basic " + base64.b64encode(b"alice:alice").decode()
PROPFIND = (
    b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getcontentlength/>'
    b"<getlastmodified/><resourcetype/></prop></propfind>"
)


def config() -> dict[str, Any]:
    options = {"users": {"alice": "alice"}, "files": FILES}
    share = {"path": "/m", "backend": "bench.seeded_memory", "options": options}
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 16, "connections_per_client": 0},
        "logging": {"level": "warning", "access_log": False},
        "listing_cache": 0,
        "lock_storage": "none",  # workers need locks in Redis or none; GET/PROPFIND use none
        "shares": [share],
    }


def _connection_loop(port: int, op: str, until: float, counts: list[int], index: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = index
    done = 0
    while time.monotonic() < until:
        path = f"/m/f{n % FILES:04d}.bin"
        n += 7
        if op == "GET":
            conn.request("GET", path, headers={"Authorization": AUTH})
        else:
            headers = {"Authorization": AUTH, "Depth": "0", "Content-Type": "application/xml"}
            conn.request("PROPFIND", path, body=PROPFIND, headers=headers)
        try:
            reply = conn.getresponse()
            reply.read()
        except (ConnectionError, http.client.HTTPException):
            conn.close()  # counted as not done; a new connection goes on
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if reply.status not in (200, 207):
            raise RuntimeError(f"{op} {path}: {reply.status}")
        if reply.will_close:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        done += 1
    conn.close()
    counts[index] = done


def _client_process(port: int, op: str, conns: int, start: float, until: float, out: Any) -> None:
    counts = [0] * conns
    while time.time() < start:  # every process starts together
        time.sleep(0.001)
    until_mono = time.monotonic() + (until - start)
    threads = [
        threading.Thread(target=_connection_loop, args=(port, op, until_mono, counts, i))
        for i in range(conns)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(sum(counts))


def measure(port: int, op: str, procs: int, conns: int, seconds: float) -> float:
    """Operations per second of ``op`` with ``procs`` x ``conns`` connections."""
    queue: Any = multiprocessing.Queue()
    start = time.time() + 1.0
    workers = [
        multiprocessing.Process(
            target=_client_process, args=(port, op, conns, start, start + seconds, queue)
        )
        for _ in range(procs)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in workers)
    for worker in workers:
        worker.join(10)
    return total / seconds


OPS = ("GET", "PROPFIND")


def write_config(folder: Path) -> Path:
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config()))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="per figure")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--conns", type=int, default=4, help="connections per client process")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--gateways", type=int, default=3)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    info = machine()
    with tempfile.TemporaryDirectory(prefix="davbench-fleet-") as tmp, ExitStack() as stack:
        ports = start_setups(Path(tmp), args, stack)
        figures = run_rounds(ports, args)
    print(f"\n{info['cpus']} CPUs ({info['cpu']}), load before the run {info['load']}")
    print(f"{args.procs} client processes x {args.conns} connections; {args.rounds} rounds")
    print(f"of {args.seconds:.0f} s per setup and operation, the setups in turn\n")
    print(report(figures))
    return 0


def start_setups(folder: Path, args: argparse.Namespace, stack: ExitStack) -> dict[str, int]:
    """Every setup started at once (idle while another is measured): name -> port."""
    ports: dict[str, int] = {}
    config = write_config(folder)
    for workers in [int(w) for w in args.workers.split(",")]:
        log = folder / f"gateway-{workers}-workers.log"
        process, port = start_gateway(log, config, workers)
        stack.callback(_stop, process)
        ports[f"1 gateway, {workers} worker(s)"] = port
    if args.gateways:
        fleet = Fleet(folder / "fleet", config, args.gateways, free_port())
        stack.callback(fleet.stop)
        fleet.start()
        assert healthy(fleet.port)
        ports[f"{args.gateways} gateways (1 worker each) behind HAProxy"] = fleet.port
    return ports


def _stop(process: Any) -> None:
    process.terminate()
    process.wait(30)


def run_rounds(
    ports: dict[str, int], args: argparse.Namespace
) -> dict[str, dict[str, list[float]]]:
    """``rounds`` times each setup and operation in turn (drift spreads over all)."""
    figures: dict[str, dict[str, list[float]]] = {name: {op: [] for op in OPS} for name in ports}
    for round_ in range(args.rounds):
        for name, port in ports.items():
            for op in OPS:
                figures[name][op].append(measure(port, op, args.procs, args.conns, args.seconds))
        print(f"round {round_ + 1}: {cat_load()}", flush=True)
    return figures


def cat_load() -> str:
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(figures: dict[str, dict[str, list[float]]]) -> str:
    base = {op: statistics.median(v) for op, v in next(iter(figures.values())).items()}
    rows = []
    for name, by_op in figures.items():
        row = [name]
        for op in OPS:
            values = by_op[op]
            median = statistics.median(values)
            row += [
                f"{median:.0f} ({min(values):.0f}–{max(values):.0f})",
                f"{median / base[op]:.2f}",
            ]
        rows.append(row)
    return md_table(["setup", "GET ops/s", "x", "PROPFIND Depth 0 ops/s", "x"], rows)


if __name__ == "__main__":
    sys.exit(main())
