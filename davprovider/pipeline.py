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


class Buffers:
    """Byte buffers taken and given back, so that a transfer fills the same few again
    instead of allocating (and faulting in) a new one per block. Any thread."""

    def __init__(self) -> None:
        self._spare: queue.SimpleQueue[bytearray] = queue.SimpleQueue()

    def take(self, size: int) -> bytearray:
        """A buffer of ``size`` bytes: a spare one, else a new one."""
        while True:
            try:
                buffer = self._spare.get_nowait()
            except queue.Empty:
                return bytearray(size)
            if len(buffer) == size:  # other sizes (a read-ahead's first blocks) go
                return buffer

    def give_back(self, buffer: bytearray) -> None:
        """``buffer`` is no longer used: ``take`` may hand it out again."""
        self._spare.put(buffer)


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
        self.buffers = Buffers()
        self._held: bytearray | None = None  # the buffer behind ``_current``

    def _hold(self, buffer: bytearray, length: int) -> None:
        """Serve ``length`` bytes of ``buffer`` next (from ``buffers``); the buffer
        served before goes back (``read`` handed out copies of its bytes)."""
        self._release()
        self._held, self._current = buffer, memoryview(buffer)[:length]

    def _release(self) -> None:
        self._current = memoryview(b"")
        if self._held is not None:
            held, self._held = self._held, None
            self.buffers.give_back(held)

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
        # a large one soon moves in few round trips. Buffers come back once read.
        size = min(FIRST_BLOCK, self.block)
        while not worker.stopping.is_set():
            buffer = self.buffers.take(size)
            count = self.source.readinto(buffer) or 0
            if not worker.put((buffer, count)) or not count:
                return
            size = min(size * 2, self.block)

    def _next(self) -> bool:
        """Load the next block; False at the end of the stream."""
        if self._eof:
            return False
        if self._worker is None:
            self._worker = Worker(self._fetch, self.depth, "read-ahead")
        item = self._worker.get()
        if item is END:
            self._worker.raise_error()
            raise OSError("read-ahead stopped")
        buffer, count = item
        if not count:
            self._eof = True
            self._release()
            return False
        self._hold(buffer, count)
        return True

    def _halt(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self._release()
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


class Blocks:
    """Written pieces gathered into ``size``-byte buffers, each handed to ``full`` as
    ``(buffer, length)`` once it holds ``size`` bytes (the rest by ``flush``).

    The first block grows as its pieces arrive, so a small body never costs a whole
    block. Later ones are filled in place, in buffers of ``size`` bytes that the
    consumer gives back (``give_back``) once it is done with them: a large transfer
    reuses a few buffers instead of allocating (and faulting in) a new one per block,
    and its bytes are copied once, from the piece into the buffer.
    """

    def __init__(self, size: int, full: Callable[[bytearray, int], None]) -> None:
        self.size, self.full = size, full
        self._buffer = bytearray()
        self._length = 0
        self._handed = False  # a first block went: later ones are whole buffers
        self._buffers = Buffers()

    def give_back(self, buffer: bytearray) -> None:
        """``buffer`` (one handed to ``full``) may be filled again; any thread."""
        if len(buffer) == self.size:
            self._buffers.give_back(buffer)

    def write(self, data: Any) -> None:
        if not self._handed:
            self._buffer += data
            self._length = len(self._buffer)
            if self._length >= self.size:
                self._hand()
            return
        piece = memoryview(data).cast("B")
        while piece:
            if not self._buffer:
                self._buffer = self._buffers.take(self.size)
            count = min(len(piece), self.size - self._length)
            self._buffer[self._length : self._length + count] = piece[:count]
            self._length += count
            piece = piece[count:]
            if self._length == self.size:
                self._hand()

    def flush(self) -> None:
        """Hand what is gathered (a partial block), if anything."""
        if self._length:
            self._hand()

    def _hand(self) -> None:
        buffer, length = self._buffer, self._length
        self._buffer, self._length, self._handed = bytearray(), 0, True
        self.full(buffer, length)


class WriteBehind:
    """Hands ``block``-sized pieces of what is written to ``sink`` in a thread.

    ``write`` gathers bytes (``Blocks``) and queues full blocks (at most ``depth``
    waiting); ``finish`` writes the rest and waits, raising the sink's error if it
    failed; ``stop`` abandons what is queued. ``sink`` is called from one thread only,
    with a memoryview it must not keep once it returns: the buffer is filled again.
    A body of one block or less is written by ``finish``, in the caller's thread.
    """

    def __init__(self, sink: Callable[[memoryview], Any], block: int, depth: int = 1) -> None:
        self.sink, self.block, self.depth = sink, block, depth
        self._blocks = Blocks(block, self._full)
        self._worker: Worker | None = None
        self._inline = False  # finishing without a thread: the sink is called here

    def _drain(self, worker: Worker) -> None:
        while (item := worker.get()) is not END:
            self._write(*item)

    def _write(self, buffer: bytearray, length: int) -> None:
        with memoryview(buffer) as view, view[:length] as data:
            self.sink(data)
        self._blocks.give_back(buffer)

    def _full(self, buffer: bytearray, length: int) -> None:
        if self._inline:
            self._write(buffer, length)
            return
        if self._worker is None:
            self._worker = Worker(self._drain, self.depth, "write-behind")
        if not self._worker.put((buffer, length)):
            self._worker.raise_error()
            raise OSError("write-behind stopped")

    def write(self, data: bytes) -> None:
        self._blocks.write(data)

    def finish(self) -> None:
        """Write what is left and wait until the sink has everything."""
        self._inline = self._worker is None  # one block at most: no thread
        self._blocks.flush()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.finish()

    def stop(self, timeout: float | None = None) -> None:
        """Abandon queued blocks and end the thread (waits at most ``timeout``)."""
        self._blocks = Blocks(self.block, self._full)
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.stop(timeout)
