"""PROPFIND Depth:1 latency on collections of 100, 1,000 and 10,000 entries (not a test),
with the backend requests each PROPFIND made, and the gateway's memory over 100 repeated
listings.

Collections: iRODS ``/tempZone/home/alice/listN`` (empty objects created by PRC sessions in
threads); Swift containers ``listN`` in alice's account, whose listing rows are written
straight into the container server (``LocalSwift.add_listing_rows``: real rows, no object
data behind them: enough for listings, which never read objects); a local folder ``listN``
of empty files for stock WsgiDAV. Every front end is asked over plain HTTP on a keep-alive
connection, one untimed request first. The gateway is asked past its listing cache
(``Cache-Control: no-cache``), and in the "cached" rows as clients ask (from its
cache, filled by the fresh request just before). Backend requests: iRODS API requests counted inside
the gateway (``serve_counting.py``); Swift client requests counted in the proxy's log
(gateway and rclone alike; rclone's auth requests included).

    python bench/propfind.py [--sizes 100,1000,10000] [--runs 5] [--repeat 100]
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from pathlib import Path
from typing import Any

from common import (
    ALICE,
    ZONE_HOME,
    Environment,
    MiB,
    Server,
    fmt3,
    make_irods_objects,
    md_table,
    rclone_forget,
    run_alone,
    summary,
    swift_requests,
)
from common import (
    PROPFIND_NAMED as NAMED,
)

BODIES = {"named": NAMED, "allprop": b""}
GENQUERY = 702
RESPONSE = re.compile(rb"<(?:\w+:)?response[\s>]")

#: key -> (label, backend)
SYSTEMS = {
    "gw-irods": ("gateway /irods", "iRODS"),
    "gw-swift": ("gateway /swift, listing rows", "Swift"),
    "stock": ("stock WsgiDAV, local folder", "tmpfs"),
    "gw-swift-real": ("gateway /swift, real objects", "Swift"),
    "gw-irods-cached": ("gateway /irods, from its listing cache (default 5 s)", "iRODS"),
    "gw-swift-cached": (
        "gateway /swift, real objects, from its listing cache (default 5 s)",
        "Swift",
    ),
    "rclone-cold": ("rclone serve webdav, dir cache emptied before each", "Swift"),
    "rclone": ("rclone serve webdav, from its dir cache (default 5 min)", "Swift"),
}
#: systems that list real Swift objects, only up to REAL_MAX entries
REAL_SYSTEMS = ("gw-swift-real", "gw-swift-cached", "rclone-cold", "rclone")
REAL_MAX = 1000
#: allprop asks for dead properties too, which Swift keeps per object (a HEAD each): not
#: asked of listing rows without objects, nor of rclone with an empty cache (a HEAD per
#: object already for named properties); allprop is measured up to REAL_MAX entries
ALLPROP_SKIP = ("gw-swift", "rclone-cold")
#: the gateway's other rows ask past its listing cache (``Cache-Control: no-cache``): the
#: listing is fetched from the backend every time
FRESH = {"Depth": "1", "Cache-Control": "no-cache"}
CACHED = {"Depth": "1"}


def headers(key: str) -> dict[str, str]:
    return FRESH if key.startswith("gw-") and not key.endswith("-cached") else CACHED


def names(count: int) -> list[str]:
    return [f"f{i:05d}.txt" for i in range(count)]


def create_collections(env: Environment, sizes: list[int]) -> dict[str, float]:
    """The listN collections on every backend; seconds each took."""
    import time

    took = {}
    for size in sizes:
        started = time.perf_counter()
        make_irods_objects(env.zone, f"{ZONE_HOME}/alice/list{size}", names(size))
        took[f"irods {size}"] = time.perf_counter() - started
        started = time.perf_counter()
        conn = env.swift_conn()
        conn.put_container(f"list{size}")
        conn.close()
        env.swift.add_listing_rows("AUTH_alice", f"list{size}", names(size))
        took[f"swift rows {size}"] = time.perf_counter() - started
        if size <= REAL_MAX:
            started = time.perf_counter()
            put_real_objects(env, f"real{size}", names(size))
            took[f"swift objects {size}"] = time.perf_counter() - started
        folder = env.folder / f"list{size}"
        folder.mkdir()
        for name in names(size):
            (folder / name).touch()
    return took


def put_real_objects(env: Environment, container: str, names: list[str]) -> None:
    """Real (empty) objects, PUT by swiftclient from 8 threads."""
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()
    conns = []

    def put(name: str) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = env.swift_conn()
            conns.append(conn)
        conn.put_object(container, name, b"")

    first = env.swift_conn()
    first.put_container(container)
    first.close()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, names))
    for conn in conns:
        conn.close()


def target(env: Environment, key: str, size: int) -> tuple[Server, str, tuple[str, str] | None]:
    if key in ("gw-irods", "gw-irods-cached"):
        return env.gateway["http"], f"/irods/alice/list{size}/", ALICE
    if key == "gw-swift":
        return env.gateway["http"], f"/swift/list{size}/", ALICE
    if key in ("gw-swift-real", "gw-swift-cached"):
        return env.gateway["http"], f"/swift/real{size}/", ALICE
    if key in ("rclone", "rclone-cold"):
        return env.rclone["http"], f"/real{size}/", None
    return env.stock["http"], f"/list{size}/", None


def backend_requests(env: Environment, key: str) -> int | None:
    if key in ("gw-irods", "gw-irods-cached"):
        return sum(env.gateway["http"].irods_calls().values())
    if key in ("gw-swift", "gw-swift-real", "gw-swift-cached", "rclone", "rclone-cold"):
        return swift_requests(env.swift)
    return None


def _systems_for(body_name: str, size: int, systems: list[str]) -> list[str] | None:
    """The systems measured for one body and size (``None``: the cell is skipped)."""
    here = [k for k in systems if size <= REAL_MAX or k not in REAL_SYSTEMS]
    if body_name == "allprop":  # dead properties: see ALLPROP_SKIP
        if size > REAL_MAX:
            return None
        here = [k for k in here if k not in ALLPROP_SKIP]
    return here


def _first_requests(
    env: Environment, cell: dict[str, list[float]], size: int, body: bytes, body_name: str
) -> tuple[dict[str, Any], dict[str, int]]:
    """One untimed request per system (logins, caches); the clients, and the backend
    requests each system's first named listing cost."""
    clients: dict[str, Any] = {}
    counted: dict[str, int] = {}
    for key in cell:
        server, path, auth = target(env, key, size)
        client = clients[key] = server.client(auth)
        before = backend_requests(env, key)
        if key == "rclone-cold":
            rclone_forget(server)
        reply = client.request("PROPFIND", path, body, headers(key))
        check(reply, size, key)
        if key == "rclone-cold":  # slow: this request is its first timed run
            cell[key].append(reply.seconds * 1000)
        if before is not None and body_name == "named":
            after = backend_requests(env, key)
            assert after is not None
            counted[key] = after - before
    return clients, counted


