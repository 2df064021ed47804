"""Shared helpers of the benchmarks (not a test): servers on loopback, clients, RSS, tables.

Everything runs on 127.0.0.1: the local iRODS zone (``localgrid.irods.LocalZone``), a real
Swift (``localgrid.swift.LocalSwift``), ``davprovider serve`` (through
``bench/serve_counting.py``, which counts the iRODS API requests it sends), ``rclone serve
webdav`` over that Swift, and stock WsgiDAV (its own CLI) over a local folder. Each server
is a child process, stopped by PID. Data lives on tmpfs (``/dev/shm``) when it takes user
xattrs (Swift needs them), so that disk writeback does not decide the figures.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as ``python bench/x.py``: the repo root is not on the path
    sys.path.insert(0, str(REPO))

from localgrid.irods import LocalZone  # noqa: E402
from localgrid.pki import DemoPKI, create_demo_pki  # noqa: E402
from localgrid.swift import LocalSwift, ensure_swift_venv  # noqa: E402
from tests.helpers.irods_gateway import seed  # noqa: E402  (alice, bob, shared)

MiB = 1 << 20
ZONE_HOME = "/tempZone/home"
ALICE = ("alice", "alice")  # iRODS user alice/alice; Swift tempauth alice:alice/alice
BOB = ("bob", "bob")  # iRODS user bob/bob
SERVING = re.compile(r"serving \S+ \(\w+\) on (https?)://[\d.]+:(\d+)/")


# --- numbers -----------------------------------------------------------------------------


def summary(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def fmt3(values: Sequence[float] | None, digits: int = 0, scale: float = 1.0) -> str:
    """``median (min–max)``."""
    if not values:
        return "n/a"
    med, lo, hi = summary([v * scale for v in values])
    return f"{med:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the machine -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = Path("/proc/meminfo").read_text().split()[1]
    rclone = subprocess.run(["rclone", "version"], capture_output=True, text=True).stdout
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    return {
        "cpu": cpu,
        "cpus": str(len(os.sched_getaffinity(0))),
        "memory": f"{int(mem) / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wsgidav": version("wsgidav"),
        "cheroot": version("cheroot"),
        "python-irodsclient": version("python-irodsclient"),
        "python-swiftclient": version("python-swiftclient"),
        "swift": (REPO / ".swiftvenv" / ".davprovider-swift").read_text().split()[0],
        "rclone": rclone.split()[1] if rclone else "missing",
        "curl": curl.split()[1] if curl else "missing",
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def machine_line() -> str:
    """``machine()`` on one line, for a report's head."""
    return ", ".join(f"{key} {value}" for key, value in machine().items())


# --- files and ports ---------------------------------------------------------------------


def workspace(prefix: str = "davbench-") -> Path:
    """A fresh folder on tmpfs when it takes user xattrs (Swift's), else in $TMPDIR."""
    shm = Path("/dev/shm")
    if shm.is_dir():
        probe = Path(tempfile.mkdtemp(prefix=prefix, dir=shm))
        try:
            os.setxattr(probe, "user.davbench", b"x" * 2048)
            return probe
        except OSError:
            shutil.rmtree(probe, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=prefix))


