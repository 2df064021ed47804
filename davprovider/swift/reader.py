"""A seekable read stream over Swift GETs: a seek re-issues a ranged GET."""

from __future__ import annotations

import errno
import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from swiftclient.exceptions import ClientException

from .entries import slo_shown
from .errors import retry_busy, status_of, translated

if TYPE_CHECKING:
    from swiftclient.client import Connection

log = logging.getLogger("davprovider.swift")
CHUNK = 256 * 1024
#: An object larger than this is read as two ranged GETs: its first ``HEAD_PART`` bytes,
#: then the rest. A GET that starts at byte 0 makes the object server compute the MD5 of
#: everything it reads (Swift's ``etag_validate_pct``: it quarantines the object after a
#: whole read that does not match, which protects later readers, not this one); a range
#: that starts further on does not. The object server's CPU is then spent on this
#: part's MD5 only (rclone reads in ranged chunks too).
HEAD_PART = 8 << 20


class SwiftReader(io.RawIOBase):
    """``read(n)``/``seek``/``tell``/``close`` over ``container/obj`` of ``size`` bytes.

    ``start()`` sends the GET of the whole object (the backend's ``open_read`` does,
    so that a missing or changed object fails before the answer starts); after a
    ``seek`` elsewhere the next read sends a ranged GET (``Range: bytes=pos-``). The
    leased connection goes back to the pool on ``close()``.
    ``if_match`` (the ETag of the stat) pins the version; when the object was replaced
    before anything was read, ``start()`` takes the current version instead (its size
    and ``etag`` become the reader's, for the caller to announce); once bytes went out, a
    replaced object of another size is ``OSError(EAGAIN)``, never a mixed body.
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
        self._served = False  # whether a byte went out: the size is then fixed
        self._end: int | None = None  # where the current answer's range ends, if before EOF
        self._version: str | None = None  # the ETag header of the version being read
        self.etag: str | None = None  # of the version being read, once opened

    @translated
    def start(self) -> None:
        """Send the GET from the current position now rather than at the first read."""
        if self._body is None and self._pos < self.size:
            self._open()

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
        data = self._read(size)
        if len(data) < size and self._pos == self._end:  # the head part ends: the rest
            return data + self._read(size - len(data))
        return data

    @translated
    def _read(self, size: int) -> bytes:
        if self._body is not None and self._pos == self._end:
            self._drop_body()
            self._open_rest()
        if self._body is None:
            self._open()
        data = self._body.read(min(size, (self._end or self.size) - self._pos))
        self._pos += len(data)
        self._served = True
        if not data:
            raise ConnectionError(f"Swift ended the body of {self.path} at byte {self._pos}")
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _open(self) -> None:
        """GET from the current position, pinned to the announced version (If-Match).
        Swift's 412 means the object was replaced since it was looked up (or the
        listing that described it lags behind): the current version is served when
        it has the announced size (a complete old-or-new answer), else
        ``OSError(EAGAIN)`` (503: changed while being read, try again)."""
        assert self._conn is not None
        headers = {"Range": f"bytes={self._pos}-"} if self._pos else {}
        self._end = None
        if not self._pos and self.size > HEAD_PART:
            headers, self._end = {"Range": f"bytes=0-{HEAD_PART - 1}"}, HEAD_PART
        try:
            answer, self._body = self._get({**headers, **self._pinned()})
        except ClientException as exc:
            if status_of(exc) != 412:
                raise
            answer, self._body = self._get(headers)
            total = _total_size(answer, self._pos)
            if not self._served and self._pos == 0 and total is not None:
                self.size = total  # nothing announced from it yet: serve this version
            elif total != self.size:
                self._drop_body()
                raise OSError(errno.EAGAIN, f"{self.path} changed while being read") from exc
        etag = answer.get("etag")
        self._version = etag
        if self._end is not None and self._end > self.size:  # another version, smaller
            self._end = None
        self.etag = etag.strip('"') if etag else None
        if self.etag and answer.get("x-static-large-object"):
            self.etag = slo_shown(self.etag)  # as ``entries`` shows it
        elif etag:
            self._if_match = f'"{etag.strip(chr(34))}"'  # later seeks: this same version

    def _open_rest(self) -> None:
        """The rest of the object after ``HEAD_PART``: the same version, or
        ``OSError(EAGAIN)`` (bytes of it went out already)."""
        headers = {"Range": f"bytes={self._pos}-"}
        if self._version:
            headers["If-Match"] = self._version
        self._end = None
        try:
            answer, self._body = self._get(headers)
        except ClientException as exc:
            if status_of(exc) != 412:
                raise
            raise OSError(errno.EAGAIN, f"{self.path} changed while being read") from exc
        if self._version and answer.get("etag") != self._version:
            self._drop_body()
            raise OSError(errno.EAGAIN, f"{self.path} changed while being read")

    def _pinned(self) -> dict[str, str]:
        return {"If-Match": self._if_match} if self._if_match else {}

    def _get(self, headers: dict[str, str]) -> tuple[dict[str, str], Any]:
        assert self._conn is not None
        answer: dict[str, str]
        conn = self._conn
        answer, body = retry_busy(
            lambda: conn.get_object(
                self.container, self.obj, resp_chunk_size=CHUNK, headers=headers
            )
        )
        return answer, body

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


def _total_size(headers: dict[str, str], position: int) -> int | None:
    """The whole object's size as a (ranged) GET's answer tells it."""
    ranged = headers.get("content-range", "")
    if "/" in ranged:
        total = ranged.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = headers.get("content-length", "")
    return position + int(length) if length.isdigit() else None