def _timed_requests(
    env: Environment, cell: dict[str, list[float]], clients: dict[str, Any], size: int,
    body: bytes, runs: int,
) -> None:  # fmt: skip
    for _ in range(runs):
        for key in cell:
            server, path, _ = target(env, key, size)
            if key == "rclone-cold":
                if len(cell[key]) >= runs:
                    continue
                rclone_forget(server)
            reply = clients[key].request("PROPFIND", path, body, headers(key))
            check(reply, size, key)
            cell[key].append(reply.seconds * 1000)


def measure(
    env: Environment, sizes: list[int], runs: int, repeat: int, systems: list[str]
) -> dict[str, Any]:
    """Latencies (ms) per body, size and system; backend requests; RSS."""
    setup = create_collections(env, sizes)
    latency: dict[str, dict[str, dict[str, list[float]]]] = {}
    requests: dict[str, dict[str, int | None]] = {}
    memory: dict[str, dict[str, float]] = {}
    for body_name, body in BODIES.items():
        latency[body_name] = {}
        for size in sizes:
            here = _systems_for(body_name, size, systems)
            if here is None:
                continue
            cell = latency[body_name][str(size)] = {key: [] for key in here}
            env.gateway["http"].reset_peak()
            clients, counted = _first_requests(env, cell, size, body, body_name)
            for key, count in counted.items():
                requests.setdefault(key, {})[str(size)] = count
            _timed_requests(env, cell, clients, size, body, runs)
            for client in clients.values():
                client.close()
            gw = env.gateway["http"].memory()
            memory[f"{body_name} {size}"] = {"peak": gw["VmHWM"] / MiB, "rss": gw["VmRSS"] / MiB}
            print(
                f"  PROPFIND {body_name} {size}: "
                + ", ".join(f"{k} {summary(v)[0]:.0f} ms" for k, v in cell.items()),
                file=sys.stderr,
                flush=True,
            )
    repeated = repeated_listings(env, max(s for s in sizes if s <= 1000), repeat)
    concurrent = concurrent_listings(env, max(s for s in sizes if s <= 1000))
    return {
        "incomplete": list(INCOMPLETE),
        "concurrent": concurrent,
        "sizes": sizes,
        "runs": runs,
        "latency_ms": latency,
        "requests": requests,
        "gateway_memory_mib": memory,
        "repeated": repeated,
        "setup_s": setup,
    }


