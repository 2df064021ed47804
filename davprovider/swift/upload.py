"""Uploads streamed into a running Swift PUT; Static Large Objects above the segment size.

``write()`` hands chunks through a bounded queue to a thread that runs
swiftclient's ``put_object`` with a file-like body, so memory stays flat. The
last chunk is held back until ``commit()``: a single PUT therefore cannot
complete (become visible) before the byte count is checked, and ``abort()``
makes the body raise, which breaks the PUT's connection; Swift then stores
nothing and the old object stays.

Above ``segment_size`` (or when the size is unknown and the body outgrows a small
spool) the bytes go to segments in ``<container>_segments``, named as the
``swift`` CLI names them, and ``commit()`` writes the SLO manifest last. A failed
or aborted upload deletes its segments; an overwritten SLO loses its old ones.

``commit()`` of a single PUT returns the entry its answer describes (Swift's
ETag, the bytes sent, ``entries.put_row``): no listing after it. An SLO's entry
comes from a ``stat``.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from swiftclient.exceptions import ClientException

from davprovider.backend import Entry, Upload

from .entries import put_row, put_time, row_entry
from .errors import translate, translated
from .sync import digest_headers

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from .backend import SwiftBackend
    from .names import Location

log = logging.getLogger("davprovider.swift")
TOKEN_PROVEN_SECONDS = 10.0  # a token Swift accepted this recently needs no check
SPOOL_LIMIT = 4 << 20  # an upload of unknown size is kept in memory up to this much
_ABORT = object()


class UploadAborted(Exception):
    """Raised inside the PUT's body to break its connection (not an OSError, so
    requests passes it through instead of retrying)."""


class _Pipe:
    """Chunks from the request thread to the PUT thread, at most ``depth`` queued."""

    def __init__(self, depth: int = 4) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._chunk = memoryview(b"")
        self._eof = False
        self.aborted = threading.Event()

    def put(self, chunk: Any, alive: Callable[[], bool]) -> None:
        while True:
            try:
                self._queue.put(chunk, timeout=0.2)
                return
            except queue.Full:
                if not alive():
                    raise BrokenPipeError(errno.EPIPE, "the Swift PUT has ended") from None

    def abort(self) -> None:
        self.aborted.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put_nowait(_ABORT)

    def _fill(self) -> None:
        while not self._chunk and not self._eof:
            item = self._queue.get()
            if item is _ABORT or self.aborted.is_set():
                raise UploadAborted()
            if item is None:
                self._eof = True
            else:
                self._chunk = memoryview(item)

    def at_eof(self) -> bool:
        self._fill()
        return self._eof and not self._chunk

    def read(self, size: int = -1) -> bytes:
        self._fill()
        take = len(self._chunk) if size is None or size < 0 else min(size, len(self._chunk))
        data, self._chunk = self._chunk[:take], self._chunk[take:]
        return bytes(data)


class _Limited:
    """At most ``limit`` bytes of a pipe (one segment), file-like for swiftclient."""

    def __init__(self, source: Any, limit: int) -> None:
        self.source, self.left = source, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data: bytes = self.source.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


class _Spool:
    """Chunks kept in memory (a small upload of unknown size), file-like."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.view = chunks, memoryview(b"")

    def read(self, size: int = -1) -> bytes:
        while not self.view and self.chunks:
            self.view = memoryview(self.chunks.pop(0))
        take = len(self.view) if size < 0 else min(size, len(self.view))
        data, self.view = self.view[:take], self.view[take:]
        return bytes(data)


