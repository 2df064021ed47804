"""cheroot's socket files without their per-call copies.

cheroot reads and writes sockets through the pure-Python ``_pyio`` buffered classes. A
large read there allocates a fresh buffer of the whole requested size for every
``recv`` (over TLS a ``recv`` yields one 16 KiB record: sixteen 256 KiB allocations
per 256 KiB read), and a write copies the rest of its buffer into new bytes for every
partial ``send``. ``SocketReader`` reads large requests straight into one buffer;
``SocketWriter`` hands each write to ``sendall``. Small reads (request lines, headers,
chunk sizes) still go through cheroot's own buffer.

Two additions keep a slow client from holding a worker thread:

- ``deadline``: while set, every ``recv`` of the reader ends by then (``TimeoutError``),
  however slowly the bytes trickle in (a socket timeout alone restarts at each byte);
- ``fill_available()`` and ``head_complete()``: the request head is collected with
  reads that never wait, so a connection goes back to the selector until its whole
  head has arrived (``http.GatewayConnection``); ``has_data()`` is true only for a
  complete head, so an incomplete one waits there too.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from typing import Any

from cheroot.makefile import StreamReader, StreamWriter

_HEAD_END = b"\r\n\r\n"


def direct(sock: Any) -> bool:
    """Whether ``sock``'s descriptor can be read and written straight: a plain socket
    with a timeout, which Python keeps non-blocking underneath (its ``recv_into`` and
    ``sendall`` poll before every call: one system call, and one release of the GIL,
    more). Not a TLS socket, nor a blocking one."""
    return sock.gettimeout() is not None and not isinstance(sock, ssl.SSLSocket)


class DeadlineSocketIO(socket.SocketIO):
    """A socket's raw reads, each ending by ``deadline`` when one is set."""

    deadline: float | None = None

    def __init__(self, sock: Any, mode: Any) -> None:
        super().__init__(sock, mode)
        self._socket: Any = sock
        self.base_timeout = sock.gettimeout()
        self._shortened = False

    def readinto(self, b: Any) -> int | None:
        sock = self._socket
        if direct(sock):
            # bytes already here come with one system call; the deadline (which sets
            # the timeout first) is for the reads that wait
            try:
                return os.readv(sock.fileno(), [b])
            except BlockingIOError:
                pass
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out")
            if self.base_timeout is None or remaining < self.base_timeout:
                self._socket.settimeout(remaining)
                self._shortened = True
        return super().readinto(b)

    def set_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline
        if deadline is None and self._shortened:
            self._socket.settimeout(self.base_timeout)
            self._shortened = False