INCOMPLETE: list[str] = []  # PROPFINDs that listed fewer members than there are


def check(reply: Any, size: int, key: str) -> int:
    """Members listed; a short listing is recorded (and reported), not fatal."""
    if reply.status != 207:
        raise RuntimeError(f"{key}: PROPFIND answered {reply.status}: {reply.body[:300]!r}")
    found = len(RESPONSE.findall(reply.body)) - 1
    if found != size:
        INCOMPLETE.append(f"{key}: listed {found} of {size} members")
        print(f"  INCOMPLETE {INCOMPLETE[-1]}", file=sys.stderr, flush=True)
    return found


def concurrent_listings(env: Environment, size: int, clients: int = 8) -> dict[str, list[int]]:
    """Members listed by PROPFINDs of the iRODS listN: one alone, then ``clients`` at once
    (the pooled session then holds several connections), then alone again."""
    from concurrent.futures import ThreadPoolExecutor

    server, path, auth = target(env, "gw-irods", size)

    def one(_: int) -> int:
        with server.client(auth) as client:
            reply = client.request("PROPFIND", path, NAMED, FRESH)
        return len(RESPONSE.findall(reply.body)) - 1

    before = [one(0)]
    with ThreadPoolExecutor(clients) as pool:
        together = list(pool.map(one, range(clients)))
    after = [one(0) for _ in range(3)]
    return {"before": before, "concurrent": together, "after": after}


def repeated_listings(env: Environment, size: int, repeat: int) -> dict[str, Any]:
    """RSS of the gateway after each of ``repeat`` PROPFINDs of listN, per backend."""
    gateway = env.gateway["http"]
    series: dict[str, list[float]] = {}
    for key in ("gw-irods", "gw-swift"):
        _, path, auth = target(env, key, size)
        rss = []
        with gateway.client(auth) as client:
            for _ in range(repeat):
                check(client.request("PROPFIND", path, NAMED, FRESH), size, key)
                rss.append(gateway.memory()["VmRSS"] / MiB)
        series[key] = rss
    return {"size": size, "repeat": repeat, "rss_mib": series}