@contextmanager
def scratch(prefix: str = "davbench-") -> Iterator[Path]:
    """A run's ``workspace``, removed at the end; SIGTERM ends the run cleanly meanwhile."""
    stop_on_sigterm()
    root = workspace(prefix)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes (1 MiB pattern blocks, each different); its md5."""
    digest = hashlib.md5()
    seed_block = os.urandom(MiB)
    with path.open("wb") as out:
        for index in range(size // MiB):
            block = index.to_bytes(8, "big") + seed_block[8:]
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as src:
        while block := src.read(8 * MiB):
            digest.update(block)
    return digest.hexdigest()


# --- memory ------------------------------------------------------------------------------


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(rest.split()[0]) * 1024
    return found


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (``clear_refs`` 5); False where the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- servers -----------------------------------------------------------------------------


@dataclass
class Server:
    """A child process serving HTTP(S) on 127.0.0.1:port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    scheme: str
    log_path: Path
    counts_path: Path | None = None
    cafile: Path | None = None
    rc_port: int | None = None  # rclone's remote control (``vfs/forget``)

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def memory(self) -> dict[str, int]:
        return memory(self.pid)

    def reset_peak(self) -> bool:
        return reset_peak(self.pid)

    def irods_calls(self) -> Counter[int]:
        """iRODS API requests sent so far, by API number (gateways only)."""
        assert self.counts_path is not None
        self.counts_path.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not self.counts_path.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} wrote no counts")
            time.sleep(0.005)
        return Counter({int(k): v for k, v in json.loads(self.counts_path.read_text()).items()})

    def client(self, auth: tuple[str, str] | None = None, timeout: float = 300) -> Client:
        return Client(self.scheme, self.port, auth, self.cafile, timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _die_with_parent() -> None:  # preexec_fn: SIGTERM when the benchmark dies
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _spawn(argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> Any:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=log_path.parent,
            preexec_fn=_die_with_parent,
        )


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks stop every server."""

    def leave(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


def wait_answering(server: Server, timeout: float = 60.0) -> Server:
    """Wait until ``server`` answers an HTTP OPTIONS; stop it and raise if it dies."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{server.name} exited {server.process.returncode}:\n{tail}")
        try:
            with server.client() as client:
                client.request("OPTIONS", "/")
            return server
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"{server.name} does not answer on {server.port}") from None
            time.sleep(0.1)


def start_zone(root: Path) -> LocalZone:
    """The local zone, seeded (alice/alice, bob/bob) plus a user ``anonymous``."""
    zone = LocalZone(root / "zone")
    zone.start()
    seed(zone)
    with zone.session() as rods:
        rods.users.create("anonymous", "rodsuser")
    return zone


def start_swift(root: Path) -> LocalSwift:
    """Swift at log level INFO: the proxy logs one line per client request."""
    swift = LocalSwift(root / "swift", swift_bin=ensure_swift_venv(), log_level="INFO")
    swift.start()
    return swift


@contextmanager
def zone_and_swift(root: Path) -> Iterator[tuple[LocalZone, LocalSwift]]:
    """The local zone and Swift under ``root``, stopped at the end."""
    zone = start_zone(root)
    try:
        swift = start_swift(root)
        try:
            yield zone, swift
        finally:
            swift.stop()
    finally:
        zone.stop()


def make_pki(root: Path) -> DemoPKI:
    """A CA and a server certificate for 127.0.0.1 (localgrid.pki's demo PKI)."""
    return create_demo_pki(root / "pki")


def gateway_settings(
    zone: LocalZone, swift: LocalSwift, pki: DemoPKI | None, block_size: int = 256 * 1024
) -> dict[str, Any]:
    """Shares ``/irods`` (zone home), ``/pub`` (the same, anonymous read access as the
    zone's ``anonymous``) and ``/swift`` (the caller's account); the example configs'
    server and logging settings (40 threads, level info, access log)."""
    irods = {"host": "127.0.0.1", "port": zone.port, "zone": "tempZone", "root": "home"}
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 40, "timeout": 60},
        "logging": {"level": "info", "access_log": True},
        "auth": {"chain": ["basic"]},
        "block_size": block_size,
        "shares": [
            {"path": "/irods", "backend": "irods", "options": irods},
            {
                "path": "/pub",
                "backend": "irods",
                "options": irods,
                "anonymous": {"user": "anonymous"},
            },
            {
                "path": "/swift",
                "backend": "swift",
                "options": {"auth_url": swift.auth_url, "user_template": "{user}:{user}"},
            },
        ],
    }
    if pki is not None:
        config["tls"] = {"certificate": str(pki.server_cert), "key": str(pki.server_key)}
    return config


