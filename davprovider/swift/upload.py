"""Uploads streamed into a running Swift PUT; Static Large Objects above the segment size.

``write()`` hands chunks through a bounded queue (``pipeline.Worker``) to a thread
that runs swiftclient's ``put_object`` with a file-like body, so memory stays flat. The
last chunk is held back until ``commit()``: a single PUT therefore cannot
complete (become visible) before the byte count is checked, and ``abort()``
makes the body raise, which breaks the PUT's connection; Swift then stores
nothing and the old object stays.

Above ``segment_size`` (or when the size is unknown and the body outgrows a small
spool) the bytes go to segments in ``<container>_segments``, named as the
``swift`` CLI names them, and ``commit()`` writes the SLO manifest last. A failed
or aborted upload deletes its segments; an overwritten SLO loses its old ones.

Digests other than MD5 travel with the object's own PUT (``plan_digests``): a small body
is held until ``commit()`` and sent whole, a larger one becomes an SLO whose manifest
carries them. Nothing is POSTed or read back after an upload.

``commit()`` of a single PUT returns the entry its answer describes (Swift's
ETag, the bytes sent, ``entries.put_row``): no listing after it. An SLO's entry
comes from a listing (``Account.lookup``).
"""

from __future__ import annotations

import errno
import json
import logging
import time
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from swiftclient.exceptions import ClientException

from davprovider.backend import Entry, Upload
from davprovider.pipeline import END, Worker

from .bulk import bulk_delete, slo_segments
from .entries import mtime_text, put_row, put_time, row_entry, with_md5, with_mtime
from .errors import translate, translated
from .sync import digest_headers

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from .account import Account
    from .names import Location

log = logging.getLogger("davprovider.swift")
TOKEN_PROVEN_SECONDS = 10.0  # a token Swift accepted this recently needs no check
SPOOL_LIMIT = 4 << 20  # an upload of unknown size is kept in memory up to this much


class UploadAborted(Exception):
    """Raised inside the PUT's body to break its connection (not an OSError, so
    requests passes it through instead of retrying)."""


