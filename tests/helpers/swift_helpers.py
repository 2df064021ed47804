"""Small helpers shared by the Swift tests (imported as ``swift_helpers``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from davprovider.backend import Backend, Entry, Identity
from localgrid.swift import LocalSwift, SwiftUnavailable, ensure_swift_venv
from tests.contract.backend_contract import read  # noqa: F401 (the helpers' read)

MiB = 1 << 20
USER, KEY = "test:tester", "testing"
#: ``options.profiles`` that let a password-less identity (a token's) act as alice.
ALICE_PROFILE = {"alice": {"user": "alice:alice", "key": "alice"}}


def swift_share(store: LocalSwift, **options: Any) -> dict[str, Any]:
    """A config's ``/swift`` share over ``store``, Basic logins as ``user:user``."""
    share_options = {"auth_url": store.auth_url, "user_template": "{user}:{user}", **options}
    return {"path": "/swift", "backend": "swift", "options": share_options}


def as_tester() -> Identity:
    """The identity of the test Swift's ``test:tester`` (a Basic login)."""
    return Identity(user=USER, method="basic", password=KEY)


def put(backend: Backend, path: str, data: bytes, chunk: int = 256 * 1024, **kw: Any) -> Entry:
    """Upload ``data`` in ``chunk``-sized writes, announcing its length."""
    upload = backend.open_write(path, size=len(data), **kw)
    for start in range(0, len(data), chunk):
        upload.write(data[start : start + chunk])
    return upload.commit()


def names(conn: Any, container: str, prefix: str | None = None) -> list[str]:
    """Every object name in a container, straight from Swift."""
    try:
        _, rows = conn.get_container(container, prefix=prefix, full_listing=True)
    except Exception as exc:  # noqa: BLE001 - a missing container has no names
        if getattr(exc, "http_status", None) == 404:
            return []
        raise
    return [row["name"] for row in rows]


def count_requests(conn: Any) -> Counter[str]:
    """Count the Swift requests a swiftclient Connection makes, by function name."""
    calls: Counter[str] = Counter()
    inner = conn._retry

    def counting(reset: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        calls[func.__name__] += 1
        return inner(reset, func, *args, **kwargs)

    conn._retry = counting
    return calls


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Swift is required in CI: {reason}")
    pytest.skip(f"Swift is not available: {reason}")


def _store_root(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """tmpfs when it takes user xattrs (kernel 6.6 and later: no fsync cost, no ext4 xattr
    size limit), else pytest's tmp dir."""
    shm = Path("/dev/shm")
    if shm.is_dir():
        probe = Path(tempfile.mkdtemp(prefix=f"davprovider-{name}-", dir=shm))
        try:
            os.setxattr(probe, "user.davprovider", b"x" * 2048)
            return probe
        except OSError:
            shutil.rmtree(probe, ignore_errors=True)
    return tmp_path_factory.mktemp(name)


@contextmanager
def local_swift(
    tmp_path_factory: pytest.TempPathFactory, name: str, log_level: str = "WARNING"
) -> Iterator[LocalSwift]:
    """A real OpenStack Swift (``localgrid.swift``: four servers on free loopback ports),
    installed into ``.swiftvenv`` on first use, stopped afterwards. Without it the test is
    skipped, except in CI (``CI=true``), where that is a failure."""
    try:
        bin_dir = ensure_swift_venv()
    except (SwiftUnavailable, OSError) as exc:
        _unavailable(str(exc))
    root = _store_root(tmp_path_factory, name)
    store = LocalSwift(root, swift_bin=bin_dir, log_level=log_level)  # INFO: requests logged
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
