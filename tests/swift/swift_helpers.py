"""Small helpers shared by the Swift tests (imported as ``swift_helpers``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from external_tools import require_tool  # noqa: F401  (re-exported to the tests)

from auth.identity import Identity
from davprovider.backend import Backend, Entry

MiB = 1 << 20
USER, KEY = "test:tester", "testing"


def as_tester() -> Identity:
    """The identity of the test Swift's ``test:tester`` (a Basic login)."""
    return Identity(user=USER, method="basic", password=KEY)


def put(backend: Backend, path: str, data: bytes, chunk: int = 256 * 1024, **kw: Any) -> Entry:
    """Upload ``data`` in ``chunk``-sized writes, announcing its length."""
    upload = backend.open_write(path, size=len(data), **kw)
    for start in range(0, len(data), chunk):
        upload.write(data[start : start + chunk])
    return upload.commit()


def read(backend: Backend, path: str) -> bytes:
    stream = backend.open_read(path)
    try:
        return stream.read()
    finally:
        stream.close()


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
