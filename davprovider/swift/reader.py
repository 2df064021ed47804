"""A seekable read stream over Swift GETs: a seek re-issues a ranged GET."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import translated

if TYPE_CHECKING:
    from swiftclient.client import Connection

log = logging.getLogger("davprovider.swift")
CHUNK = 256 * 1024


class SwiftReader(io.RawIOBase):
    """``read(n)``/``seek``/``tell``/``close`` over ``container/obj`` of ``size`` bytes.

    The GET starts on the first read at the current position (``Range:
    bytes=pos-``), so a ``seek`` costs nothing until bytes are wanted. The
    leased connection goes back to the pool on ``close()``.
    ``if_match`` (the ETag of the stat) makes a GET fail rather than deliver
    another version of the object than the one whose size was announced.
    """

    def __init__(
        self,
        conn: Connection,
        release: Callable[[Connection], None],
        container: str,
        obj: str,
        size: int,
        if_match: str | None = None,
    ) -> None:
        super().__init__()
        self._conn: Connection | None = conn
        self._release = release
        self.container, self.obj, self.size = container, obj, size
        self.path = f"/{container}/{obj}"
        self._if_match = if_match
        self._pos = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if target != self._pos:
            self._drop_body()
            self._pos = target
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        if self._conn is None:
            raise ValueError("I/O operation on closed stream")
        if size is None or size < 0:
            size = self.size - self._pos  # the caller asked for everything that is left
        if size == 0 or self._pos >= self.size:
            return b""
        return self._read(size)

    @translated
    def _read(self, size: int) -> bytes:
        if self._body is None:
            self._open()
        data = self._body.read(min(size, self.size - self._pos))
        self._pos += len(data)
        if not data:
            raise ConnectionError(f"Swift ended the body of {self.path} at byte {self._pos}")
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _open(self) -> None:
        assert self._conn is not None
        headers = {"Range": f"bytes={self._pos}-"} if self._pos else {}
        if self._if_match:
            headers["If-Match"] = self._if_match
        _, self._body = self._conn.get_object(
            self.container, self.obj, resp_chunk_size=CHUNK, headers=headers
        )

    def _drop_body(self) -> None:
        """Close the current response (a half-read one takes its socket along)."""
        if self._body is not None:
            body, self._body = self._body, None
            body.close()

    def close(self) -> None:
        if self._conn is not None:
            conn = self._conn
            self._drop_body()
            self._conn = None
            self._release(conn)
        super().close()