class SwiftUpload(Upload):
    """One pending object write; see the module docstring."""

    def __init__(
        self,
        backend: SwiftBackend,
        path: str,
        loc: Location,
        size: int | None,
        headers: dict[str, str],
        old_slo: str | None,
    ) -> None:
        self.backend, self.path, self.loc, self.size = backend, path, loc, size
        self.headers = headers  # content type and the dead properties to keep
        self.old_slo = old_slo  # manifest etag of the SLO being replaced
        self.segment_size = backend.segment_size_for(size)
        self.segmented = size is not None and size > self.segment_size
        self.seg_container = loc.container + backend.options.segment_suffix
        self.seg_prefix = f"{loc.obj}/slo/{time.time():.6f}/{size if size is not None else 0}"
        self.seg_prefix += f"/{self.segment_size}/"
        self.segments: list[dict[str, Any]] = []
        self.tried: list[str] = []
        self.written = 0
        self.too_long = False
        self.done = False
        self.held: bytes | None = None
        self.spool: list[bytes] | None = [] if size is None else None
        self.pipe = _Pipe()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.conn: Connection | None = None
        self.digests: dict[str, str] = {}
        self.etag: str | None = None  # Swift's answer to a single PUT
        self.answer: tuple[dict[str, str], float] | None = None  # its headers, when sent

    # --- the request thread ----------------------------------------------------------

    @translated
    def write(self, data: bytes) -> None:
        if self.done:
            raise ValueError("upload already finished")
        if self.size is not None and self.written + len(data) > self.size:
            self.too_long = True
            return
        self.written += len(data)
        if not data:
            return
        if self.spool is not None:
            self.spool.append(bytes(data))
            if self.written <= min(SPOOL_LIMIT, self.segment_size):
                return
            self.segmented = True  # too big to keep: stream segments from here on
            chunks, self.spool = self.spool, None
            for chunk in chunks[:-1]:
                self._send(chunk)
            self.held = chunks[-1]
            return
        if self.held is not None:
            self._send(self.held)
        self.held = bytes(data)

    def _send(self, chunk: bytes | None) -> None:
        if self.thread is None:
            self._start()
        thread = self.thread
        assert thread is not None
        try:
            self.pipe.put(chunk, thread.is_alive)
        except BrokenPipeError:
            thread.join()
            self._raise_worker_error()
            raise

    def _raise_worker_error(self) -> None:
        error = self.error
        if error is not None:
            raise error if isinstance(error, OSError | ValueError) else translate(error, self.path)

    def _start(self) -> None:
        conn = self.conn = self.backend.pool.acquire(self.backend.identity)
        # A request without a body first: an expired token is renewed here, since a
        # streamed body cannot be sent twice. Skipped when Swift answered this token
        # moments ago (this request's own lookups, mostly).
        if self.segmented:
            conn.put_container(self.seg_container)
        elif not self._token_proven(conn):
            conn.head_container(self.loc.container)
        self.thread = threading.Thread(target=self._run, name="swift-put", daemon=True)
        self.thread.start()

    def _token_proven(self, conn: Connection) -> bool:
        now = time.monotonic()
        return conn.token is not None and any(
            other is not None
            and other.token == conn.token
            and now - getattr(other, "answered_at", 0.0) < TOKEN_PROVEN_SECONDS
            for other in (conn, self.backend.open_conn)
        )

    @property
    def kept_digests(self) -> tuple[str, ...] | None:  # type: ignore[override]
        """An SLO (or a body of unknown size, which may become one) keeps every digest
        as metadata; a single object has Swift's own MD5 and keeps nothing else."""
        return None if self.segmented or self.size is None else ()

    def set_digests(self, digests: Mapping[str, str]) -> None:
        """Checked against Swift's MD5 (a PUT sent at commit carries it as ETag, so
        Swift refuses a mismatch); an SLO keeps them as metadata (its ETag is no MD5)."""
        self.digests = dict(digests)

    @translated
    def commit(self) -> Entry:
        if self.done:
            raise ValueError("upload already finished")
        if self.too_long or (self.size is not None and self.written != self.size):
            self.abort()
            raise ValueError(f"body has {self.written} bytes, Content-Length said {self.size}")
        old_segments = self.backend.slo_segments(self.loc, self.old_slo)
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self.done = True
        self._release()
        self.backend.recent.clear()
        if old_segments:
            self.backend.delete_names(old_segments)
        return self._entry() or self.backend.stat(self.path)

    def _entry(self) -> Entry | None:
        """The stored object as a single PUT's answer describes it (``None`` for an SLO)."""
        if self.segmented or self.answer is None or not self.etag:
            return None
        headers, started = self.answer
        modified = put_time(headers.get("last-modified"), started)
        content_type = self.headers["Content-Type"]
        row = put_row(self.loc.obj, content_type, self.written, self.etag, modified)
        return row_entry(row, self.loc.name)

    def _put(
        self, conn: Connection, body: Any, length: int | None, headers: dict[str, str]
    ) -> None:
        """The single PUT of the object, its answer kept for ``_entry``."""
        answer: dict[str, Any] = {}
        started = time.time()
        etag = conn.put_object(
            self.loc.container, self.loc.obj, body, content_length=length, headers=headers,
            response_dict=answer,
        )  # fmt: skip
        self.etag = etag.strip('"') or None
        self.answer = (answer.get("headers") or {}, started)

    def _finish(self) -> None:
        if self.spool is not None:  # unknown size, small: one PUT with a known length
            self._put_whole(_Spool(self.spool), self.written)
            return
        if self.thread is None and not self.segmented:  # empty, or one chunk: one PUT
            body, self.held = self.held or b"", None
            self._put_whole(body, len(body))
            return
        if self.held is not None:
            self._send(self.held)
            self.held = None
        self._send(None)
        assert self.thread is not None and self.conn is not None
        self.thread.join()
        self._raise_worker_error()
        if self.segmented:
            self._write_manifest(self.conn)
        elif self.etag and self.digests.get("md5", self.etag) != self.etag:
            log.error("PUT %s: Swift stored MD5 %s, the gateway sent %s", self.path,
                      self.etag, self.digests["md5"])  # fmt: skip
            raise OSError(errno.EIO, f"{self.path}: Swift's MD5 differs from the bytes sent")

    def _put_whole(self, body: Any, length: int) -> None:
        """One PUT with the whole body at hand: Swift checks the gateway's MD5 (422)."""
        headers = dict(self.headers)
        if "md5" in self.digests:
            headers["ETag"] = self.digests["md5"]
        try:
            self._put(self.backend.conn, body, length, headers)
        except ClientException as exc:
            if exc.http_status != 422:
                raise
            raise OSError(
                errno.EIO, f"{self.path}: Swift's MD5 differs from the bytes sent"
            ) from exc

    def _write_manifest(self, conn: Connection) -> None:
        if self.size is None and len(self.segments) == 1:  # it fitted one segment after all
            source = quote(self.segments[0]["path"])
            headers = {**self.headers, "X-Copy-From": source, "X-Fresh-Metadata": "true"}
            conn.put_object(self.loc.container, self.loc.obj, None, headers=headers)
            self.backend.delete_names([self.segments[0]["path"]])
            return
        headers = {**self.headers, **digest_headers(self.digests)}  # no MD5 in an SLO's ETag
        conn.put_object(
            self.loc.container, self.loc.obj, json.dumps(self.segments),
            query_string="multipart-manifest=put", headers=headers,
        )  # fmt: skip

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        self.backend.recent.clear()
        self.pipe.abort()
        if self.thread is not None:
            self.thread.join(self.backend.options.timeout)
        try:
            if self.tried:
                self.backend.delete_names([f"/{self.seg_container}/{n}" for n in self.tried])
        except (OSError, ValueError) as exc:  # abort must not raise; Swift may be gone
            log.warning("could not delete the segments of %s: %s", self.path, exc)
        self._release()

    def _release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            if self.thread is not None and self.thread.is_alive():
                conn.close()  # still stuck in a request: never hand it out again
            else:
                self.backend.pool.release(conn)

    # --- the PUT thread --------------------------------------------------------------

    def _run(self) -> None:
        assert self.conn is not None
        try:
            if not self.segmented:
                self._put(self.conn, self.pipe, self.size, self.headers)
            else:
                self._put_segments(self.conn)
        except BaseException as exc:  # noqa: BLE001 - handed to the request thread
            self.error = exc

    def _put_segments(self, conn: Connection) -> None:
        index = 0
        while not self.pipe.at_eof():
            length = None
            if self.size is not None:
                length = min(self.segment_size, self.size - index * self.segment_size)
            name = f"{self.seg_prefix}{index:08d}"
            self.tried.append(name)
            body = _Limited(self.pipe, self.segment_size)
            etag = conn.put_object(self.seg_container, name, body, content_length=length)
            sent = self.segment_size - body.left
            path = f"/{self.seg_container}/{name}"
            self.segments.append({"path": path, "etag": etag, "size_bytes": sent})
            index += 1
        if len(self.segments) > self.backend.limits.max_segments:
            raise ValueError(
                f"{self.path} needs {len(self.segments)} segments, Swift allows "
                f"{self.backend.limits.max_segments}: raise segment_size"
            )


def segment_size_for(size: int | None, segment_size: int, max_segments: int, max_file: int) -> int:
    """The segment size for an upload of ``size`` bytes: the configured one, raised
    when the object would need more segments than Swift accepts in a manifest."""
    if size is None or size <= segment_size:
        return min(segment_size, max_file)
    return min(max(segment_size, math.ceil(size / max_segments)), max_file)
