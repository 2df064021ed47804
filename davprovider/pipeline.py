"""The one bounded-queue worker (``Worker``), and the two transfers built on it for
backends that answer one block at a time.

A backend with request/response block I/O (iRODS: one DATA_OBJ_READ or DATA_OBJ_WRITE
round trip per block) leaves the client's leg idle while a block travels, and the
backend idle while the client's bytes move: the two times add up. A ``Worker`` does one
side in a thread of its own, so the two overlap: ``ReadAhead`` reads a block ahead,
``WriteBehind`` writes a block behind; the Swift upload streams its PUT body through
one, and ``digests.Hasher`` hashes in them.

``BlockReader`` is the raw-stream side shared by the readers that hand out blocks
(``ReadAhead`` here, the iRODS parallel reader).

Errors of the worker's thread surface in the caller's thread, as they were raised;
nothing here swallows one. Nothing here imports anything but the standard library.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable
from typing import Any

#: What ``Worker.get`` returns once no item will come: after ``end()`` or ``stop()``.
END: Any = object()
FIRST_BLOCK = 256 * 1024  # ReadAhead's first read
_POLL = 0.2  # seconds a blocked put or get waits before it checks the other side


class Worker:
    """A thread beside the caller's, the two joined by a bounded queue.

    The thread runs ``target(worker)`` at once. One side puts items and the other
    gets them: a consumer thread ``get``s what the caller ``put``s (write-behind), a
    producer thread ``put``s what the caller ``get``s (read-ahead).

    - Bounded memory: at most ``depth`` items wait; ``put`` blocks while the queue is
      full, and returns False (nothing queued) once the worker stopped or its thread
      ended with the queue full.
    - ``get`` returns the next item, or ``END``: after the caller's ``end()`` once every
      item before it was taken, at once after ``stop()`` or a failure of the thread,
      and (on the caller's side) when the thread ended and nothing is left.
    - Errors: whatever ``target`` raises ends the thread and stops the worker; it is
      kept in ``error`` and raised in the caller's thread by ``raise_error`` (``finish``
      does so). Nothing is swallowed.
    - ``end`` (the caller has no more items), ``join`` (wait for the thread),
      ``finish`` (both, then ``raise_error``); ``stop`` aborts: queued items are
      abandoned, both sides unblock, and the thread is waited for (``timeout``).
    """

    def __init__(self, target: Callable[[Worker], None], depth: int = 1, name: str = "worker"):
        self.blocks: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self._target = target
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._target(self)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self.error = exc
            self.stopping.set()

    def put(self, item: Any) -> bool:
        """Queue ``item``; False once the worker stopped (its error is in ``error``)."""
        while not self.stopping.is_set():
            try:
                self.blocks.put(item, timeout=_POLL)
                return True
            except queue.Full:
                if not self.thread.is_alive():
                    return False
        return False

    def get(self) -> Any:
        """The next item, or ``END`` (see the class docstring)."""
        while not self.stopping.is_set():
            try:
                return self.blocks.get(timeout=_POLL)
            except queue.Empty:
                if not self.thread.is_alive() and self.blocks.empty():
                    return END
        return END

    def end(self) -> None:
        """No more items: ``get`` answers ``END`` after those queued."""
        self.put(END)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (at most ``timeout`` seconds)."""
        self.thread.join(timeout)

    def finish(self) -> None:
        """``end``, wait for the thread, and raise its error if it failed."""
        self.end()
        self.join()
        self.raise_error()

    def stop(self, timeout: float | None = None) -> None:
        """Abort: abandon queued items, unblock both sides, wait for the thread."""
        self.stopping.set()
        while True:
            try:
                self.blocks.get_nowait()
            except queue.Empty:
                break
        self.join(timeout)

    def raise_error(self) -> None:
        """Raise what the thread raised, if it failed."""
        if self.error is not None:
            raise self.error


class BlockReader(io.RawIOBase):
    """A readable, seekable raw stream served from blocks that ``_next`` loads.

    A subclass sets ``_current`` to the next block in ``_next`` (False at the end of the
    stream) and moves ``_pos`` in ``seek``; ``read`` and ``readinto`` hand out the
    blocks' bytes and count them in ``_pos``. ``close`` calls ``_halt`` (stop what reads
    ahead) and then ``_close_source``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._current = memoryview(b"")
        self._pos = 0

    def _next(self) -> bool:
        """Load the next block into ``_current``; False at the end of the stream."""
        raise NotImplementedError

    def _halt(self) -> None:
        """Stop reading ahead and drop the current block."""

    def _close_source(self) -> None:
        """Close what the blocks are read from."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

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

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._halt()
            self._close_source()
        finally:
            super().close()


class ReadAhead(BlockReader):
    """Reads ``source`` one step ahead of the caller, in pieces that grow from
    ``FIRST_BLOCK`` to ``block``.

    ``seek`` to another position stops the read-ahead and seeks ``source``; the next
    ``read`` starts it again there. ``close`` stops it and closes ``source``.
    """

    def __init__(self, source: Any, block: int, depth: int = 1) -> None:
        super().__init__()
        self.source, self.block, self.depth = source, block, depth
        self._worker: Worker | None = None
        self._eof = False

    def _fetch(self, worker: Worker) -> None:
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
            self._worker = Worker(self._fetch, self.depth, "read-ahead")
        data = self._worker.get()
        if data is END:
            self._worker.raise_error()
            raise OSError("read-ahead stopped")
        if not data:
            self._eof = True
            return False
        self._current = memoryview(data)
        return True

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

    def _close_source(self) -> None:
        self.source.close()


class WriteBehind:
    """Hands ``block``-sized pieces of what is written to ``sink`` in a thread.

    ``write`` gathers bytes and queues full blocks (at most ``depth`` waiting);
    ``finish`` writes the rest and waits, raising the sink's error if it failed;
    ``stop`` abandons what is queued. ``sink`` is called from one thread only.
    """

    def __init__(self, sink: Callable[[bytearray], Any], block: int, depth: int = 1) -> None:
        self.sink, self.block, self.depth = sink, block, depth
        self._pending = bytearray()
        self._worker: Worker | None = None

    def _drain(self, worker: Worker) -> None:
        while (data := worker.get()) is not END:
            self.sink(data)

    def _queue(self, data: bytearray) -> None:
        if self._worker is None:
            self._worker = Worker(self._drain, self.depth, "write-behind")
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
        worker, self._worker = self._worker, None
        worker.finish()

    def stop(self, timeout: float | None = None) -> None:
        """Abandon queued blocks and end the thread (waits at most ``timeout``)."""
        self._pending = bytearray()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.stop(timeout)
