"""A real single-replica OpenStack Swift on 127.0.0.1, from PyPI, stopped by PID.

Swift's servers monkeypatch with eventlet, so they run from their own venv
(``.swiftvenv`` at the repository root, made by ``ensure_swift_venv()``) and this
module never imports Swift. Four servers (proxy, account, container, object) run
with ``workers = 0`` (one process each), tempauth with fernet keys, and the bulk,
tempurl, slo and dlo middleware. Like a production cluster, the proxy caches account
and container info in memcached (Debian's ``memcached``, started on its own port when
installed; ``memcached=False`` turns it off): without it every object request costs the
proxy two extra internal HEADs. Ports: proxy = base, object = base+1, container =
base+2, account = base+3, memcached = base+4. Data, configs, logs and PID files live
under one folder and survive restarts::

    python -m localgrid.swift install                  # create/refresh .swiftvenv
    python -m localgrid.swift start var/swift --port 8090
    python -m localgrid.swift status var/swift
    python -m localgrid.swift stop var/swift

    with LocalSwift(tmp_path) as swift:                # a free base port
        conn = swiftclient.Connection(swift.auth_url, "test:tester", "testing")

Object metadata lives in one extended attribute of each object file (a pickle: about
60 bytes per item beyond its name and value, plus the system metadata). A production
cluster (XFS) holds what Swift's default constraints allow (90 items, 4,096 bytes:
about 10 KiB pickled); ext4 holds about 4 KiB in one attribute, and an object server
there answers 507 for modest metadata, after which the proxy sidelines it for a
minute. ``start()`` therefore measures what the data folder's filesystem holds
(``metadata_capacity``) and, below production size, declares lower
``[swift-constraints]`` in ``swift.conf`` (``constraints_for``): the proxy refuses
(400) what the object server could not store, and ``/info`` tells clients such as
the gateway the bound. tmpfs (kernel 6.6+) and XFS keep Swift's defaults.

Users (tempauth ``account:user`` / key): ``test:tester``/``testing``,
``test2:tester2``/``testing2``, ``alice:alice``/``alice``, ``bob:bob``/``bob``
(each admin of its own account) and ``admin:admin``/``admin`` (reseller admin).
"""

from __future__ import annotations

import argparse
import base64
import configparser
import ctypes
import fcntl
import hashlib
import http.client
import json
import os
import pwd
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

SWIFT_VERSION = "2.38.3"
SWIFTCLIENT_VERSION = "4.11.0"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO / ".swiftvenv"
PART_POWER = 8  # of all three rings
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SERVERS = ("account", "container", "object", "proxy")
#: Pickled metadata Swift's default constraints allow (90 items, 4,096 bytes), rounded up.
PRODUCTION_METADATA = 12 * 1024
SYSTEM_METADATA = 1100  # name, timestamp, type, ETag, length, an SLO's sysmeta (pickled)
ITEM_OVERHEAD = 60  # pickled bytes per user item beyond its counted name and value
LOW_META_COUNT = 16
OFFSET = {"proxy": 0, "object": 1, "container": 2, "account": 3, "memcached": 4}
#: tempauth users: "account:user" -> (key, roles)
USERS: dict[str, tuple[str, str]] = {
    "test:tester": ("testing", ".admin"),
    "test2:tester2": ("testing2", ".admin"),
    "alice:alice": ("alice", ".admin"),
    "bob:bob": ("bob", ".admin"),
    "admin:admin": ("admin", ".admin .reseller_admin"),
}

_RING_PY = r"""
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for name, port in zip(("object", "container", "account"), sys.argv[2:5]):
    b = RingBuilder(int(sys.argv[5]), 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1",
               "port": int(port), "device": "d1", "weight": 1.0})
    b.rebalance()
    b.save(f"{etc}/{name}.builder")
    b.get_ring().save(f"{etc}/{name}.ring.gz")
"""

