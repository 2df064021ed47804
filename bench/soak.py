"""Soak: 50 clients for 3 minutes of mixed verbs on both shares of one gateway.

Half the clients work in alice's iRODS home (``/irods/alice/``), half in her Swift
container (``/swift/soak/``), each in its own folder: PUT with Content-MD5, GET and
verify, PROPFIND, MOVE, COPY, DELETE, MKCOL, LOCK/UNLOCK (``tests/helpers/soak.py``).
Then every acknowledged file is read back. Prints errors, mismatches, p50/p99 per verb
and the gateway's RSS at start and end (the short version runs in ``make test``).

    python bench/soak.py [--clients 50] [--seconds 180] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import Environment, machine, md_table, run_alone  # puts the repo on the path

from tests.helpers.soak import Share, percentiles, soak

MiB = 1 << 20


def measure(env: Environment, clients: int, seconds: float) -> dict[str, Any]:
    gw = env.gateway["http"]
    shares = [
        Share("127.0.0.1", gw.port, "/irods/alice/", "alice", "alice"),
        Share("127.0.0.1", gw.port, "/swift/soak/", "alice", "alice"),
    ]
    env.swift_conn().put_container("soak")
    start = gw.memory()
    report = soak(shares, clients, seconds)
    end = gw.memory()
    return {
        "machine": machine(),
        "clients": clients,
        "seconds": seconds,
        "files": report.files,
        "errors": report.errors[:50],
        "error_count": len(report.errors),
        "mismatches": report.mismatches[:50],
        "verbs": percentiles(report),
        "rss_mib": {
            "start": start["VmRSS"] / MiB,
            "end": end["VmRSS"] / MiB,
            "peak": end["VmHWM"] / MiB,
        },  # fmt: skip
    }


def report(result: dict[str, Any]) -> str:
    rows = [
        [verb, str(v["count"]), f"{v['p50_ms']:.0f}", f"{v['p99_ms']:.0f}"]
        for verb, v in result["verbs"].items()
    ]
    rss = result["rss_mib"]
    return (
        f"{result['clients']} clients, {result['seconds']:.0f} s, both shares: "
        f"{sum(v['count'] for v in result['verbs'].values())} requests, "
        f"{result['files']} files read back; errors {result['error_count']}, "
        f"mismatches {len(result['mismatches'])}; gateway RSS {rss['start']:.0f} MiB at "
        f"start, {rss['end']:.0f} MiB at the end (peak {rss['peak']:.0f})\n\n"
        + md_table(["verb", "requests", "p50 ms", "p99 ms"], rows)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    return run_alone(
        args.json, lambda env: measure(env, args.clients, args.seconds), report, ("http",)
    )


if __name__ == "__main__":
    sys.exit(main())
