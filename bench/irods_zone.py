"""Benchmark of the local iRODS zone through python-irodsclient (not a test).

Measures put and get of one large object (MB/s, 1 MB = 10**6 bytes) and the listing of a
collection of many objects via `coll.data_objects` (seconds). Each figure is the median of
`--runs` runs, with min and max. Prints a markdown table and the machine it ran on.

    python bench/irods_zone.py [--size-mib 256] [--objects 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from common import make_irods_objects

from localgrid.irods import LocalZone

HOME = "/tempZone/home/rods"
MiB = 1024 * 1024


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def write_random_file(path: Path, size: int) -> str:
    digest = hashlib.md5()
    with path.open("wb") as out:
        left = size
        while left:
            block = os.urandom(min(left, 8 * MiB))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as src:
        for block in iter(lambda: src.read(8 * MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_transfer(zone: LocalZone, work: Path, size: int, runs: int) -> tuple[list, list]:
    """Seconds per put and per get of a `size`-byte file, `runs` times each."""
    source, target = work / "source.bin", work / "target.bin"
    digest = write_random_file(source, size)
    path = f"{HOME}/bench-transfer.bin"
    puts, gets = [], []
    with zone.session() as session:
        for _ in range(runs):
            puts.append(timed(lambda: session.data_objects.put(str(source), path)))
            target.unlink(missing_ok=True)
            gets.append(timed(lambda: session.data_objects.get(path, str(target))))
            if target.stat().st_size != size:
                raise RuntimeError(f"got {target.stat().st_size} bytes, expected {size}")
        if file_md5(target) != digest:
            raise RuntimeError("downloaded content differs from the uploaded file")
        session.data_objects.unlink(path, force=True)
    source.unlink()
    target.unlink()
    return puts, gets


def make_objects(zone: LocalZone, coll: str, count: int, workers: int = 4) -> float:
    """Creates `count` empty objects in `coll` with several sessions at once; returns seconds."""
    names = [f"obj_{i:06d}" for i in range(count)]
    return make_irods_objects(zone, coll, names, ("rods", zone.admin_password), workers)


def bench_listing(zone: LocalZone, count: int, runs: int) -> tuple[float, list[float]]:
    coll = f"{HOME}/bench-listing"
    setup = make_objects(zone, coll, count)
    times = []
    with zone.session() as session:
        for _ in range(runs):
            started = time.perf_counter()
            listed = session.collections.get(coll).data_objects
            times.append(time.perf_counter() - started)
            if len(listed) != count:
                raise RuntimeError(f"listed {len(listed)} objects, expected {count}")
    return setup, times


def row(name: str, values: list[float], unit: str) -> str:
    cells = [statistics.median(values), min(values), max(values)]
    return f"| {name} | " + " | ".join(f"{v:.2f}" for v in cells) + f" | {unit} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256, help="object size for put/get")
    parser.add_argument("--objects", type=int, default=10_000, help="objects in the listing")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * MiB

    with tempfile.TemporaryDirectory(prefix="irods-bench-") as tmp:
        work = Path(tmp)
        with LocalZone(work / "zone") as zone:
            puts, gets = bench_transfer(zone, work, size, args.runs)
            setup, listings = bench_listing(zone, args.objects, args.runs)

    megabytes = size / 1e6
    print(f"## Local iRODS zone through python-irodsclient ({args.runs} runs each)\n")
    print("| measure | median | min | max | unit |")
    print("|---|---|---|---|---|")
    print(row(f"put {args.size_mib} MiB", [megabytes / s for s in puts], "MB/s"))
    print(row(f"get {args.size_mib} MiB", [megabytes / s for s in gets], "MB/s"))
    print(row(f"list {args.objects:,} objects (coll.data_objects)", listings, "s"))
    print()
    print(f"Setup: created {args.objects:,} objects with 4 sessions in {setup:.1f} s")
    print(f"Machine: {cpu_model()}, {cpu_count()} CPUs (nproc)")
    print(f"Python {platform.python_version()}, python-irodsclient {version('python-irodsclient')}")


if __name__ == "__main__":
    main()
