"""What keeping checksums costs a large PUT (not a test): curl PUTs of one file to three
gateways over the same zone and Swift, differing only in ``checksums.upload``: none, the
default ``[adler32]`` and ``[adler32, md5]``. On Swift the digests travel with the
object's own PUT, so a body above 4 MiB that keeps any becomes a one-segment SLO whose
manifest carries them (``none`` streams one plain object). One round PUTs to every
gateway once (each PUT to an absent name; the order rotates from round to round), so the
ratios of a round share one load.

    python bench/checksum_cost.py [--size-mib 256] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from common import (
    ALICE,
    MiB,
    Server,
    curl_put,
    fmt3,
    gateway_settings,
    machine_line,
    md_table,
    random_file,
    scratch,
    start_gateway,
    zone_and_swift,
)

VARIANTS = {"none": [], "adler32": ["adler32"], "adler32+md5": ["adler32", "md5"]}


def put_once(server: Server, path: str, source: Path) -> float:
    with server.client(ALICE) as client:
        client.request("DELETE", path)  # untimed: the PUT creates its object
    return source.stat().st_size / curl_put(server, path, source, ALICE) / 1e6


def measure(root: Path, size_mib: int, runs: int) -> dict[str, dict[str, list[float]]]:
    with zone_and_swift(root) as (zone, swift):
        return measure_on(root, zone, swift, size_mib, runs)


def measure_on(
    root: Path, zone: Any, swift: Any, size_mib: int, runs: int
) -> dict[str, dict[str, list[float]]]:
    gateways: dict[str, Server] = {}
    try:
        for name, upload in VARIANTS.items():
            config = gateway_settings(zone, swift, None)
            config["checksums"] = {"upload": upload}
            config["shares"][2]["options"]["segment_size"] = 1 << 30  # the default
            gateways[name] = start_gateway(root, f"gw-{name.replace('+', '-')}", config)
        with gateways["none"].client(ALICE) as client:
            client.request("MKCOL", "/swift/bench")
        source = root / "source.bin"
        random_file(source, size_mib * MiB)
        rates: dict[str, dict[str, list[float]]] = {
            share: {name: [] for name in VARIANTS} for share in ("irods", "swift")
        }
        names = list(gateways)
        for index in range(runs):
            order = names[index % len(names) :] + names[: index % len(names)]  # rotated
            for share, folder in (("irods", "/irods/alice"), ("swift", "/swift/bench")):
                for name in order:
                    path = f"{folder}/{name}-{size_mib}m.bin"
                    rates[share][name].append(put_once(gateways[name], path, source))
        return rates
    finally:
        for server in gateways.values():
            server.stop()


def report(rates: dict[str, dict[str, list[float]]], size_mib: int) -> str:
    rows = []
    for share, by_variant in rates.items():
        base = by_variant["none"]
        for name, values in by_variant.items():
            ratios = [v / b for v, b in zip(values, base, strict=True)]
            rows.append(
                (
                    f"/{share}",
                    name,
                    fmt3(values),
                    f"{statistics.median(ratios):.2f}",
                )
            )
    head = f"PUT of {size_mib} MiB, MB/s median (min-max); ratio to `none` within a round"
    table = md_table(("share", "checksums.upload", "MB/s", "÷ none"), rows)
    return f"{head}\n\n{machine_line()}\n\n{table}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with scratch("davbench-sums-") as root:
        print(report(measure(root, args.size_mib, args.runs), args.size_mib))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
