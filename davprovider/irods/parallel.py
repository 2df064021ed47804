"""Parallel iRODS streams for large transfers (``parallel_streams`` above
``parallel_threshold``), as python-irodsclient's own parallel transfer does it.

The object is opened once (the primary handle); its replica token and resource
hierarchy (``replica_access_info``) let more connections open the same replica
(secondary handles, closed with REPLICA_CLOSE, before the primary, whose close
finalizes the replica and registers its checksum). The bytes go in ``BLOCK`` pieces,
block k by stream k mod n, each stream a thread of its own (``pipeline.Worker``)
with a seek before every block:

- ``ParallelWriter``: an upload of known length. Blocks are handed out as the body
  arrives; each stream holds at most one block queued and one being written, and
  gives each buffer back to be filled again (``pipeline.Blocks``).
- ``ParallelReader``: a GET. Each stream reads its blocks ahead, one queued, into
  buffers the reader gives back once past them (``pipeline.Buffers``); the reader
  takes them in order (the queues are the reorder buffer).

Memory per transfer: at most 2 blocks per stream, and one being gathered: with 4
streams of 4 MiB, 36 MiB. Errors of a stream surface in the request's thread.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from irods import keywords as kw

from davprovider.pipeline import END, BlockReader, Blocks, Worker

from .errors import BROKEN
from .wire import open_raw, write

log = logging.getLogger("davprovider.irods")
BLOCK = 4 << 20
SECONDARY_WRITE = 1  # O_WRONLY: the object exists; neither created nor truncated
SECONDARY_READ = 0


def secondaries(
    session: Any, path: str, primary: Any, flags: int, streams: int, size: int
) -> list[Any]:
    """``streams - 1`` more handles on the primary's replica (closed on failure)."""
    token, hierarchy = primary.replica_access_info()
    options = {
        kw.NUM_THREADS_KW: str(streams), kw.DATA_SIZE_KW: str(size),
        kw.RESC_HIER_STR_KW: hierarchy, kw.REPLICA_TOKEN_KW: token,
    }  # fmt: skip
    opened: list[Any] = []
    try:
        for _ in range(streams - 1):
            opened.append(open_raw(session, path, flags, options, finalize=False))
    except BaseException:
        close_all(opened)
        raise
    return opened


def close_all(handles: list[Any]) -> None:
    """Close ``handles`` (secondaries), logging failures: the caller decides."""
    for handle in handles:
        try:
            handle.close()
        except (*BROKEN, OSError, Exception) as exc:  # noqa: BLE001 - logged, then dropped
            log.info("closing a parallel stream failed: %r", exc)


def _writes(raw: Any, blocks: Blocks) -> Callable[[Worker], None]:
    def drain(worker: Worker) -> None:
        while (item := worker.get()) is not END:
            offset, buffer, length = item
            raw.seek(offset)
            with memoryview(buffer) as view, view[:length] as data:
                write(raw, data)
            blocks.give_back(buffer)

    return drain


class ParallelWriter:
    """``WriteBehind``'s interface (``write``, ``finish``, ``stop``) over the primary
    ``raw`` and its secondaries: block k goes to stream k mod n, at the offset where
    the blocks before it end (``BLOCK`` bytes each; the first may be longer and the
    last shorter: ``Blocks``)."""

    def __init__(self, session: Any, path: str, raw: Any, size: int, streams: int) -> None:
        self.others = secondaries(session, path, raw, SECONDARY_WRITE, streams, size)
        handles = [raw, *self.others]
        self.blocks = Blocks(BLOCK, self._queue)
        self.workers = [Worker(_writes(h, self.blocks), 1, "parallel-put") for h in handles]
        self.offset = self.turn = 0

    def _queue(self, buffer: bytearray, length: int) -> None:
        worker = self.workers[self.turn % len(self.workers)]
        self.turn += 1
        if not worker.put((self.offset, buffer, length)):
            worker.raise_error()
            raise OSError("parallel stream stopped")
        self.offset += length

    def write(self, data: bytes) -> None:
        self.blocks.write(data)

    def finish(self) -> None:
        """Write what is left, wait for every stream, close the secondaries (the
        caller closes the primary after them)."""
        self.blocks.flush()
        for worker in self.workers:
            worker.end()
        for worker in self.workers:
            worker.join()
        try:
            for worker in self.workers:
                worker.raise_error()
        finally:
            others, self.others = self.others, []
            close_all(others)

    def stop(self, timeout: float | None = None) -> None:
        self.blocks = Blocks(BLOCK, self._queue)  # what was gathered is dropped
        for worker in self.workers:
            worker.stop(timeout)
        others, self.others = self.others, []
        close_all(others)


class ParallelReader(BlockReader):
    """The object behind the primary ``raw`` (``size`` bytes), read ahead by
    ``streams`` streams; ``seek`` starts them again at the new position."""

    def __init__(self, session: Any, path: str, raw: Any, size: int, streams: int) -> None:
        super().__init__()
        self.raw, self.size = raw, size
        self.others = secondaries(session, path, raw, SECONDARY_READ, streams, size)
        self.handles = [raw, *self.others]
        self.workers: list[Worker] = []
        self.base = self.taken = 0

    def _reads(self, index: int) -> Callable[[Worker], None]:
        handle, step = self.handles[index], len(self.handles) * BLOCK
        start = self.base + index * BLOCK

        def fill(worker: Worker) -> None:
            for offset in range(start, self.size, step):
                want = min(BLOCK, self.size - offset)
                buffer = self.buffers.take(BLOCK)  # given back once the reader is past it
                handle.seek(offset)
                count = handle.readinto(memoryview(buffer)[:want]) or 0
                if not worker.put((buffer, count)) or count < want:
                    return

        return fill

    def _next(self) -> bool:
        if self.base + self.taken * BLOCK >= self.size:
            return False
        if not self.workers:
            self.workers = [
                Worker(self._reads(i), 1, "parallel-get") for i in range(len(self.handles))
            ]
        worker = self.workers[self.taken % len(self.workers)]
        item = worker.get()
        if item is END or not item[1]:
            worker.raise_error()
            raise OSError("parallel stream ended early")
        self.taken += 1
        self._hold(*item)
        return True

    def _halt(self) -> None:
        for worker in self.workers:
            worker.stop()
        self._release()
        self.workers, self.taken = [], 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence] + offset
        if target != self._pos:
            self._halt()
            self._pos = self.base = max(0, target)
        return self._pos

    def _close_source(self) -> None:
        close_all(self.others)
        self.raw.close()