class _Body:
    """What the request thread queues on the PUT's ``Worker``, file-like for swiftclient
    (read in the PUT thread). The worker's ``end()`` is the end of the body; its
    ``stop()`` makes the next read raise ``UploadAborted``."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._chunk = memoryview(b"")
        self._eof = False

    def _fill(self) -> None:
        while not self._chunk and not self._eof:
            item = self.worker.get()
            if item is END and self.worker.stopping.is_set():
                raise UploadAborted()
            if item is END:
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
    """At most ``limit`` bytes of a body (one segment), file-like for swiftclient."""

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

    digests_as_given = True  # every digest but the ETag's MD5 goes with the PUT

    def __init__(
        self,
        account: Account,
        path: str,
        loc: Location,
        size: int | None,
        headers: dict[str, str],
        old_slo: str | None,
    ) -> None:
        self.account, self.path, self.loc, self.size = account, path, loc, size
        self.headers = headers  # content type and the dead properties to keep
        self.old_slo = old_slo  # manifest etag of the SLO being replaced
        self.segment_size = account.segment_size_for(size)
        self.segmented = size is not None and size > self.segment_size
        self.seg_container = loc.container + account.options.segment_suffix
        self.seg_prefix = f"{loc.obj}/slo/{time.time():.6f}/{size if size is not None else 0}"
        self.seg_prefix += f"/{self.segment_size}/"
        self.segments: list[dict[str, Any]] = []
        self.tried: list[str] = []
        self.written = 0
        self.too_long = False
        self.done = False
        self.held: bytes | None = None
        self.spool: list[bytes] | None = [] if size is None else None
        self.worker: Worker | None = None  # the PUT thread, fed chunks (at most 4 wait)
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

    def _send(self, chunk: bytes) -> None:
        worker = self.worker or self._start()
        if not worker.put(chunk):
            worker.join()
            self._raise_worker_error()
            raise BrokenPipeError(errno.EPIPE, "the Swift PUT has ended")

    def _raise_worker_error(self) -> None:
        error = self.worker.error if self.worker is not None else None
        if error is not None:
            raise error if isinstance(error, OSError | ValueError) else translate(error, self.path)

    def _start(self) -> Worker:
        conn = self.conn = self.account.pool.acquire(self.account.identity)
        # A request without a body first: an expired token is renewed here, since a
        # streamed body cannot be sent twice. Skipped when Swift answered this token
        # moments ago (this request's own lookups, mostly).
        if self.segmented:
            conn.put_container(self.seg_container)
        elif not self._token_proven(conn):
            conn.head_container(self.loc.container)
        self.worker = Worker(self._run, depth=4, name="swift-put")
        return self.worker

    def _token_proven(self, conn: Connection) -> bool:
        now = time.monotonic()
        return conn.token is not None and any(
            other is not None
            and other.token == conn.token
            and now - getattr(other, "answered_at", 0.0) < TOKEN_PROVEN_SECONDS
            for other in (conn, self.account.open_conn)
        )

    def plan_digests(self, algorithms: Collection[str]) -> None:
        """Digests other than MD5 (a single object's ETag) are metadata sent with the
        object's own PUT, never a POST after it; so the PUT must start once they are
        known: a body of at most ``SPOOL_LIMIT`` bytes is held until ``commit()``, a
        larger one becomes an SLO whose manifest (sent last) carries them."""
        if self.size is None or self.segmented or all(a == "md5" for a in algorithms):
            return
        if self.size <= min(SPOOL_LIMIT, self.segment_size):
            self.spool = []
        else:
            self.segmented = True

    def pin_mtime(self, mtime: float) -> bool:
        """The time travels with the object's PUT (or an SLO's manifest) as
        ``set_mtime`` writes it: the Content-Type parameter listings carry, and
        ``X-Object-Meta-Mtime``."""
        self.headers["Content-Type"] = with_mtime(self.headers["Content-Type"], mtime)
        self.headers["X-Object-Meta-Mtime"] = mtime_text(mtime)
        return True

    def set_digests(self, digests: Mapping[str, str]) -> None:
        """Checked against Swift's MD5 (a PUT sent at commit carries it as ETag, so
        Swift refuses a mismatch); the others (and an SLO's MD5, its ETag being none)
        go with the PUT as ``X-Object-Meta-Digest-*`` (``plan_digests``)."""
        self.digests = dict(digests)

    def _digest_headers(self) -> dict[str, str]:
        """The digests a single object keeps as metadata: all but the ETag's MD5."""
        return digest_headers({a: v for a, v in self.digests.items() if a != "md5"})

    @translated
    def commit(self) -> Entry:
        if self.done:
            raise ValueError("upload already finished")
        if self.too_long or (self.size is not None and self.written != self.size):
            self.abort()
            raise ValueError(f"body has {self.written} bytes, Content-Length said {self.size}")
        old_segments = slo_segments(self.account, self.loc, self.old_slo)
        try:
            self._finish()
        except BaseException:
            self.abort()
            raise
        self.done = True
        self._release()
        self.account.recent.clear()
        if old_segments:
            bulk_delete(self.account, old_segments)
        return self._entry() or self.account.lookup(self.loc)[0]

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
        if self.worker is None and not self.segmented:  # empty, or one chunk: one PUT
            body, self.held = self.held or b"", None
            self._put_whole(body, len(body))
            return
        if self.held is not None:
            self._send(self.held)
            self.held = None
        worker = self.worker or self._start()  # an empty body of unknown length
        worker.end()
        worker.join()
        self._raise_worker_error()
        assert self.conn is not None
        if self.segmented:
            self._write_manifest(self.conn)
        elif self.etag and self.digests.get("md5", self.etag) != self.etag:
            log.error("PUT %s: Swift stored MD5 %s, the gateway sent %s", self.path,
                      self.etag, self.digests["md5"])  # fmt: skip
            raise OSError(errno.EIO, f"{self.path}: Swift's MD5 differs from the bytes sent")

    def _put_whole(self, body: Any, length: int) -> None:
        """One PUT with the whole body at hand: Swift checks the gateway's MD5 (422)."""
        headers = {**self.headers, **self._digest_headers()}
        if "md5" in self.digests:
            headers["ETag"] = self.digests["md5"]
        try:
            self._put(self.account.conn, body, length, headers)
        except ClientException as exc:
            if exc.http_status != 422:
                raise
            raise OSError(
                errno.EIO, f"{self.path}: Swift's MD5 differs from the bytes sent"
            ) from exc

    def _write_manifest(self, conn: Connection) -> None:
        if self.size is None and len(self.segments) == 1:  # it fitted one segment after all
            source = quote(self.segments[0]["path"])
            headers = {**self.headers, **self._digest_headers()}
            headers |= {"X-Copy-From": source, "X-Fresh-Metadata": "true"}
            conn.put_object(self.loc.container, self.loc.obj, None, headers=headers)
            bulk_delete(self.account, [self.segments[0]["path"]])
            return
        if len(self.segments) == 1 and "md5" not in self.digests:  # Swift's, for free
            self.digests["md5"] = str(self.segments[0]["etag"]).strip('"')
        headers = {**self.headers, **digest_headers(self.digests)}  # no MD5 in an SLO's ETag
        if "md5" in self.digests:  # where listings show it (``entries.MD5_PARAM``)
            headers["Content-Type"] = with_md5(headers["Content-Type"], self.digests["md5"])
        conn.put_object(
            self.loc.container, self.loc.obj, json.dumps(self.segments),
            query_string="multipart-manifest=put", headers=headers,
        )  # fmt: skip

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        self.account.recent.clear()
        if self.worker is not None:
            self.worker.stop(self.account.options.timeout)
        try:
            if self.tried:
                bulk_delete(self.account, [f"/{self.seg_container}/{n}" for n in self.tried])
        except (OSError, ValueError) as exc:  # abort must not raise; Swift may be gone
            log.warning("could not delete the segments of %s: %s", self.path, exc)
        self._release()

    def _release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            if self.worker is not None and self.worker.thread.is_alive():
                conn.close()  # still stuck in a request: never hand it out again
            else:
                self.account.pool.release(conn)

    # --- the PUT thread --------------------------------------------------------------

    def _run(self, worker: Worker) -> None:
        """The PUT (or the segments' PUTs) of what the request thread queues; an error
        ends it and is raised in the request thread (``Worker``)."""
        assert self.conn is not None
        if not self.segmented:
            self._put(self.conn, _Body(worker), self.size, self.headers)
        else:
            self._put_segments(self.conn, _Body(worker))

    def _put_segments(self, conn: Connection, pipe: _Body) -> None:
        index = 0
        while not pipe.at_eof():
            length = None
            if self.size is not None:
                length = min(self.segment_size, self.size - index * self.segment_size)
            name = f"{self.seg_prefix}{index:08d}"
            self.tried.append(name)
            body = _Limited(pipe, self.segment_size)
            etag = conn.put_object(self.seg_container, name, body, content_length=length)
            sent = self.segment_size - body.left
            path = f"/{self.seg_container}/{name}"
            self.segments.append({"path": path, "etag": etag, "size_bytes": sent})
            index += 1
        if len(self.segments) > self.account.limits.max_segments:
            raise ValueError(
                f"{self.path} needs {len(self.segments)} segments, Swift allows "
                f"{self.account.limits.max_segments}: raise segment_size"
            )
