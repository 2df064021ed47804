"""Third-party copy against gfal2's streamed copy (not a test), and the gateway's memory
during a large third-party copy.

Two ``davprovider serve`` (source and destination) over one local zone and one Swift, both
trusting 127.0.0.1 as alice (``ipallow``: gfal2 over plain HTTP sends no credentials). One
round copies the same file from the source's ``/irods`` to the destination's ``/swift``
twice with gfal2 (Debian's ``/usr/bin/python3``): a pull TPC (``3rd pull``, fallback off:
the destination gateway GETs from the source) and gfal2's streamed copy (``streamed``:
gfal2 GETs and PUTs itself). Both PUTs go to absent names; the ratio of a round is taken
under one load. Then one pull of ``--memory-mib`` while the destination's RSS is sampled.

    python bench/tpc.py [--size-mib 256] [--runs 3] [--memory-mib 1024]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from common import (
    ALICE,
    MiB,
    PeakSampler,
    Server,
    curl_put,
    fmt3,
    machine_line,
    md_table,
    random_file,
    scratch,
    start_gateway,
    zone_and_swift,
)

from tests.helpers.grid import SYSTEM_PYTHON, grid_config

_COPY = r"""
import sys, time
import gfal2
source, destination, mode = sys.argv[1:4]
ctx = gfal2.creat_context()
ctx.set_opt_string("HTTP PLUGIN", "DEFAULT_COPY_MODE", mode)
ctx.set_opt_boolean("HTTP PLUGIN", "ENABLE_FALLBACK_TPC_COPY", False)
ctx.set_opt_boolean("HTTP PLUGIN", "ENABLE_REMOTE_COPY", mode != "streamed")
params = ctx.transfer_parameters()
params.overwrite = True
params.timeout = 1800
started = time.perf_counter()
ctx.filecopy(params, source, destination)
print(time.perf_counter() - started)
"""


def gfal2_copy(source: str, destination: str, mode: str) -> float:
    """Seconds of one gfal2 ``filecopy`` (as gfal2 measures it, without its start-up)."""
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", _COPY, source, destination, mode],
        capture_output=True, text=True, check=True, timeout=3600,
    )  # fmt: skip
    return float(run.stdout.strip().splitlines()[-1])


def gateways(root: Path, zone: Any, swift: Any) -> tuple[Server, Server]:
    config = grid_config(zone, swift, chain=("ipallow",))
    config["logging"] = {"level": "info", "access_log": True}
    config["tpc"]["marker_interval"] = 5.0
    config["shares"][1]["options"]["segment_size"] = 1 << 30
    source = start_gateway(root, "source", config)
    destination = start_gateway(root, "destination", config)
    with destination.client() as client:
        client.request("MKCOL", "/swift/bench")
    return source, destination


def measure(root: Path, size_mib: int, runs: int, memory_mib: int) -> dict[str, Any]:
    with zone_and_swift(root) as (zone, swift):
        source, destination = gateways(root, zone, swift)
        try:
            return measure_on(root, source, destination, size_mib, runs, memory_mib)
        finally:
            for server in (source, destination):
                server.stop()


def measure_on(
    root: Path, source: Server, destination: Server, size_mib: int, runs: int, memory_mib: int
) -> dict[str, Any]:
    data = root / "data.bin"
    random_file(data, size_mib * MiB)
    curl_put(source, "/irods/alice/bench.bin", data, ALICE)
    src = source.url("/irods/alice/bench.bin")
    rates: dict[str, list[float]] = {"3rd pull": [], "streamed": []}
    for index in range(runs):
        for mode in rates:
            target = destination.url(f"/swift/bench/{mode.replace(' ', '-')}-{index}.bin")
            rates[mode].append(size_mib * MiB / gfal2_copy(src, target, mode) / 1e6)
    big = root / "big.bin"
    random_file(big, memory_mib * MiB)
    curl_put(source, "/irods/alice/big.bin", big, ALICE)
    big.unlink()
    time.sleep(1)
    before = destination.memory()["VmRSS"]
    with PeakSampler(destination.pid) as sampler:
        seconds = gfal2_copy(
            source.url("/irods/alice/big.bin"), destination.url("/swift/bench/big.bin"),
            "3rd pull",
        )  # fmt: skip
    return {
        "rates": rates,
        "memory": {"before": before, "peak": sampler.peak, "seconds": seconds},
    }


def report(result: dict[str, Any], size_mib: int, memory_mib: int) -> str:
    rates = result["rates"]
    ratios = [t / s for t, s in zip(rates["3rd pull"], rates["streamed"], strict=True)]
    rows = [(mode, fmt3(v)) for mode, v in rates.items()]
    rows.append(("pull ÷ streamed (median of rounds)", f"{statistics.median(ratios):.2f}"))
    mem = result["memory"]
    growth = (mem["peak"] - mem["before"]) / MiB
    return (
        f"gfal2 copy of {size_mib} MiB, source /irods -> destination /swift, MB/s median "
        f"(min-max)\n\n{machine_line()}\n\n{md_table(('gfal2 mode', 'MB/s'), rows)}\n\n"
        f"pull TPC of {memory_mib} MiB: {memory_mib * MiB / mem['seconds'] / 1e6:.0f} MB/s; "
        f"destination RSS {mem['before'] / MiB:.1f} MiB before, peak "
        f"{mem['peak'] / MiB:.1f} MiB (+{growth:.1f} MiB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-mib", type=int, default=1024)
    args = parser.parse_args()
    with scratch("davbench-tpc-") as root:
        result = measure(root, args.size_mib, args.runs, args.memory_mib)
        print(report(result, args.size_mib, args.memory_mib))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