# Swift reads [swift-constraints] from /etc/swift/swift.conf when its constraints module
# is imported, before any server config names swift_dir: each server is started through
# this launcher, which points Swift at our swift.conf and reloads them first.
_SERVE_PY = r"""
import importlib, sys
from swift.common import constraints, utils
utils.set_swift_dir(sys.argv[1])
constraints.reload_constraints()
module = importlib.import_module("swift.%s.server" % sys.argv[2])
sys.argv = ["swift-%s-server" % sys.argv[3]] + sys.argv[4:]
sys.exit(module.main())
"""
MODULES = {"proxy": "proxy", "object": "obj", "container": "container", "account": "account"}

_STORAGE_CONF = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
user = {user}
swift_dir = {etc}
devices = {root}/srv
mount_check = false
disable_fallocate = true
recon_cache_path = {root}/cache
log_name = {name}-server
log_level = {log_level}

[pipeline:main]
pipeline = healthcheck {name}-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:{name}-server]
use = egg:swift#{name}
"""

_PROXY_CONF = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
user = {user}
swift_dir = {etc}
log_name = proxy-server
log_level = {log_level}

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging {cache}listing_formats bulk \
tempurl tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
{users}
# stateless (encrypted) tokens: no memcached needed, and they survive restarts
fernet_key_1 = {fernet_key}
active_fernet_key_id = 1

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha256 sha512
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
min_segment_size = 1
[filter:dlo]
use = egg:swift#dlo
"""

_CACHE_CONF = """
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{port}
"""


def metadata_capacity(folder: Path, most: int = PRODUCTION_METADATA) -> int:
    """Bytes of pickled object metadata (one ``user.swift.metadata`` attribute and its
    checksum, as Swift's object server writes them) a file in ``folder`` can hold, up
    to ``most``; 0 without user xattrs."""
    probe = folder / f".xattr-probe-{os.getpid()}"
    probe.touch()
    try:
        low, high = 0, most
        while low < high:
            size = (low + high + 1) // 2
            try:
                os.setxattr(probe, "user.swift.metadata", b"x" * size)
                os.setxattr(probe, "user.swift.metadata_checksum", b"0" * 32)
                low = size
            except OSError:
                high = size - 1
            for name in ("user.swift.metadata", "user.swift.metadata_checksum"):
                try:
                    os.removexattr(probe, name)
                except OSError:
                    pass
        return low
    finally:
        probe.unlink(missing_ok=True)


def constraints_for(capacity: int) -> dict[str, int]:
    """``[swift-constraints]`` under which every object's metadata fits in ``capacity``
    pickled bytes (none: Swift's defaults fit)."""
    if capacity >= PRODUCTION_METADATA:
        return {}
    overall = capacity - SYSTEM_METADATA - ITEM_OVERHEAD * LOW_META_COUNT
    overall = max(256, overall // 64 * 64)
    return {
        "max_meta_count": LOW_META_COUNT, "max_meta_overall_size": overall,
        "max_meta_value_length": min(256, overall),
    }  # fmt: skip


class SwiftUnavailable(RuntimeError):
    """Swift cannot be installed or started here (no network, no venv module...)."""


def ensure_swift_venv(venv: Path = DEFAULT_VENV, *, quiet: bool = True) -> Path:
    """Create or update the Swift venv; return its bin folder. Idempotent and
    safe to call from several processes at once (a lock file serialises them)."""
    venv = Path(venv).resolve()
    bin_dir = venv / "bin"
    stamp = venv / ".davprovider-swift"
    want = f"swift=={SWIFT_VERSION} python-swiftclient=={SWIFTCLIENT_VERSION}\n"
    venv.mkdir(parents=True, exist_ok=True)
    with open(venv / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = (bin_dir / "swift-proxy-server").exists() and stamp.exists()
        if ready and stamp.read_text() == want:
            return bin_dir
        quiet_flag = ["-q"] if quiet else []
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(bin_dir / "python"), "-m", "pip", "install", *quiet_flag, *want.split()],
        ]
        for step in steps:
            run = subprocess.run(step, capture_output=True, text=True)
            if run.returncode != 0:
                raise SwiftUnavailable(f"{' '.join(step)} failed:\n{run.stderr[-3000:]}")
        stamp.write_text(want)
    return bin_dir


