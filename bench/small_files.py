"""Small files (not a test): 1,000 files of 4 KiB, PUT then GET then PROPFIND Depth:0 of
each, with 1 and 8 concurrent clients; then the same GETs and PROPFINDs on the iRODS share
authenticated (Basic, alice) and anonymous (a share with ``anonymous:``), interleaved.

``prc`` is python-irodsclient itself on the same zone, bob's home, one session per
client thread: PUT is ``data_objects.put`` of a local file (on tmpfs, written before the
call), GET ``data_objects.get`` to a local file, PROPFIND a stat (``data_objects.get``).

iRODS files are bob's (the PROPFIND collections are alice's: see run_all.py). Clients are
Python threads, each with its own keep-alive ``http.client`` connection. Every
run writes into a fresh folder (a Swift container for the Swift front ends). Figures:
operations per second (wall clock) and p50/p99 latency of the single requests.

    python bench/small_files.py [--files 1000] [--runs 3] [--clients 1,8]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import (
    ALICE,
    BOB,
    ZONE_HOME,
    Client,
    Environment,
    MiB,
    fmt3,
    md_table,
    open_clients,
    percentile,
    run_alone,
    run_clients,
)
from common import PROPFIND_NAMED as DEPTH0

SIZE = 4096
VERBS = ("PUT", "GET", "PROPFIND")

#: key -> label
SYSTEMS = {
    "gw-irods": "gateway /irods (iRODS)",
    "prc": "python-irodsclient (iRODS)",
    "gw-swift": "gateway /swift (Swift)",
    "gw-swift-w2": "gateway /swift, serve --workers 2 (Swift)",
    "rclone": "rclone serve webdav (Swift)",
    "stock": "stock WsgiDAV (local folder)",
}


class PrcReply:
    """What ``workers`` checks of an answer: a status, the content, seconds taken."""

    def __init__(self, status: int, body: bytes, seconds: float) -> None:
        self.status, self.body, self.seconds = status, body, seconds


class PrcClient:
    """python-irodsclient's own small-file calls behind ``Client.request``: a session of
    its own, HTTP verbs on iRODS paths (``PUT`` put, ``GET`` get, ``PROPFIND`` stat)."""

    def __init__(self, zone: Any, auth: tuple[str, str], scratch: Path) -> None:
        self.session = zone.session(*auth)
        self.scratch = Path(tempfile.mkdtemp(dir=scratch))

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Any = None
    ) -> PrcReply:
        from irods import keywords as kw

        objects, local = self.session.data_objects, self.scratch / "f.bin"
        if method == "PUT":
            local.write_bytes(body or b"")
        started = time.perf_counter()
        if method == "PUT":
            objects.put(str(local), path)
        elif method == "GET":
            objects.get(path, str(local), **{kw.FORCE_FLAG_KW: ""})
        elif method == "PROPFIND":
            objects.get(path)
        elif method == "MKCOL":
            self.session.collections.create(path.rstrip("/"))
        seconds = time.perf_counter() - started
        content = local.read_bytes() if method == "GET" else b""
        return PrcReply(
            {"PUT": 201, "PROPFIND": 207, "MKCOL": 201}.get(method, 200), content, seconds
        )

    def close(self) -> None:
        self.session.cleanup()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def __enter__(self) -> PrcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PrcFront:
    """python-irodsclient as a front (``client`` as ``Server.client``)."""

    def __init__(self, env: Environment) -> None:
        self.zone, self.scratch = env.zone, env.root

    def client(self, auth: tuple[str, str] | None) -> PrcClient:
        return PrcClient(self.zone, auth or BOB, self.scratch)


def front(env: Environment, key: str) -> tuple[Any, str, tuple[str, str] | None]:
    """Server (or ``PrcFront``), the parent under which folders are made, credentials."""
    if key == "prc":
        return PrcFront(env), f"{ZONE_HOME}/bob/", BOB
    if key == "gw-irods":
        return env.gateway["http"], "/irods/bob/", BOB
    if key == "gw-swift":
        return env.gateway["http"], "/swift/", ALICE
    if key == "gw-swift-w2":
        return env.workers_gateway(), "/swift/", ALICE
    if key == "rclone":
        return env.rclone["http"], "/", None
    return env.stock["http"], "/", None


def slices(items: list[str], count: int) -> list[list[str]]:
    size = -(-len(items) // count)
    return [items[i : i + size] for i in range(0, len(items), size)]


def workers(verb: str, payload: dict[str, bytes]) -> Any:
    """The timed request of ``verb`` on one path, checking the answer; seconds."""

    def put(client: Client, path: str) -> float:
        reply = client.request("PUT", path, payload[path])
        if reply.status not in (200, 201, 204):
            raise RuntimeError(f"PUT {path}: {reply.status} {reply.body[:200]!r}")
        return reply.seconds

    def get(client: Client, path: str) -> float:
        reply = client.request("GET", path)
        if reply.status != 200 or (path in payload and reply.body != payload[path]):
            raise RuntimeError(f"GET {path}: {reply.status}, {len(reply.body)} bytes")
        return reply.seconds

    def propfind(client: Client, path: str) -> float:
        reply = client.request("PROPFIND", path, DEPTH0, {"Depth": "0"})
        if reply.status != 207:
            raise RuntimeError(f"PROPFIND {path}: {reply.status} {reply.body[:200]!r}")
        return reply.seconds

    return {"PUT": put, "GET": get, "PROPFIND": propfind}[verb]


def one_pass(
    fronts: list[tuple[Any, tuple[str, str] | None, str]],
    files: int,
    clients: int,
    verbs: tuple[str, ...] = VERBS,
    parts: int = 5,
) -> list[dict[str, dict[str, Any]]]:
    """PUT, GET, PROPFIND of ``files`` files in each front's folder, verb after verb, in
    ``parts`` consecutive slices (the fronts take turns slice by slice, so that their
    ratios are taken under the same load). Per front and verb: ops/s of every slice,
    p50 and p99 (ms) over all requests. GET checks the content when the pass PUT it."""
    names = [f"f{i:04d}.bin" for i in range(files)]
    payloads = [
        {f"{folder}{n}": os.urandom(SIZE) for n in names} if "PUT" in verbs else {}
        for _, _, folder in fronts
    ]
    results: list[dict[str, dict[str, Any]]] = [{} for _ in fronts]
    pools = [
        open_clients(functools.partial(server.client, auth), clients) for server, auth, _ in fronts
    ]
    try:
        passes(fronts, pools, names, payloads, verbs, parts, results)
    finally:
        for pool in pools:
            for client in pool:
                client.close()
    return results


def passes(
    fronts: list[tuple[Any, tuple[str, str] | None, str]],
    pools: list[list[Client]],
    names: list[str],
    payloads: list[dict[str, bytes]],
    verbs: tuple[str, ...],
    parts: int,
    results: list[dict[str, dict[str, Any]]],
) -> None:
    for verb in verbs:
        latencies: list[list[float]] = [[] for _ in fronts]
        for part in slices(names, parts):
            for index, (_, _, folder) in enumerate(fronts):
                work = workers(verb, payloads[index])
                jobs = [f"{folder}{n}" for n in part]
                wall, took = run_clients(pools[index], jobs, work)
                results[index].setdefault(verb, {"ops": []})["ops"].append(len(part) / wall)
                latencies[index] += took
        for index, took in enumerate(latencies):
            results[index][verb]["p50"] = percentile(took, 50) * 1000
            results[index][verb]["p99"] = percentile(took, 99) * 1000


def make_folder(server: Any, auth: tuple[str, str] | None, path: str) -> None:
    with server.client(auth) as client:
        status = client.request("MKCOL", path).status
    if status != 201:
        raise RuntimeError(f"MKCOL {path} on {server.name}: {status}")


#: Systems measured together, slice by slice (their ratios taken under the same load).
PAIRED = (("gw-irods", "prc"), ("gw-swift", "gw-swift-w2", "rclone"))


def groups(systems: list[str]) -> list[list[str]]:
    """The systems in the order of one run: each of ``PAIRED`` as one group."""
    out: list[list[str]] = []
    for key in systems:
        together = next((group for group in PAIRED if key in group), (key,))
        members = [k for k in together if k in systems]
        if key == members[0]:
            out.append(members)
    return out


def measure(
    env: Environment,
    files: int,
    runs: int,
    clients: list[int],
    systems: list[str],
    anonymous: bool = True,
) -> dict[str, Any]:
    """Per system and client count, ``runs`` passes; then authenticated vs anonymous."""
    passes: dict[str, dict[str, list[dict[str, dict[str, float]]]]] = {}
    peaks: dict[str, float] = {}
    gateway = env.gateway["http"]
    for count in clients:
        for run in range(runs):
            for group in groups(systems):
                fronts = []
                for key in group:
                    server, parent, auth = front(env, key)
                    folder = f"{parent}small-{uuid.uuid4().hex[:8]}/"
                    make_folder(server, auth, folder)
                    fronts.append((server, auth, folder))
                gateway.reset_peak()
                found = one_pass(fronts, files, count)
                for key, (server, _, _), result in zip(group, fronts, found, strict=True):
                    if server is gateway:
                        peaks[key] = max(peaks.get(key, 0.0), gateway.memory()["VmHWM"] / MiB)
                    passes.setdefault(key, {}).setdefault(str(count), []).append(result)
                    print(
                        f"  small files {key} x{count} run {run + 1}: "
                        + ", ".join(
                            f"{v} {statistics.median(result[v]['ops']):.0f}/s" for v in VERBS
                        ),
                        file=sys.stderr,
                        flush=True,
                    )
    return {
        "files": files,
        "size": SIZE,
        "runs": runs,
        "clients": clients,
        "passes": passes,
        "anonymous": auth_vs_anonymous(env, files, runs, clients) if anonymous else {},
        "gateway_peak_mib": peaks,
        "gateway_rss_mib": gateway.memory()["VmRSS"] / MiB,
    }


def auth_vs_anonymous(
    env: Environment, files: int, runs: int, clients: list[int]
) -> dict[str, list[dict[str, dict[str, Any]]]]:
    """GET and PROPFIND of the same files through /irods as bob (Basic) and through
    /pub (``anonymous:``, the zone user ``anonymous`` with read access), round by round."""
    from irods.access import iRODSAccess

    gateway = env.gateway["http"]
    name = f"small-anon-{uuid.uuid4().hex[:8]}"
    with env.zone.session(*BOB) as bob:
        coll = f"{ZONE_HOME}/bob/{name}"
        bob.collections.create(coll)
        bob.acls.set(iRODSAccess("inherit", coll))
        bob.acls.set(iRODSAccess("read", coll, "anonymous"))
    one_pass([(gateway, BOB, f"/irods/bob/{name}/")], files, 8, ("PUT",))
    found: dict[str, list[dict[str, dict[str, Any]]]] = {}
    fronts = [(gateway, BOB, f"/irods/bob/{name}/"), (gateway, None, f"/pub/bob/{name}/")]
    for count in clients:
        for _ in range(runs):
            basic, anonymous = one_pass(fronts, files, count, ("GET", "PROPFIND"))
            found.setdefault(f"basic x{count}", []).append(basic)
            found.setdefault(f"anonymous x{count}", []).append(anonymous)
    return found


def ops(runs: list[dict[str, dict[str, Any]]], verb: str) -> list[float]:
    """ops/s of every slice of every run."""
    return [value for run in runs for value in run[verb]["ops"]]


def latency(runs: list[dict[str, dict[str, Any]]], verb: str, which: str) -> float:
    return statistics.median(run[verb][which] for run in runs)


def anonymous_ratios(result: dict[str, Any], count: int, verb: str) -> list[float]:
    """Basic ÷ anonymous ops/s, slice by slice (each pair ran back to back)."""
    anon = result["anonymous"]
    basic, anonymous = ops(anon[f"basic x{count}"], verb), ops(anon[f"anonymous x{count}"], verb)
    return [b / a for b, a in zip(basic, anonymous, strict=True)]


def prc_ratios(result: dict[str, Any], count: str, verb: str) -> list[float]:
    """Gateway ÷ python-irodsclient ops/s, slice by slice (each pair ran back to back)."""
    gateway, prc = result["passes"]["gw-irods"][count], result["passes"]["prc"][count]
    return [g / p for g, p in zip(ops(gateway, verb), ops(prc, verb), strict=True)]


def prc_report(result: dict[str, Any]) -> str:
    rows = []
    for count in result["passes"]["prc"]:
        row = [count]
        for verb in VERBS:
            ratio = prc_ratios(result, count, verb)
            row.append(fmt3(ratio, 2) + (" ✓" if statistics.median(ratio) >= 0.8 else " ✗"))
        rows.append(row)
    header = ["clients"] + [f"{verb}: gateway ÷ PRC (target ≥ 0.8)" for verb in VERBS]
    return md_table(header, rows)


def stat_report(result: dict[str, Any]) -> str:
    """PROPFIND Depth 0 on /swift ÷ rclone serve webdav's, slice by slice (the systems take
    turns slice by slice), one process and two workers."""
    rows = []
    for key in ("gw-swift", "gw-swift-w2"):
        for count, runs in result["passes"].get(key, {}).items():
            theirs = ops(result["passes"]["rclone"][count], "PROPFIND")
            ratio = [g / r for g, r in zip(ops(runs, "PROPFIND"), theirs, strict=True)]
            mark = " ✓" if statistics.median(ratio) >= 0.5 else " ✗"
            rows.append([SYSTEMS[key], count, fmt3(ratio, 2) + mark])
    header = ["gateway", "clients", "PROPFIND Depth 0 ÷ rclone serve webdav (target ≥ 0.5)"]
    return md_table(header, rows)


def report(result: dict[str, Any]) -> str:
    rows = []
    for key, per_count in result["passes"].items():
        for count, runs in per_count.items():
            row = [SYSTEMS[key], count]
            for verb in VERBS:
                row += [
                    fmt3(ops(runs, verb)),
                    f"{latency(runs, verb, 'p50'):.1f}",
                    f"{latency(runs, verb, 'p99'):.1f}",
                ]
            rows.append(row)
    header = ["system", "clients"]
    for verb in VERBS:
        header += [f"{verb} ops/s", f"{verb} p50 ms", f"{verb} p99 ms"]
    out = [md_table(header, rows)]
    if {"gw-irods", "prc"} <= set(result["passes"]):
        out.append(prc_report(result))
    if "rclone" in result["passes"] and {"gw-swift", "gw-swift-w2"} & set(result["passes"]):
        out.append(stat_report(result))
    if not result["anonymous"]:
        return "\n\n".join(out) + "\n"
    anon = result["anonymous"]
    rows = []
    for count in result["clients"]:
        basic, anonymous = anon[f"basic x{count}"], anon[f"anonymous x{count}"]
        for verb in ("GET", "PROPFIND"):
            ratio = anonymous_ratios(result, count, verb)
            mark = " ✓" if statistics.median(ratio) >= 0.5 else " ✗"
            rows.append(
                [
                    verb,
                    str(count),
                    fmt3(ops(basic, verb)),
                    f"{latency(basic, verb, 'p50'):.1f}",
                    fmt3(ops(anonymous, verb)),
                    f"{latency(anonymous, verb, 'p50'):.1f}",
                    fmt3(ratio, 2) + mark,
                ]
            )
    out.append(
        md_table(
            [
                "request",
                "clients",
                "Basic ops/s",
                "Basic p50 ms",
                "anonymous ops/s",
                "anonymous p50 ms",
                "Basic ÷ anonymous (target ≥ 0.5)",
            ],
            rows,
        )
    )
    return "\n\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1, help="passes (each of 5 slices)")
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-anonymous", action="store_true", help="skip Basic vs anonymous")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    systems = args.systems.split(",")
    return run_alone(
        args.json,
        lambda env: measure(env, args.files, args.runs, clients, systems, not args.no_anonymous),
        report,
        schemes=("http",),
    )


if __name__ == "__main__":
    sys.exit(main())