def start_gateway(
    root: Path, name: str, config: dict[str, Any], pki: DemoPKI | None = None, workers: int = 1
) -> Server:
    """``davprovider serve`` (counting iRODS requests) with MALLOC_ARENA_MAX=2, as the
    systemd unit in config/ runs it (``--workers`` when ``workers`` > 1); the port is
    read from its log."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log_path, counts = folder / "gateway.log", folder / "counts.json"
    argv = [
        sys.executable,
        str(REPO / "bench" / "serve_counting.py"),
        "serve",
        "--config",
        str(config_path),
        *(["--workers", str(workers)] if workers > 1 else []),
    ]
    env = {"MALLOC_ARENA_MAX": "2", "BENCH_COUNTS": str(counts), "PYTHONPATH": str(REPO)}
    process = _spawn(argv, log_path, env)
    deadline = time.monotonic() + 60
    while not (match := SERVING.search(log_path.read_text(errors="replace"))):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    server = Server(name, process, int(match.group(2)), match.group(1), log_path, counts)
    server.cafile = pki.ca if pki is not None else None
    return wait_answering(server)


def start_rclone(
    root: Path, name: str, swift: LocalSwift, pki: DemoPKI | None = None, *extra: str
) -> Server:
    """``rclone serve webdav`` over the Swift account of alice:alice (tempauth)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    port, rc_port = free_port(), free_port()
    argv = [
        "rclone",
        "serve",
        "webdav",
        ":swift:",
        "--swift-auth",
        swift.auth_url,
        "--rc",
        "--rc-addr",
        f"127.0.0.1:{rc_port}",
        "--rc-no-auth",
        "--swift-user",
        "alice:alice",
        "--swift-key",
        "alice",
        "--addr",
        f"127.0.0.1:{port}",
        "--config",
        str(folder / "rclone.conf"),
        *extra,
    ]
    if pki is not None:
        argv += ["--cert", str(pki.server_cert), "--key", str(pki.server_key)]
    process = _spawn(argv, folder / "rclone.log")
    scheme = "https" if pki else "http"
    server = Server(name, process, port, scheme, folder / "rclone.log")
    server.cafile = pki.ca if pki is not None else None
    server.rc_port = rc_port
    return wait_answering(server)