class SocketReader(StreamReader):
    """cheroot's reader; a read larger than its buffer fills one buffer directly."""

    def __init__(self, sock: Any, mode: str = "rb", bufsize: int = 8192) -> None:
        super(StreamReader, self).__init__(DeadlineSocketIO(sock, mode), bufsize)
        self.bytes_read = 0

    def set_deadline(self, deadline: float | None) -> None:
        """Bound every read from now on by ``deadline`` (``time.monotonic()``), or
        lift the bound (``None``)."""
        raw: DeadlineSocketIO = self.raw  # type: ignore[assignment]
        raw.set_deadline(deadline)

    def fill_available(self) -> bool:
        """Buffer whatever the socket holds now, without waiting; False once the
        peer has closed the connection.

        One ``read`` of a ``direct`` socket's descriptor returns at once. (Setting a
        timeout of 0 and back costs two more system calls; ``recv`` with
        ``MSG_DONTWAIT`` would first wait for the socket's timeout.) A TLS socket or a
        blocking one takes that longer way."""
        pyio: Any = self
        sock = pyio.raw._sock
        timeout = sock.gettimeout()
        try:
            if direct(sock):
                data = os.read(sock.fileno(), 65536)
            else:
                try:
                    sock.settimeout(0.0)
                    data = sock.recv(65536)
                finally:
                    sock.settimeout(timeout)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return True
        except OSError:
            return False
        if not data:
            return False
        with pyio._read_lock:
            pyio._read_buf = pyio._read_buf[pyio._read_pos :] + data
            pyio._read_pos = 0
        return True

    def head_complete(self, limit: int) -> bool:
        """True when the buffer holds a whole request head (or ``limit`` bytes of one:
        cheroot then refuses it as too large)."""
        pyio: Any = self
        pending = pyio._read_buf[pyio._read_pos :]
        return _HEAD_END in pending.lstrip(b"\r\n") or len(pending) >= limit

    def take_head(self) -> bytes | None:
        """The rest of a request head (its header lines and the empty line ending
        them) when the buffer holds all of it, taken out of the buffer; else None."""
        pyio: Any = self
        with pyio._read_lock:
            buf, pos = pyio._read_buf, pyio._read_pos
            if buf.startswith(b"\r\n", pos):
                end = pos + 2
            elif (found := buf.find(_HEAD_END, pos)) >= 0:
                end = found + 4
            else:
                return None
            pyio._read_pos = end
            head: bytes = buf[pos:end]
        self.bytes_read += len(head)
        return head

    def has_data(self) -> bool:
        """True when a whole request head is buffered (a partial one waits in the
        selector for more bytes)."""
        return self.head_complete(1 << 30)

    def readline(self, size: int | None = -1) -> bytes:
        """A line the buffer already holds is cut out with one ``find``; otherwise
        ``_pyio``'s own readline (which peeks and reads a piece at a time)."""
        pyio: Any = self
        limit = -1 if size is None else size
        with pyio._read_lock:
            buf, pos = pyio._read_buf, pyio._read_pos
            stop = len(buf) if limit < 0 else min(len(buf), pos + limit)
            end = buf.find(b"\n", pos, stop)
            if end >= 0:
                pyio._read_pos = end + 1
                line: bytes = buf[pos : end + 1]
                self.bytes_read += len(line)
                return line
        whole: bytes = super().readline(limit)
        return whole

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
    """cheroot's writer, sending each write whole (``_send``).

    ``hold_next()`` keeps the next write (a response head) to send it with the one
    after it (the body's first piece, when small) in one ``sendall``: a small response
    costs one system call, and one release of the GIL, instead of two. ``send_held``
    sends a head kept with nothing after it; ``flush`` and ``close`` do too."""

    HOLD_JOINS = 64 * 1024  # a larger first piece is sent after the head, not joined

    def __init__(self, sock: Any, mode: str = "wb", bufsize: int = 8192) -> None:
        super().__init__(sock, mode, bufsize)
        self._socket = sock
        self._holding = False
        self._held = b""

    def hold_next(self) -> None:
        self._holding = True

    def send_held(self) -> None:
        """Send the kept head, if any."""
        self._holding = False
        if self._held:
            held, self._held = self._held, b""
            self._send(held)

    def _send(self, data: Any) -> None:
        """``sendall``, but a ``direct`` socket first gets one ``write`` of its
        descriptor (``sendall`` polls before it sends); what that leaves goes by
        ``sendall``."""
        sock = self._socket
        if direct(sock):
            try:
                sent = os.write(sock.fileno(), data)
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        sock.sendall(data)

    def write(self, val: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        pyio: Any = self  # _pyio's buffer state (cheroot's stubs leave it out)
        self._checkClosed()
        if isinstance(val, str):
            raise TypeError("can't write str to binary stream")
        with pyio._write_lock:
            if pyio._write_buf:
                pyio._flush_unlocked()
            if self._holding:
                self._holding, self._held = False, bytes(val)
            elif self._held and len(val) <= self.HOLD_JOINS:
                held, self._held = self._held, b""
                self._send(held + val)
            else:
                self.send_held()
                self._send(val)
        self.bytes_written += len(val)
        return len(val)

    def flush(self) -> None:
        self.send_held()
        super().flush()


def make_file(sock: Any, mode: str = "r", bufsize: int = 8192) -> Any:
    """cheroot's ``MakeFile`` with our classes."""
    return SocketReader(sock, mode, bufsize) if "r" in mode else SocketWriter(sock, mode, bufsize)