def report(result: dict[str, Any]) -> str:
    sizes = result["sizes"]
    out = []
    for body_name, title in (("named", "4 named properties"), ("allprop", "allprop (empty body)")):
        cells = result["latency_ms"][body_name]
        shown = [s for s in sizes if str(s) in cells]
        rows = []
        for key in SYSTEMS:
            if not any(key in cells[str(s)] for s in shown):
                continue
            label, backend = SYSTEMS[key]
            rows.append([label, backend] + [fmt3(cells[str(s)].get(key)) for s in shown])
        header = ["system", "backend"] + [f"{s:,} entries, ms" for s in shown]
        out.append(
            f"PROPFIND Depth:1, {title}: latency, median (min–max)\n\n" + md_table(header, rows)
        )
    out.append(ratio_table(result))
    rows = []
    for key, counts in result["requests"].items():
        label, backend = SYSTEMS[key]
        rows.append([label, backend] + [str(counts.get(str(s), "—")) for s in sizes])
    out.append(
        "Backend requests made by one PROPFIND Depth:1 (named properties)\n\n"
        + md_table(["system", "backend"] + [f"{s:,} entries" for s in sizes], rows)
    )
    peaks = result["gateway_memory_mib"]
    out.append(
        "Gateway RSS after the PROPFINDs of each collection (peak since the first of them), MiB"
        "\n\n"
        + md_table(
            ["request", "peak (VmHWM)", "RSS after"],
            [[k, f"{v['peak']:.1f}", f"{v['rss']:.1f}"] for k, v in peaks.items()],
        )
    )
    conc = result.get("concurrent")
    if conc:
        size = result["repeated"]["size"]
        out.append(
            f"Members listed by PROPFIND Depth:1 of the {size:,}-entry iRODS collection\n\n"
            + md_table(
                ["alone, first", "8 at once", "alone, afterwards"],
                [[str(conc["before"]), str(conc["concurrent"]), str(conc["after"])]],
            )
        )
    if result.get("incomplete"):
        out.append(
            "**Incomplete listings during the timed runs** (their latencies are in the tables "
            "above but describe a truncated answer): "
            + "; ".join(sorted(set(result["incomplete"])))
        )
    rep = result["repeated"]
    rows = []
    for key, series in rep["rss_mib"].items():
        rows.append(
            [
                SYSTEMS[key][0],
                f"{series[0]:.1f}",
                f"{series[9]:.1f}",
                f"{series[-1]:.1f}",
                f"{max(series):.1f}",
                f"{series[-1] - series[9]:+.1f}",
            ]
        )
    out.append(
        f"Gateway RSS over {rep['repeat']} PROPFIND Depth:1 of {rep['size']:,} entries, MiB\n\n"
        + md_table(
            [
                "share",
                "after 1st",
                "after 10th",
                f"after {rep['repeat']}th",
                "max",
                "growth 10th→last",
            ],
            rows,
        )
    )
    return "\n\n".join(out) + "\n"


def ratios(result: dict[str, Any], body: str = "named") -> dict[str, dict[str, list[float]]]:
    """Latency ratios per size, taken round by round (same run)."""
    pairs = {
        "gateway/iRODS ÷ stock": ("gw-irods", "stock"),
        "gateway/Swift ÷ stock": ("gw-swift", "stock"),
        "gateway/Swift ÷ rclone, cold (real objects)": ("gw-swift-real", "rclone-cold"),
        "gateway/Swift ÷ rclone, cached (real objects)": ("gw-swift-real", "rclone"),
        "gateway/Swift, cached ÷ rclone, cached (real objects)": ("gw-swift-cached", "rclone"),
        "gateway/iRODS, cached ÷ stock": ("gw-irods-cached", "stock"),
    }
    found: dict[str, dict[str, list[float]]] = {}
    for label, (num, den) in pairs.items():
        for size in result["sizes"]:
            cell = result["latency_ms"][body].get(str(size), {})
            if num in cell and den in cell:
                found.setdefault(label, {})[str(size)] = [
                    n / d for n, d in zip(cell[num], cell[den], strict=False)
                ]
    return found


def ratio_table(result: dict[str, Any]) -> str:
    sizes = result["sizes"]
    out = []
    for body in ("named", "allprop"):
        rows = []
        for label, per_size in ratios(result, body).items():
            rows.append([label] + [fmt3(per_size.get(str(s)), 2) for s in sizes])
        out.append(
            f"Latency ratios ({body}; lower is faster; same round)\n\n"
            + md_table(["ratio"] + [f"{s:,} entries" for s in sizes], rows)
        )
    return "\n\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    systems = args.systems.split(",")
    return run_alone(
        args.json,
        lambda env: measure(env, sizes, args.runs, args.repeat, systems),
        report,
        schemes=("http",),
    )


if __name__ == "__main__":
    sys.exit(main())
