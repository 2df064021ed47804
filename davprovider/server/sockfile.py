"""cheroot's socket files without their per-call copies.

cheroot reads and writes sockets through the pure-Python ``_pyio`` buffered classes. A
large read there allocates a fresh buffer of the whole requested size for every
``recv`` (over TLS a ``recv`` yields one 16 KiB record: sixteen 256 KiB allocations
per 256 KiB read), and a write copies the rest of its buffer into new bytes for every
partial ``send``. ``SocketReader`` reads large requests straight into one buffer;
``SocketWriter`` hands each write to ``sendall``. Small reads (request lines, headers,
chunk sizes) still go through cheroot's own buffer.
"""

from __future__ import annotations

from typing import Any

from cheroot.makefile import StreamReader, StreamWriter


class SocketReader(StreamReader):
    """cheroot's reader; a read larger than its buffer fills one buffer directly."""

    def read(self, size: int | None = -1) -> bytes:
        pyio: Any = self  # _pyio's buffer state (cheroot's stubs leave it out)
        if size is None or size < 0 or size <= pyio.buffer_size:
            data: bytes = super().read(size)
            return data
        buffer = bytearray(size)
        view = memoryview(buffer)
        with pyio._read_lock:
            pending = pyio._read_buf[pyio._read_pos : pyio._read_pos + size]
            got = len(pending)
            view[:got] = pending
            pyio._read_pos += got
            while got < size:
                count = self.raw.readinto(view[got:])
                if not count:
                    break
                got += count
        self.bytes_read += got
        return bytes(view[:got])


class SocketWriter(StreamWriter):
    """cheroot's writer, sending each write whole with ``sendall``."""

    def __init__(self, sock: Any, mode: str = "wb", bufsize: int = 8192) -> None:
        super().__init__(sock, mode, bufsize)
        self._socket = sock

    def write(self, val: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        pyio: Any = self  # _pyio's buffer state (cheroot's stubs leave it out)
        self._checkClosed()
        if isinstance(val, str):
            raise TypeError("can't write str to binary stream")
        with pyio._write_lock:
            if pyio._write_buf:
                pyio._flush_unlocked()
            self._socket.sendall(val)
        self.bytes_written += len(val)
        return len(val)


def make_file(sock: Any, mode: str = "r", bufsize: int = 8192) -> Any:
    """cheroot's ``MakeFile`` with our classes."""
    return SocketReader(sock, mode, bufsize) if "r" in mode else SocketWriter(sock, mode, bufsize)
