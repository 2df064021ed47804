"""Reading and writing data objects through python-irodsclient, for the tests."""

from __future__ import annotations

from typing import Any

ZONE = "tempZone"


def write_object(session: Any, path: str, data: bytes, mode: str = "w") -> None:
    """Create, truncate (``w``) or append to (``a``) a data object with ``data``."""
    with session.data_objects.open(path, mode) as stream:
        stream.write(data)


def read_object(session: Any, path: str) -> bytes:
    with session.data_objects.open(path, "r") as stream:
        data: bytes = stream.read()
    return data
