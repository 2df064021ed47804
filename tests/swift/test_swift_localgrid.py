"""localgrid.swift: a Swift of our own, started and stopped by PID, data kept across restarts."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from swiftclient.client import Connection

from localgrid.swift import LocalSwift


@pytest.fixture
def root(swift_store: LocalSwift, tmp_path: Path) -> Iterator[Path]:
    """A data folder for a second Swift (next to the session's, on the same filesystem)."""
    folder = swift_store.root.parent / f"{swift_store.root.name}-{tmp_path.name}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_restart_keeps_data_ports_and_tokens(swift_store, root):
    swift = LocalSwift(root, swift_bin=swift_store.swift_bin, log_level="WARNING").start()
    try:
        assert swift.startup_seconds < 15
        conn = Connection(swift.auth_url, "test:tester", "testing", retries=0)
        conn.put_container("keep")
        conn.put_object("keep", "o", b"still here", headers={"X-Object-Meta-K": "v"})
        pids = dict(swift.procs)
        swift.stop()
        assert not any(_alive(proc.pid) for proc in pids.values())
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", swift.port("proxy")), timeout=1)
        again = LocalSwift(root, swift_bin=swift_store.swift_bin, log_level="WARNING").start()
        assert again.base_port == swift.base_port  # remembered in the data folder
        headers, body = conn.get_object("keep", "o")  # the old token is still good
        assert (body, headers["x-object-meta-k"]) == (b"still here", "v")
        again.stop()
    finally:
        swift.stop()


def test_servers_left_behind_are_stopped_by_their_pid_files(swift_store, root):
    first = LocalSwift(root, swift_bin=swift_store.swift_bin, die_with_parent=False).start()
    second = LocalSwift(root, swift_bin=swift_store.swift_bin)  # as after a crashed test run
    try:
        pids = first.running()
        assert set(pids) == set(first.servers)
        command = [sys.executable, "-m", "localgrid.swift", "status", str(root)]
        status = subprocess.run(
            command, capture_output=True, text=True, cwd=Path(__file__).parents[2]
        )
        assert status.returncode == 0 and "proxy: pid" in status.stdout
        second.start()
        assert not any(_alive(pid) for pid in pids.values())
        assert set(second.running()) == set(second.servers)
    finally:
        second.stop()  # and, should the test fail early, what ``first`` left running
    assert second.running() == {}
    assert not list((root / "run").glob("*.pid"))
    status = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert status.returncode == 1


def test_a_busy_port_fails_fast(swift_store, root):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        swift = LocalSwift(root, busy.getsockname()[1] - 3, swift_bin=swift_store.swift_bin)
        with pytest.raises(OSError, match="already in use"):
            swift.start()
    assert not root.exists()  # refused before anything was written


def test_the_proxy_caches_in_memcached_when_installed(swift_store, root):
    """Like a production cluster: account and container info cached in memcached (a
    server of this store, stopped with it), so the proxy logs no missing cache."""
    if not shutil.which("memcached"):
        if os.environ.get("CI") == "true":
            pytest.fail("memcached is required in CI (Debian package memcached)")
        pytest.skip("memcached is not installed")
    swift = LocalSwift(root, swift_bin=swift_store.swift_bin).start()
    try:
        pid = swift.running()["memcached"]
        conn = Connection(swift.auth_url, "test:tester", "testing")
        conn.put_container("cached")
        conn.head_container("cached")
        assert "swift.cache could not be found" not in (root / "log" / "proxy.log").read_text()
    finally:
        swift.stop()
    assert not _alive(pid)