def rclone_forget(server: Server) -> None:
    """Empty rclone's directory cache (``rclone rc vfs/forget``), so that the next
    listing asks Swift again."""
    conn = http.client.HTTPConnection("127.0.0.1", server.rc_port or 0, timeout=30)
    try:
        conn.request("POST", "/vfs/forget", b"{}", {"Content-Type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"rclone rc vfs/forget answered {reply.status}")
    finally:
        conn.close()


def start_stock(
    root: Path, name: str, share: Path, pki: DemoPKI | None = None, block_size: int = 256 * 1024
) -> Server:
    """Stock WsgiDAV (its ``wsgidav`` CLI, cheroot, builtin SSL adapter) serving ``share``
    with anonymous access; ``block_size`` as the gateway's."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "block_size": block_size,
        "provider_mapping": {"/": str(share)},
        "http_authenticator": {"domain_controller": None},
        "simple_dc": {"user_mapping": {"*": True}},
        "verbose": 1,
        "logging": {"enable_loggers": []},
    }
    if pki is not None:
        config |= {
            "ssl_certificate": str(pki.server_cert),
            "ssl_private_key": str(pki.server_key),
            "ssl_adapter": "builtin",
        }
    config_path = folder / "wsgidav.yaml"
    config_path.write_text(yaml.safe_dump(config))
    wsgidav = Path(sys.executable).parent / "wsgidav"
    process = _spawn([str(wsgidav), "-c", str(config_path)], folder / "wsgidav.log")
    server = Server(name, process, port, "https" if pki else "http", folder / "wsgidav.log")
    server.cafile = pki.ca if pki is not None else None
    return wait_answering(server)


# --- counting Swift requests -------------------------------------------------------------


def swift_requests(swift: LocalSwift) -> int:
    """Client requests the Swift proxy logged so far (its log lines from 127.0.0.1; the
    proxy's own subrequests log ``- -`` as client). Waits until the count settles."""
    log = swift.root / "log" / "proxy.log"
    last = -1
    while True:
        with log.open("rb") as fh:
            count = sum(1 for line in fh if line.startswith(b"proxy-server: 127.0.0.1 "))
        if count == last:
            return count
        last = count
        time.sleep(0.05)


# --- HTTP clients ------------------------------------------------------------------------


def basic_header(user: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)


class Client:
    """One keep-alive connection (http.client), reconnecting when the server closes."""

    def __init__(
        self,
        scheme: str,
        port: int,
        auth: tuple[str, str] | None,
        cafile: Path | None,
        timeout: float = 300,
    ) -> None:
        self.scheme, self.port, self.timeout = scheme, port, timeout
        self.headers = {"Authorization": basic_header(auth)} if auth else {}
        self.context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            if self.scheme == "https":
                self.conn = http.client.HTTPSConnection(
                    "127.0.0.1", self.port, timeout=self.timeout, context=self.context
                )
            else:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {**self.headers, **(headers or {})}
        for attempt in (0, 1):
            conn = self._connect()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=sent)
                reply = conn.getresponse()
                data = reply.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self.close()
                if attempt:
                    raise
                continue
            seconds = time.perf_counter() - started
            if reply.will_close:
                self.close()
            return Reply(reply.status, data, seconds, {k.lower(): v for k, v in reply.getheaders()})
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_clients(make_client: Callable[[], Client], count: int) -> list[Client]:
    """``count`` keep-alive connections, opened one after the other (an OPTIONS each), so
    that a burst of connects does not overflow the server's listen backlog."""
    clients = [make_client() for _ in range(count)]
    for client in clients:
        client.request("OPTIONS", "/")
    return clients


def run_clients(
    clients: Sequence[Client], jobs: Sequence[Any], work: Callable[[Client, Any], float]
) -> tuple[float, list[float]]:
    """Run ``work(client, job)`` for every job on one thread per client (each thread keeps
    its connection); returns (wall seconds, per-job latencies)."""
    queue = list(reversed(jobs))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[BaseException] = []

    def worker(client: Client) -> None:
        while True:
            with lock:
                if not queue or errors:
                    return
                job = queue.pop()
            try:
                took = work(client, job)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                with lock:
                    errors.append(exc)
                return
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return wall, latencies


# --- curl --------------------------------------------------------------------------------


def curl(server: Server, args: list[str], auth: tuple[str, str] | None) -> float:
    """Run curl against ``server``; the seconds curl reports for the transfer."""
    argv = ["curl", "-fsS", "-w", "\\n%{time_total}"]
    if auth:
        argv += ["-u", f"{auth[0]}:{auth[1]}"]
    if server.cafile:
        argv += ["--cacert", str(server.cafile)]
    out = subprocess.run([*argv, *args], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def curl_put(server: Server, path: str, source: Path, auth: tuple[str, str] | None) -> float:
    return curl(server, ["-o", "/dev/null", "-T", str(source), server.url(path)], auth)


def curl_get(server: Server, path: str, target: Path, auth: tuple[str, str] | None) -> float:
    return curl(server, ["-o", str(target), server.url(path)], auth)


# --- sampling RSS while something runs ---------------------------------------------------


class PeakSampler:
    """Samples a process's VmRSS every ``interval`` seconds in a thread (a fallback and a
    cross-check for VmHWM, which ``reset_peak`` may not be allowed to reset)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, memory(self.pid)["VmRSS"])
            except OSError:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self.peak = memory(self.pid)["VmRSS"]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the whole set-up --------------------------------------------------------------------


def make_irods_objects(
    zone: LocalZone,
    coll: str,
    names: Sequence[str],
    user: tuple[str, str] = ALICE,
    workers: int = 4,
) -> float:
    """Create empty objects ``coll/name`` with several PRC sessions in threads; seconds."""
    local = threading.local()
    sessions: list[Any] = []
    lock = threading.Lock()

    def create(name: str) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = zone.session(*user)
            with lock:
                sessions.append(session)
        session.data_objects.create(f"{coll}/{name}")

    started = time.perf_counter()
    with zone.session(*user) as session:
        session.collections.create(coll)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(create, name) for name in names]:
                future.result()
    finally:
        for session in sessions:
            session.cleanup()
    return time.perf_counter() - started


@dataclass
class Environment:
    """Zone, Swift, a demo PKI, and every front end over plain HTTP and over HTTPS:
    ``gateway[scheme]``, ``rclone[scheme]``, ``stock[scheme]`` (stock serves ``folder``)."""

    root: Path
    zone: LocalZone
    swift: LocalSwift
    pki: DemoPKI
    folder: Path
    gateway: dict[str, Server] = field(default_factory=dict)
    rclone: dict[str, Server] = field(default_factory=dict)
    stock: dict[str, Server] = field(default_factory=dict)
    extra: dict[str, Server] = field(default_factory=dict)

    def servers(self) -> list[Server]:
        return [
            *self.gateway.values(),
            *self.rclone.values(),
            *self.stock.values(),
            *self.extra.values(),
        ]

    def workers_gateway(self) -> Server:
        """A second gateway (HTTP) as ``serve --workers 2`` runs it: two processes on one
        port. Its locks are off (``lock_storage: none``; a fleet keeps them in Redis), which
        no request of the benchmarks takes."""
        if "gw-2-workers" not in self.extra:
            config = gateway_settings(self.zone, self.swift, None)
            config["lock_storage"] = "none"
            self.extra["gw-2-workers"] = start_gateway(self.root, "gw-2-workers", config, workers=2)
        return self.extra["gw-2-workers"]

    def swift_conn(self) -> Any:
        from swiftclient.client import Connection

        return Connection(self.swift.auth_url, "alice:alice", "alice", retries=0)

    def close(self) -> None:
        for server in self.servers():
            server.stop()
        self.swift.stop()
        self.zone.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_environment(
    root: Path | None = None, schemes: Sequence[str] = ("http", "https")
) -> Environment:
    """Start everything; ``close()`` stops it by PID and removes the folder."""
    root = root or workspace()
    zone = start_zone(root)
    env: Environment | None = None
    try:
        swift = start_swift(root)
        env = Environment(root, zone, swift, make_pki(root), root / "stock-share")
        env.folder.mkdir()
        for scheme in schemes:
            pki = env.pki if scheme == "https" else None
            config = gateway_settings(zone, swift, pki)
            env.gateway[scheme] = start_gateway(root, f"gateway-{scheme}", config, pki)
            env.rclone[scheme] = start_rclone(root, f"rclone-{scheme}", swift, pki)
            env.stock[scheme] = start_stock(root, f"stock-{scheme}", env.folder, pki)
    except BaseException:
        if env is not None:
            env.close()
        else:
            zone.stop()
        raise
    return env


#: PROPFIND of the four properties every listing client asks for.
PROPFIND_NAMED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/>
</D:prop></D:propfind>"""


def run_alone(
    json_path: Path | None,
    measure: Callable[[Environment], dict[str, Any]],
    report: Callable[[dict[str, Any]], str],
    schemes: Sequence[str] = ("http", "https"),
) -> int:
    """A bench script run on its own: start everything, measure, stop, print the report
    (and write the figures to ``json_path``)."""
    env = start_environment(schemes=schemes)
    try:
        result = measure(env)
    finally:
        env.close()
    print(report(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=1))
    return 0
