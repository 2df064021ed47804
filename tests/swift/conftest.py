"""A real OpenStack Swift for the session (``localgrid.swift``), and backends over it.

Swift is installed into ``.swiftvenv`` on first use. Without it (no network, no
venv module) the Swift tests are skipped, except in CI (``CI=true``), where that
is a failure. The store lives on tmpfs when tmpfs takes user xattrs (kernel 6.6
and later): no fsync cost, no ext4 xattr size limit; else in pytest's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from swiftclient.client import Connection

from davprovider.swift import Options, SwiftBackend, SwiftFactory, create_factory
from localgrid.swift import LocalSwift, SwiftUnavailable, ensure_swift_venv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))  # backend_contract
sys.path.insert(0, str(Path(__file__).resolve().parent))  # swift_helpers
from swift_helpers import KEY, USER, MiB, as_tester  # noqa: E402


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Swift is required in CI: {reason}")
    pytest.skip(f"Swift is not available: {reason}")


def _store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir():
        probe = Path(tempfile.mkdtemp(prefix="davprovider-swift-", dir=shm))
        try:
            os.setxattr(probe, "user.davprovider", b"x" * 2048)
            return probe
        except OSError:
            shutil.rmtree(probe, ignore_errors=True)
    return tmp_path_factory.mktemp("swift")


@pytest.fixture(scope="session")
def swift_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    """Swift's four servers on free loopback ports for the whole session."""
    try:
        bin_dir = ensure_swift_venv()
    except (SwiftUnavailable, OSError) as exc:
        _unavailable(str(exc))
    root = _store_root(tmp_path_factory)
    store = LocalSwift(root, swift_bin=bin_dir, log_level="WARNING")
    try:
        store.start()
    except (SwiftUnavailable, OSError) as exc:
        _unavailable(str(exc))
    try:
        yield store
    finally:
        store.stop()
        if str(root).startswith("/dev/shm/"):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def swift_conn(swift_store: LocalSwift) -> Iterator[Connection]:
    """swiftclient as test:tester, for setting up and checking behind the backend."""
    conn = Connection(swift_store.auth_url, USER, KEY, retries=0)
    yield conn
    conn.close()


@pytest.fixture
def container(swift_conn: Connection) -> str:
    """A fresh, empty container for this test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    swift_conn.put_container(name)
    return name


@pytest.fixture
def make_factory(swift_store: LocalSwift) -> Iterator[Callable[..., SwiftFactory]]:
    """``make_factory(**options)`` -> a SwiftFactory over the test Swift (closed after)."""
    made: list[SwiftFactory] = []

    def make(**overrides: Any) -> SwiftFactory:
        options = {"auth_url": swift_store.auth_url, "segment_size": MiB, **overrides}
        factory = create_factory(Options(**options))
        made.append(factory)
        return factory

    yield make
    for factory in made:
        factory.close()


@pytest.fixture
def account(make_factory: Callable[..., SwiftFactory]) -> SwiftBackend:
    """A backend whose share root is test:tester's account (containers on top)."""
    return make_factory()(as_tester())


@pytest.fixture
def backend(make_factory: Callable[..., SwiftFactory], container: str) -> SwiftBackend:
    """A backend whose share root is a fresh container (for the contract suite)."""
    return make_factory(container=container)(as_tester())
