"""Helpers of the real-client tests (imported as ``client_tools``): the share a test
drives, the test trees, and thin wrappers of rclone, davfs2 and cadaver.

Every tool runs with a configuration in a temporary folder (never ``~/.config``,
``~/.netrc`` or ``/etc/davfs2``): rclone with an empty ``--config`` file and an
on-the-fly remote, cadaver with a ``.netrc`` in a temporary ``HOME``, davfs2 with
``-o conf=`` and its own secrets file.
"""

from __future__ import annotations

import calendar
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from tests.helpers.davxml import hrefs
from tests.helpers.irods_gateway import GatewayProcess

MiB = 1 << 20
ALICE = ("alice", "alice")
#: name parts every tree uses: spaces, unicode, and the characters URLs escape
NAMES = (
    "plain",
    "with space",
    "ünïcødé 名前",
    "hash#tag",
    "per%cent",
    "a%20b literal",
    "what?",
    "this&that",
    "mix #%?& ü",
)
FOLDERS = ("", "a folder", "ünï 文件夹", "sub#1/deeper %", "q?&/x y", "sub#1")
#: the few large files of the 500-file tree (the rest is 0 bytes to 64 KiB)
LARGE = (20 * MiB, 8 * MiB, 3 * MiB, 1 * MiB)
SMALL = (0, 1, 10, 100, 1000, 4096, 20_000, 65_536)
EPOCH = 1_600_000_000  # the trees' modification times: whole seconds from here
#: the Swift share's ``segment_size``: larger uploads become Static Large Objects, whose
#: listing rows carry no MD5 (README "Swift shares"); the tree's 20 MiB file is one
SWIFT_SEGMENT = 8 * MiB


@dataclass
class Share:
    """A fresh folder of one share of the gateway, as alice: ``/irods/alice/<folder>``
    over the iRODS zone or ``/swift/<container>`` over Swift (no trailing slash)."""

    name: str
    gateway: GatewayProcess
    root: str

    def path(self, rel: str = "") -> str:
        """The URL path of ``rel`` (unescaped) below the folder, percent-encoded."""
        return quote(f"{self.root}/{rel}".rstrip("/") if rel else self.root)

    def url(self, rel: str = "") -> str:
        return self.gateway.url(self.path(rel))

    def request(self, method: str, rel: str, body: bytes | None = None, **headers: str) -> Any:
        return self.gateway.client.request(method, self.path(rel), body, headers)


def make_tree(root: Path, count: int = 500, large: tuple[int, ...] = LARGE) -> list[str]:
    """``count`` files under ``root`` (the first ones ``large``, the rest small), every
    name part of ``NAMES`` and ``FOLDERS`` used, mtimes whole seconds; relative paths."""
    rng = random.Random(count)
    made = []
    for index in range(count):
        folder = FOLDERS[index % len(FOLDERS)]
        rel = f"{folder}/{NAMES[index % len(NAMES)]} {index:03d}.bin".lstrip("/")
        size = large[index] if index < len(large) else SMALL[index % len(SMALL)]
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        set_mtime(path, EPOCH + index * 7919)
        made.append(rel)
    return made


def set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, (seconds, seconds))


def rewrite_same_size(path: Path, mtime: int | None) -> None:
    """Different bytes of the same length; then ``mtime``, or the old mtime again."""
    old = path.stat().st_mtime
    data = path.read_bytes()
    path.write_bytes(bytes((b + 1) % 256 for b in data[:65536]) + data[65536:][::-1])
    assert path.read_bytes() != data or not data
    set_mtime(path, int(old) if mtime is None else mtime)


def files_of(root: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime in whole seconds) of every file under ``root``."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, int(p.stat().st_mtime))
        for p in root.rglob("*")
        if p.is_file()
    }


def diff_r(left: Path, right: Path) -> subprocess.CompletedProcess[str]:
    """``diff -r`` of two folders (rc 0: equal)."""
    return subprocess.run(
        ["diff", "-r", str(left), str(right)], capture_output=True, text=True, timeout=120
    )


def run(args: list[str], timeout: float, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw
    )


# --- the gateway seen from outside -------------------------------------------------


def walk(share: Share, rel: str = "") -> dict[str, dict[str, str]]:
    """Every member below ``rel`` (Depth 1 PROPFIND per folder) with its lockdiscovery:
    decoded path -> props."""
    body = b'<propfind xmlns="DAV:"><prop><lockdiscovery/><resourcetype/></prop></propfind>'
    found: dict[str, dict[str, str]] = {}
    todo = [share.path(rel) + "/"]
    while todo:
        folder = todo.pop()
        reply = share.gateway.client.request("PROPFIND", folder, body, {"Depth": "1"})
        assert reply.status == 207, (folder, reply.status, reply.body[:500])
        for path, props in hrefs(reply.body).items():
            found[path] = props
            if path.endswith("/") and path != unquote(folder):
                todo.append(quote(path))
    return found


def active_locks(share: Share, rel: str = "") -> list[str]:
    """Paths below ``rel`` whose lockdiscovery shows an active lock."""
    return sorted(p for p, props in walk(share, rel).items() if "activelock" in str(props))


ACCESS = re.compile(r'davprovider\.access: \S+ \S+ "(\w+) (\S+)" (\d+)')


