"""Overlapping the two legs of a transfer: the client's HTTP connection and a backend
that answers one block at a time.

A backend with request/response block I/O (iRODS: one DATA_OBJ_READ or DATA_OBJ_WRITE
round trip per block) leaves the client's leg idle while a block travels, and the
backend idle while the client's bytes move: the two times add up. Here one thread per
transfer does the backend's side, a block ahead (reads) or behind (writes), so they
overlap. Memory stays bounded: at most ``depth`` blocks wait between the two threads.

Errors of the backend thread surface in the request thread on its next call, as they
were raised; nothing here swallows one.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable
from typing import Any

_END = object()
FIRST_BLOCK = 256 * 1024  # ReadAhead's first read


class _Worker:
    """A thread feeding or draining a bounded queue; its error is kept for the caller."""

    def __init__(self, target: Callable[[_Worker], None], depth: int, name: str) -> None:
        self.blocks: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._target = target
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._target(self)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the request thread
            self.error = exc
            self.stopping.set()

    def put(self, item: Any) -> bool:
        """Queue ``item``; False once the worker stopped (its error is in ``error``)."""
        while not self.stopping.is_set():
            try:
                self.blocks.put(item, timeout=0.2)
                return True
            except queue.Full:
                if not self.thread.is_alive():
                    return False
        return False

    def get(self) -> Any:
        """The next item, or ``_END`` once stopping."""
        while not self.stopping.is_set():
            try:
                return self.blocks.get(timeout=0.2)
            except queue.Empty:
                if not self.thread.is_alive() and self.blocks.empty():
                    return _END
        return _END

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end, unblock it and wait for it."""
        self.stopping.set()
        while True:
            try:
                self.blocks.get_nowait()
            except queue.Empty:
                break
        self.thread.join(timeout)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


class ReadAhead(io.RawIOBase):
    """Reads ``source`` one step ahead of the caller, in pieces that grow from
    ``FIRST_BLOCK`` to ``block``.

    ``seek`` to another position stops the read-ahead and seeks ``source``; the next
    ``read`` starts it again there. ``close`` stops it and closes ``source``.
    """

    def __init__(self, source: Any, block: int, depth: int = 1) -> None:
        super().__init__()
        self.source, self.block, self.depth = source, block, depth
        self._worker: _Worker | None = None
        self._current = memoryview(b"")
        self._pos = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _fetch(self, worker: _Worker) -> None:
        # Small first, doubling up to ``block``: a small file costs no large buffer,
        # a large one soon moves in few round trips.
        size = min(FIRST_BLOCK, self.block)
        while not worker.stopping.is_set():
            data = self.source.read(size)
            if not worker.put(data) or not data:
                return
            size = min(size * 2, self.block)

    def _next(self) -> bool:
        """Load the next block; False at the end of the stream."""
        if self._eof:
            return False
        if self._worker is None:
            self._worker = _Worker(self._fetch, self.depth, "read-ahead")
        data = self._worker.get()
        if data is _END:
            self._worker.raise_error()
            raise OSError("read-ahead stopped")
        if not data:
            self._eof = True
            return False
        self._current = memoryview(data)
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed stream")
        if size is None or size < 0:
            parts = []
            while self._current or self._next():
                parts.append(bytes(self._current))
                self._pos += len(self._current)
                self._current = memoryview(b"")
            return b"".join(parts)
        if size == 0 or (not self._current and not self._next()):
            return b""
        data, self._current = self._current[:size], self._current[size:]
        self._pos += len(data)
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _halt(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self._current = memoryview(b"")
        self._eof = False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset, whence = self._pos + offset, io.SEEK_SET
        if whence == io.SEEK_SET and offset == self._pos:
            return self._pos
        self._halt()
        self._pos = self.source.seek(offset, whence)
        return self._pos

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._halt()
            self.source.close()
        finally:
            super().close()


class WriteBehind:
    """Hands ``block``-sized pieces of what is written to ``sink`` in a thread.

    ``write`` gathers bytes and queues full blocks (at most ``depth`` waiting);
    ``finish`` writes the rest and waits, raising the sink's error if it failed;
    ``stop`` abandons what is queued. ``sink`` is called from one thread only.
    """

    def __init__(self, sink: Callable[[bytearray], Any], block: int, depth: int = 1) -> None:
        self.sink, self.block, self.depth = sink, block, depth
        self._pending = bytearray()
        self._worker: _Worker | None = None

    def _drain(self, worker: _Worker) -> None:
        while (data := worker.get()) is not _END and data is not None:
            self.sink(data)

    def _queue(self, data: bytearray | None) -> None:
        if self._worker is None:
            self._worker = _Worker(self._drain, self.depth, "write-behind")
        if not self._worker.put(data):
            self._worker.raise_error()
            raise OSError("write-behind stopped")

    def write(self, data: bytes) -> None:
        self._pending += data
        if len(self._pending) >= self.block:
            block, self._pending = self._pending, bytearray()
            self._queue(block)  # handed over, never touched here again

    def finish(self) -> None:
        """Write what is left and wait until the sink has everything."""
        if self._worker is None:  # small: written here, no thread
            if self._pending:
                self.sink(self._pending)
                self._pending = bytearray()
            return
        if self._pending:
            self._queue(self._pending)
            self._pending = bytearray()
        self._queue(None)
        worker, self._worker = self._worker, None
        worker.thread.join()
        worker.raise_error()

    def stop(self, timeout: float | None = None) -> None:
        """Abandon queued blocks and end the thread (waits at most ``timeout``)."""
        self._pending = bytearray()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.stop(timeout)