def free_base_port(count: int = 5, low: int = 20000, high: int = 30000) -> int:
    """A base port with ``count`` consecutive free ports on 127.0.0.1, below the
    ephemeral range so that outgoing connections do not take them meanwhile."""
    for _ in range(200):
        base = random.randrange(low, high - count)
        if not _busy(range(base, base + count)):
            return base
    raise OSError("no free range of ports found on 127.0.0.1")


def _busy(ports: range | list[int]) -> list[int]:
    busy = []
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Swift binds
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    return busy


def _memcached_binary(wanted: bool | None) -> str | None:
    """memcached's path when it is to be used: ``None`` means when installed."""
    if wanted is False:
        return None
    found = shutil.which("memcached")
    if wanted and not found:
        raise SwiftUnavailable("memcached is not installed (Debian package memcached)")
    return found


def _die_with_parent() -> None:  # preexec_fn: own session, SIGTERM when we die
    os.setsid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class LocalSwift:
    """Swift's four servers under ``root``; ``start()``/``stop()`` or a ``with`` block.

    ``base_port=None`` picks free ports (and keeps them for restarts);
    ``die_with_parent`` (default) makes the servers exit when this process dies,
    ``False`` leaves them running for ``python -m localgrid.swift stop``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        base_port: int | None = None,
        *,
        swift_bin: str | os.PathLike[str] | None = None,
        users: Mapping[str, tuple[str, str]] = USERS,
        log_level: str = "INFO",
        die_with_parent: bool = True,
        memcached: bool | None = None,
    ) -> None:
        self.root = Path(root).resolve()  # the servers chdir("/"): paths must be absolute
        self.base_port = base_port
        self.swift_bin = Path(swift_bin or os.environ.get("SWIFT_BIN") or DEFAULT_VENV / "bin")
        self.users = dict(users)
        self.log_level = log_level
        self.die_with_parent = die_with_parent
        #: memcached's binary: ``None`` (the default) uses it when installed
        self.memcached = _memcached_binary(memcached)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.startup_seconds = 0.0
        self.metadata_capacity = 0  # pickled metadata bytes an object file holds (start)

    # --- addresses ------------------------------------------------------------------

    def port(self, name: str) -> int:
        if self.base_port is None:
            raise RuntimeError("not started yet")
        return self.base_port + OFFSET[name]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port('proxy')}"

    @property
    def auth_url(self) -> str:
        return self.url + "/auth/v1.0"

    # --- start and stop ---------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> LocalSwift:
        """Write the configs, build the rings if needed, start and wait for health."""
        if self.procs:
            raise RuntimeError("already started")
        if not (self.swift_bin / "swift-proxy-server").exists():
            raise SwiftUnavailable(f"no swift-proxy-server in {self.swift_bin}")
        began = time.monotonic()
        self.stop_stale()
        if self.base_port is None:
            self.base_port = self._remembered_port() or free_base_port()
        ports, deadline = [self.port(name) for name in self.servers], time.monotonic() + 2
        while busy := _busy(ports):  # a server just stopped frees its port within ~0.1 s
            if time.monotonic() > deadline:  # fail fast: Swift itself retries for 30 s
                raise OSError(f"ports already in use on 127.0.0.1: {busy}")
            time.sleep(0.05)
        self._write_configs()
        etc, python = self.root / "etc", str(self.swift_bin / "python")
        if self.memcached:
            self._start_memcached(self.memcached)
        for name in SERVERS:
            conf = etc / f"{name}-server.conf"
            self._spawn(
                name, [python, "-c", _SERVE_PY, str(etc), MODULES[name], name, str(conf), "-v"]
            )
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    @property
    def servers(self) -> tuple[str, ...]:
        """The processes this store runs: Swift's four, and memcached when used."""
        return (*SERVERS, "memcached") if self.memcached else SERVERS

    def _start_memcached(self, binary: str) -> None:
        """memcached on its port, 64 MiB, UDP off; its PID file path names this folder
        (``_is_ours``). Ready once it accepts a connection."""
        port = self.port("memcached")
        argv = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64", "-c", "1024"]
        if os.getuid() == 0:
            argv += ["-u", "root"]  # memcached refuses to run as root without being told
        self._spawn("memcached", [*argv, "-P", str(self.root / "etc" / "memcached.pid")])
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                proc = self.procs["memcached"]
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "log" / "memcached.log").read_text(errors="replace")
                    raise SwiftUnavailable(f"memcached did not start:\n{log[-2000:]}") from None
                time.sleep(0.05)

    def _remembered_port(self) -> int | None:
        saved = self.root / "etc" / "base-port"
        return int(saved.read_text()) if saved.exists() else None

    def _write_configs(self) -> None:
        etc = self.root / "etc"
        for folder in (etc, self.root / "srv" / "d1", self.root / "log", self.root / "cache"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.root / "run").mkdir(exist_ok=True)
        (etc / "base-port").write_text(str(self.base_port))
        swift_conf = etc / "swift.conf"
        if not swift_conf.exists():  # the hash must never change for a data folder
            swift_conf.write_text(
                "[swift-hash]\n"
                f"swift_hash_path_prefix = saio-{os.urandom(8).hex()}\n"
                f"swift_hash_path_suffix = saio-{os.urandom(8).hex()}\n"
            )
        self._write_constraints(swift_conf)
        key_file = etc / "fernet.key"
        if not key_file.exists():
            key_file.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
        common = {
            "user": pwd.getpwuid(os.getuid()).pw_name, "etc": etc, "log_level": self.log_level,
        }  # fmt: skip
        for name in ("account", "container", "object"):
            text = _STORAGE_CONF.format(name=name, port=self.port(name), root=self.root, **common)
            (etc / f"{name}-server.conf").write_text(text)
        users = "\n".join(
            f"user_{who.replace(':', '_')} = {key} {roles}".rstrip()
            for who, (key, roles) in self.users.items()
        )
        proxy = _PROXY_CONF.format(
            port=self.port("proxy"), users=users, fernet_key=key_file.read_text().strip(),
            cache="cache " if self.memcached else "", **common,
        )  # fmt: skip
        if self.memcached:
            proxy += _CACHE_CONF.format(port=self.port("memcached"))
        (etc / "proxy-server.conf").write_text(proxy)
        self._build_rings(etc)

    def _build_rings(self, etc: Path) -> None:
        """The three one-device rings, rebuilt when the ports changed."""
        want = f"{self.port('object')} {self.port('container')} {self.port('account')}"
        stamp = etc / "ring-ports"
        if (
            not (etc / "object.ring.gz").exists()
            or (stamp.read_text() if stamp.exists() else "") != want
        ):
            python = str(self.swift_bin / "python")
            ring_args = [str(etc), *want.split(), str(PART_POWER)]
            subprocess.run([python, "-c", _RING_PY, *ring_args], check=True)
            stamp.write_text(want)

    def _write_constraints(self, swift_conf: Path) -> None:
        """Lower ``[swift-constraints]`` where the data folder's filesystem holds less
        metadata than a production cluster (see the module docstring)."""
        self.metadata_capacity = metadata_capacity(self.root / "srv" / "d1")
        parser = configparser.ConfigParser()
        parser.read(swift_conf)
        parser.remove_section("swift-constraints")
        wanted = constraints_for(self.metadata_capacity)
        if wanted:
            parser["swift-constraints"] = {k: str(v) for k, v in wanted.items()}
        with open(swift_conf, "w") as out:
            parser.write(out)

    def _spawn(self, name: str, argv: list[str]) -> None:
        with open(self.root / "log" / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd="/",
                close_fds=True, preexec_fn=_die_with_parent if self.die_with_parent else None,
                start_new_session=not self.die_with_parent,
            )  # fmt: skip
        self.procs[name] = proc
        (self.root / "run" / f"{name}.pid").write_text(str(proc.pid))

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Poll every server's ``/healthcheck``; raise with the log tail if one exits."""
        deadline = time.monotonic() + timeout
        for name in SERVERS:
            url = f"http://127.0.0.1:{self.port(name)}/healthcheck"
            while True:
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    log = (self.root / "log" / f"{name}.log").read_text(errors="replace")
                    raise SwiftUnavailable(f"swift {name} exited {proc.returncode}:\n{log[-3000:]}")
                try:
                    with urllib.request.urlopen(url, timeout=1) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} not healthy after {timeout} s")
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM each server by PID (SIGKILL after ``timeout``); remove the PID files."""
        for name in ("proxy", "object", "container", "account", "memcached"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                (self.root / "run" / f"{name}.pid").unlink(missing_ok=True)
        self.stop_stale(timeout)

    def stop_stale(self, timeout: float = 10.0) -> None:
        """Stop servers left by an earlier run on this folder (found by PID file, and
        only if that PID still runs a Swift server of this folder)."""
        for pid in self.running().values():
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self._is_ours(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._is_ours(pid):
                os.kill(pid, signal.SIGKILL)
        for pid_file in (self.root / "run").glob("*.pid"):
            pid_file.unlink(missing_ok=True)

    def _is_ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z" and str(self.root / "etc").encode() in cmdline

    def running(self) -> dict[str, int]:
        """Server name -> PID, for the servers of this folder that are running."""
        found = {}
        for pid_file in (self.root / "run").glob("*.pid"):
            pid = int(pid_file.read_text().strip() or 0)
            if pid and self._is_ours(pid):
                found[pid_file.stem] = pid
        return found

    def add_listing_rows(
        self, account: str, container: str, names: Iterable[str], size: int = 0
    ) -> None:
        """Add rows to a container's listing through the container server's UPDATE
        verb (as Swift's proxy does), with no object data behind them: a test
        helper for very long listings (20,000 rows in about a second, where
        20,000 object PUTs take minutes on two cores). GETs of them are 404s."""
        parser = configparser.ConfigParser()
        parser.read(self.root / "etc" / "swift.conf")
        prefix, suffix = (
            parser["swift-hash"][f"swift_hash_path_{k}"] for k in ("prefix", "suffix")
        )
        digest = hashlib.md5(f"{prefix}/{account}/{container}{suffix}".encode()).digest()
        part = struct.unpack_from(">I", digest)[0] >> (32 - PART_POWER)
        path = f"/d1/{part}/{quote(account)}/{quote(container)}"
        stamp = f"{time.time():016.05f}"
        rows = [
            {"name": name, "created_at": stamp, "size": size, "deleted": 0,
             "content_type": "application/octet-stream", "etag": EMPTY_MD5,
             "storage_policy_index": 0}
            for name in names
        ]  # fmt: skip
        for start in range(0, len(rows), 5000):
            body = json.dumps(rows[start : start + 5000]).encode()
            conn = http.client.HTTPConnection("127.0.0.1", self.port("container"), timeout=60)
            try:
                headers = {"X-Timestamp": stamp, "Content-Type": "application/json"}
                conn.request("UPDATE", path, body, headers)
                reply = conn.getresponse()
                reply.read()
                if reply.status != 202:
                    raise RuntimeError(f"container UPDATE answered {reply.status}")
            finally:
                conn.close()

    def __enter__(self) -> LocalSwift:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m localgrid.swift install | start DIR [--port N] | stop DIR | status DIR``."""
    parser = argparse.ArgumentParser(prog="python -m localgrid.swift")
    parser.add_argument("command", choices=("install", "start", "stop", "status"))
    parser.add_argument("root", nargs="?", default="var/swift", help="data folder")
    parser.add_argument("--port", type=int, help="base port (proxy); default: free or last")
    parser.add_argument("--venv", default=str(DEFAULT_VENV), help="Swift's own venv")
    args = parser.parse_args(argv)
    if args.command == "install":
        print(ensure_swift_venv(Path(args.venv), quiet=False))
        return 0
    swift = LocalSwift(args.root, args.port, swift_bin=Path(args.venv) / "bin")
    swift.die_with_parent = False
    if args.command == "start":
        ensure_swift_venv(Path(args.venv))
        if len(swift.running()) == len(swift.servers):
            print(f"localgrid.swift: already running in {swift.root}")
            return 0
        swift.start()
        print(f"localgrid.swift: serving on {swift.auth_url} ({swift.startup_seconds:.1f} s)")
    elif args.command == "stop":
        swift.stop_stale()
    else:
        running = swift.running()
        for name in swift.servers:
            print(f"{name}: " + (f"pid {running[name]}" if name in running else "stopped"))
        return 0 if len(running) == len(swift.servers) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