@dataclass
class AccessLog:
    """The gateway's access log from a point on: (method, decoded path, status)."""

    gateway: GatewayProcess
    start: int = 0

    def __post_init__(self) -> None:
        self.start = self.gateway.log_path.stat().st_size

    def requests(self) -> list[tuple[str, str, int]]:
        with open(self.gateway.log_path, "rb") as log:
            log.seek(self.start)
            text = log.read().decode("utf-8", "replace")
        return [(m, unquote(p), int(s)) for m, p, s in ACCESS.findall(text)]


# --- rclone --------------------------------------------------------------------------


TRANSFERRED = re.compile(r"^Transferred:\s+(\d+) / (\d+), ", re.M)
LSL = re.compile(r"^\s*(\d+) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d+ (.*)$")


@dataclass
class Rclone:
    """rclone with an empty config file in ``home`` and an on-the-fly owncloud remote."""

    binary: str
    home: Path
    share: Share
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "rclone.conf"
        config.touch()
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "RCLONE_CONFIG": str(config),
            "TZ": "UTC",  # lsl prints local times
        }
        obscured = self.run("obscure", ALICE[1]).stdout.strip()
        base = self.share.gateway.url(quote(self.share.root))
        self.remote = f":webdav,url='{base}',vendor=owncloud,user={ALICE[0]},pass={obscured}:"

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        cmd = [self.binary, *args]
        if args[0] != "obscure":
            # no retries that could hide a failed request; final stats only (with -v)
            cmd += ["--retries", "1", "--low-level-retries", "1", "--stats", "10m"]
            cmd += ["--cache-dir", str(self.home / "cache")]
        return run(cmd, timeout, env=self.env)

    def ok(self, *args: str, timeout: float = 300) -> str:
        """Run; assert success; stdout + stderr (``-v`` logs and stats go to stderr)."""
        result = self.run(*args, timeout=timeout)
        out = result.stdout + result.stderr
        assert result.returncode == 0, f"rclone {' '.join(args)}: rc {result.returncode}\n{out}"
        return out

    def listing(self, *args: str) -> str:
        """Run a listing command (lsl, md5sum...); assert success; its stdout only."""
        result = self.run(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def at(self, rel: str) -> str:
        return self.remote + rel


def transferred_files(output: str) -> int:
    """Files rclone transferred, from its final ``-v`` stats (0 when it shows none)."""
    counts = [int(done) for done, _ in TRANSFERRED.findall(output)]
    return counts[-1] if counts else 0


def parse_lsl(output: str) -> dict[str, tuple[int, int]]:
    """``rclone lsl`` -> relative path -> (size, mtime in whole seconds, UTC)."""
    listed = {}
    for line in output.splitlines():
        match = LSL.match(line)
        assert match, line
        size, stamp, rel = match.groups()
        listed[rel] = (int(size), calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")))
    return listed


# --- davfs2 --------------------------------------------------------------------------


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_davfs2_conf() -> list[str]:
    """The davfs2.conf lines of the README ("Clients" > davfs2), comments dropped."""
    section = README.read_text().split("### davfs2\n", 1)[1].split("\n### ", 1)[0]
    block = next(b for b in section.split("```")[1::2] if "use_locks" in b)
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert "use_locks 1" in [" ".join(line.split()) for line in lines], block
    return [line for line in lines if line]


@dataclass
class Davfs2:
    """davfs2 mounts of one URL, with the README's davfs2.conf lines plus a secrets file,
    a cache folder per mount and ``ask_auth 0``, in a folder the davfs2 user can read."""

    binary: str
    url: str
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="davfs2-clients-")))
    mounted: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder.chmod(0o755)  # mount.davfs drops root for the davfs2 user
        self.secrets = self.folder / "secrets"
        self.secrets.write_text(f"{self.url} {ALICE[0]} {ALICE[1]}\n")
        self.secrets.chmod(0o600)

    def config(self, name: str) -> Path:
        cache = self.folder / f"cache-{name}"
        cache.mkdir()
        cache.chmod(0o1777)
        conf = self.folder / f"davfs2-{name}.conf"
        lines = [*readme_davfs2_conf(), f"secrets {self.secrets}", f"cache_dir {cache}"]
        lines.append("ask_auth 0")
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def mount(self, name: str) -> Path:
        point = self.folder / name
        point.mkdir()
        result = run([self.binary, "-o", f"conf={self.config(name)}", self.url, str(point)], 60)
        assert result.returncode == 0, result.stderr
        self.mounted.append(point)
        return point

    def umount(self, point: Path) -> str:
        """``umount``, which waits until davfs2 has uploaded everything; its output."""
        result = run(["umount", str(point)], 180)
        assert result.returncode == 0, result.stdout + result.stderr
        self.mounted.remove(point)
        return result.stdout + result.stderr

    def cleanup(self) -> None:
        for point in list(self.mounted):
            run(["umount", "-l", str(point)], 60)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def davfs2(binary: str, url: str) -> Iterator[Davfs2]:
    mounts = Davfs2(binary, url)
    try:
        yield mounts
    finally:
        mounts.cleanup()


# --- cadaver -------------------------------------------------------------------------


def cadaver(binary: str, url: str, home: Path, commands: list[str]) -> str:
    """A scripted cadaver session (commands on stdin, credentials in ``home/.netrc``,
    working directory ``home``); its whole output."""
    home.mkdir(parents=True, exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login {ALICE[0]} password {ALICE[1]}\n")
    netrc.chmod(0o600)
    env = {**os.environ, "HOME": str(home)}
    script = "\n".join([*commands, "quit"]) + "\n"
    result = subprocess.run(
        [binary, url], input=script, capture_output=True, text=True, timeout=120, env=env, cwd=home
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr
