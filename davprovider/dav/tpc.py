"""HTTP third-party copy as WLCG storage does it (dCache and StoRM WebDAV are the models),
and COPY/MOVE between two shares of this gateway: a WsgiDAV middleware after the
authenticator, so the caller is known and every backend call acts as them.

- Pull: ``COPY /share/file`` with ``Source: <URL>``: the gateway GETs the URL and writes
  the request's path through the storage contract, like a PUT (``put.Writer``: hashed
  while streaming, verified, atomic: nothing visible before the commit).
- Push: ``COPY /share/file`` with a ``Destination:`` URL on another server: the gateway
  PUTs the file there, with ``Digest:`` from its stored checksums when it has one (the
  remote can verify it).
- Both answer ``202 Accepted``, ``Content-Type: text/perf-marker-stream``: a performance
  marker block at once and then every ``tpc.marker_interval`` seconds, the last line
  ``success: Created`` or ``failure: <reason>`` (a failed pull leaves nothing behind).
  ``Credential: none`` (or none given) is served: the remote is reached with the
  ``TransferHeader*`` headers only (``remote.py``). ``Credential: gridsite`` asks for
  X.509 delegation, which the gateway does not offer: ``501``, after which gfal2 and FTS
  fall back to a streamed copy. ``RequireChecksumVerification: true`` fails a pull whose
  source offers no checksum (``Want-Digest`` is sent for ADLER32, MD5 and SHA-256; a
  checksum it offers is always verified); ``Overwrite: F`` refuses an existing target.
- Between shares: ``COPY``/``MOVE`` whose ``Destination`` is another share of this
  gateway (WsgiDAV answers 502 there): files stream from one backend to the other (a
  folder member by member, ``Depth: 0`` copying the folder alone), the caller
  authenticated for the destination share by its own chain; ``201``/``204``.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_NOT_IMPLEMENTED,
    HTTP_PRECONDITION_FAILED,
    DAVError,
)
from wsgidav.mw.base_mw import BaseMiddleware

from auth.controller import ENVIRON_KEY, SETTINGS_KEY
from davprovider.backend import Backend, Entry
from davprovider.dav.copymove import backend_path
from davprovider.dav.errors import backend_errors, optional
from davprovider.dav.liveprops import CACHE_KEY
from davprovider.dav.provider import BACKEND_KEY
from davprovider.dav.put import Writer
from davprovider.dav.remote import Remote, RemoteError, check_url, headers_to_forward
from davprovider.digests import Expectation, digest_header, expected_digests
from davprovider.settings import ChecksumSettings, Settings

log = logging.getLogger("davprovider.dav.tpc")
StartResponse = Callable[..., Any]
PIECE = 1 << 20  # bytes per read from the source
WANT_DIGEST = "adler32;q=1, md5;q=0.8, sha-256;q=0.5"
VERIFIED = ("adler32", "md5", "sha-256")


def perf_marker(moved: int) -> bytes:
    """One marker block, as dCache and StoRM send them (read by davix and XRootD)."""
    return (
        f"Perf Marker\n\tTimestamp: {int(time.time())}\n\tStripe Index: 0\n"
        f"\tStripe Bytes Transferred: {moved}\n\tTotal Stripe Count: 1\nEnd\n"
    ).encode()


def markers(steps: Iterator[int], interval: float, what: str) -> Iterator[bytes]:
    """The answer body of a transfer: ``steps`` yields the bytes moved so far after
    each piece; a marker at once, then every ``interval`` seconds, then the outcome.
    Never raises: a failure is its last line."""
    moved, last = 0, time.monotonic()
    yield perf_marker(0)
    try:
        for moved in steps:
            if time.monotonic() - last >= interval:
                last = time.monotonic()
                yield perf_marker(moved)
    except Exception as exc:  # noqa: BLE001 - every failure is reported in the stream
        reason = _reason(exc)
        log.warning("third-party copy %s failed after %d bytes: %s", what, moved, reason)
        yield f"failure: {reason}\n".encode()
        return
    log.info("third-party copy %s done: %d bytes", what, moved)
    yield perf_marker(moved) + b"success: Created\n"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DAVError):
        detail = exc.context_info or ""
        return f"{exc.value} {detail}".strip().replace("\n", " ")[:300]
    if isinstance(exc, RemoteError | OSError | ValueError):
        return (str(exc) or type(exc).__name__).replace("\n", " ")[:300]
    log.exception("third-party copy: unexpected error")
    return "internal error"


def source_expectations(digest: str | None) -> list[Expectation]:
    """The cheapest checksum a source's ``Digest`` header offers (ADLER32, then MD5, then
    SHA-256), to verify the copy against."""
    try:
        found = {a: v for _, a, v in expected_digests({"HTTP_DIGEST": digest or ""})}
    except ValueError:
        return []
    return [("source Digest", a, found[a]) for a in VERIFIED if a in found][:1]


def pull_steps(
    remote: Remote,
    backend: Backend,
    path: str,
    url: str,
    headers: dict[str, str],
    checksums: ChecksumSettings,
    verify: bool,
) -> Iterator[int]:
    """GET ``url`` into ``path`` (see the module docstring); yields bytes moved."""
    conn, answer = remote.open_get(url, {**headers, "Want-Digest": WANT_DIGEST})
    try:
        length = answer.getheader("Content-Length", "")
        size = int(length) if length.strip().isdigit() else None
        expected = source_expectations(answer.getheader("Digest"))
        if verify and not expected:
            raise RemoteError("the source offers no checksum to verify the copy against")
        # the source's checksum is verified, and ``checksums.upload`` kept, as for a large
        # PUT: no sync client will compare the others
        yield from write_steps(backend, path, answer.read, size, expected, checksums)
    finally:
        conn.close()


def write_steps(
    backend: Backend,
    path: str,
    read: Callable[[int], bytes],
    size: int | None,
    expected: list[Expectation],
    checksums: ChecksumSettings,
) -> Iterator[int]:
    """``read`` to its end into an upload of ``path`` (a PUT's ``Writer``: hashed,
    ``expected`` digests verified, atomic); yields bytes moved. Fewer bytes than ``size``
    abort it."""
    with backend_errors(path):
        upload = backend.open_write(path, size=size)
    writer = Writer(upload, path, expected, checksums.for_upload(size, False))
    try:
        moved = 0
        while piece := read(PIECE):
            writer.write(piece)
            moved += len(piece)
            yield moved
        if size is not None and moved != size:
            raise RemoteError(f"the source sent {moved} of {size} bytes")
        writer.close()
    except BaseException:
        writer.abort()
        raise


def push_steps(
    remote: Remote, backend: Backend, path: str, entry: Entry, url: str, headers: dict[str, str]
) -> Iterator[int]:
    """PUT the file at ``path`` to ``url``; yields bytes moved."""
    with backend_errors(path):
        stream = backend.open_read(path)
    try:
        entry = getattr(stream, "entry", None) or entry
        sent = {**headers, "Content-Length": str(entry.size or 0)}
        known: dict[str, str] = optional(
            lambda: backend.digests(path, entry, VERIFIED), dict, "digests"
        )
        if known:
            sent["Digest"] = digest_header(known, VERIFIED)
        conn = remote.open_put(url, sent)
        try:
            moved = 0
            while piece := stream.read(PIECE):
                remote.send(conn, piece)
                moved += len(piece)
                yield moved
            remote.end_put(conn)
        finally:
            conn.close()
    finally:
        stream.close()


def _flag(environ: dict[str, Any], name: str) -> str:
    return str(environ.get(name, "")).strip().lower()


class ThirdPartyCopy(BaseMiddleware):
    """WsgiDAV middleware: pull, push and copies between shares (module docstring)."""

    def __init__(self, wsgidav_app: Any, next_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)
        self.settings: Settings = config[SETTINGS_KEY]
        self.remote = Remote(self.settings.tpc)

    def is_disabled(self) -> bool:
        return False  # tpc.enabled: checked per request (shares between them always work)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, provider = environ["REQUEST_METHOD"], environ.get("wsgidav.provider")
        if method not in ("COPY", "MOVE") or not hasattr(provider, "factory"):
            return self.next_app(environ, start_response)
        enabled = self.settings.tpc.enabled and method == "COPY"
        if enabled and environ.get("HTTP_SOURCE"):
            return self._pull(environ, start_response, provider)
        destination = str(environ.get("HTTP_DESTINATION", ""))
        parts = urlsplit(destination)
        host = str(environ.get("HTTP_HOST", "")).lower()
        if parts.netloc and parts.netloc.lower() != host:
            if enabled:
                return self._push(environ, start_response, provider, destination)
            return self.next_app(environ, start_response)
        target = unquote(parts.path)
        share, other = self.wsgidav_app.resolve_provider(target)
        if other is None or other is provider or not hasattr(other, "factory"):
            return self.next_app(environ, start_response)
        path = backend_path(target[len(share) :])
        return self._between(environ, start_response, provider, other, path)

    # --- WLCG third-party copy ------------------------------------------------------

    def _check_credential(self, environ: dict[str, Any]) -> None:
        credential = _flag(environ, "HTTP_CREDENTIAL") or "none"
        if credential != "none":
            raise DAVError(
                HTTP_NOT_IMPLEMENTED,
                f"Credential: {credential[:40]} (delegation) is not supported; "
                "use Credential: none with TransferHeaderAuthorization",
            )

    def _stream(self, start_response: StartResponse, steps: Iterator[int], what: str) -> Any:
        start_response(
            "202 Accepted",
            [("Content-Type", "text/perf-marker-stream"), ("Cache-Control", "no-store")],
        )
        return markers(steps, self.settings.tpc.marker_interval, what)

    def _pull(self, environ: dict[str, Any], start_response: StartResponse, provider: Any) -> Any:
        self._check_credential(environ)
        source = str(environ["HTTP_SOURCE"]).strip()
        try:
            check_url(source)
        except ValueError as exc:
            raise DAVError(HTTP_BAD_REQUEST, f"Source: {exc}") from None
        if provider.is_readonly():
            raise DAVError(HTTP_FORBIDDEN, "this share is read-only")
        path = backend_path(environ["PATH_INFO"])
        backend = provider.backend(environ)
        _check_target(backend, path, _flag(environ, "HTTP_OVERWRITE") != "f")
        verify = _flag(environ, "HTTP_REQUIRECHECKSUMVERIFICATION") == "true"
        headers = headers_to_forward(environ)
        log.info("third-party copy (pull) into %s%s", provider.share.path, path)
        steps = pull_steps(
            self.remote, backend, path, source, headers, self.settings.checksums, verify
        )
        return self._stream(start_response, steps, f"pull into {provider.share.path}{path}")

    def _push(
        self, environ: dict[str, Any], start_response: StartResponse, provider: Any, url: str
    ) -> Any:
        self._check_credential(environ)
        try:
            check_url(url)
        except ValueError as exc:
            raise DAVError(HTTP_BAD_REQUEST, f"Destination: {exc}") from None
        path = backend_path(environ["PATH_INFO"])
        backend = provider.backend(environ)
        with backend_errors(path):
            entry = backend.stat(path)
        if entry.is_dir:
            raise DAVError(HTTP_NOT_IMPLEMENTED, "third-party copy of a folder is not supported")
        headers = headers_to_forward(environ)
        if _flag(environ, "HTTP_OVERWRITE") == "f":
            headers["If-None-Match"] = "*"
        log.info("third-party copy (push) of %s%s", provider.share.path, path)
        steps = push_steps(self.remote, backend, path, entry, url, headers)
        return self._stream(start_response, steps, f"push of {provider.share.path}{path}")

    # --- between two shares of this gateway -----------------------------------------

    def _between(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        provider: Any,
        other: Any,
        path: str,
    ) -> Iterable[bytes]:
        source_path = backend_path(environ["PATH_INFO"])
        source = provider.backend(environ)
        with backend_errors(source_path):
            entry = source.stat(source_path)
        moving = environ["REQUEST_METHOD"] == "MOVE"
        if other.is_readonly() or (moving and provider.is_readonly()):
            raise DAVError(HTTP_FORBIDDEN, "the share is read-only")
        target = self._backend_for(environ, other)
        overwrite = _flag(environ, "HTTP_OVERWRITE") != "f"
        existed = _clear_target(target, path, overwrite, entry.is_dir)
        if entry.is_dir:
            deep = moving or _flag(environ, "HTTP_DEPTH") in ("", "infinity")
            copy_tree(source, source_path, target, path, self.settings.checksums, deep)
        else:
            for _ in copy_file(source, source_path, entry, target, path, self.settings.checksums):
                pass
        if moving:
            with backend_errors(source_path):
                source.remove(source_path, recursive=entry.is_dir)
        status = "204 No Content" if existed else "201 Created"
        start_response(status, [("Content-Length", "0")])
        return [b""]

    def _backend_for(self, environ: dict[str, Any], other: Any) -> Backend:
        """The caller's backend on ``other``'s share, authenticated by its chain."""
        scoped = {
            k: v for k, v in environ.items() if k not in (ENVIRON_KEY, BACKEND_KEY, CACHE_KEY)
        }
        scoped["wsgidav.provider"] = other
        scoped["REQUEST_METHOD"] = "PUT"
        controller = self.wsgidav_app.http_authenticator.get_domain_controller()
        if controller.require_authentication(other.share.path, scoped):
            raise DAVError(HTTP_FORBIDDEN, f"no credentials accepted for {other.share.path}")
        backend: Backend = other.backend(scoped)
        return backend


def _existing(backend: Backend, path: str) -> Entry | None:
    """What is at ``path``, ``None`` when nothing is (other failures as ``DAVError``)."""
    try:
        with backend_errors(path):
            return backend.stat(path)
    except DAVError as error:
        if error.value == 404:
            return None
        raise


def _check_target(backend: Backend, path: str, overwrite: bool) -> bool:
    """Whether a file is at ``path`` (412 when ``overwrite`` is off, 409 for a folder)."""
    existing = _existing(backend, path)
    if existing is None:
        return False
    if existing.is_dir:
        raise DAVError(HTTP_CONFLICT, "the target is a folder")
    if not overwrite:
        raise DAVError(HTTP_PRECONDITION_FAILED, "the target exists and Overwrite is F")
    return True


def _clear_target(backend: Backend, path: str, overwrite: bool, folder: bool) -> bool:
    """Whether something is at ``path``; 412 when ``overwrite`` is off; removed when a
    folder is involved (RFC 4918 §9.8.4: the target is deleted first; a file over a
    file is replaced atomically by the upload instead)."""
    existing = _existing(backend, path)
    if existing is None:
        return False
    if not overwrite:
        raise DAVError(HTTP_PRECONDITION_FAILED, "the target exists and Overwrite is F")
    if folder or existing.is_dir:
        with backend_errors(path):
            backend.remove(path, recursive=True)
    return True


def copy_tree(
    source: Backend,
    source_path: str,
    target: Backend,
    path: str,
    checksums: ChecksumSettings,
    deep: bool,
) -> None:
    """A folder from ``source`` to ``target``, its members too when ``deep``; the first
    failure ends it (what was copied stays, as with a failed COPY of a folder)."""
    with backend_errors(path):
        target.mkdir(path)
        meta = source.get_meta(source_path)
        if meta:
            target.set_meta(path, meta)
    if not deep:
        return
    with backend_errors(source_path):
        members = source.list(source_path)
    for member in members:
        here = posixpath.join(source_path, member.name)
        there = posixpath.join(path, member.name)
        if member.is_dir:
            copy_tree(source, here, target, there, checksums, deep)
        else:
            for _ in copy_file(source, here, member, target, there, checksums):
                pass


def copy_file(
    source: Backend,
    source_path: str,
    entry: Entry,
    target: Backend,
    path: str,
    checksums: ChecksumSettings,
) -> Iterator[int]:
    """Stream one file from ``source`` to ``target`` through the contract, its dead
    properties after it; yields bytes moved."""
    with backend_errors(source_path):
        stream = source.open_read(source_path)
    try:
        size = getattr(getattr(stream, "entry", None), "size", entry.size)
        yield from write_steps(target, path, stream.read, size, [], checksums)
    finally:
        stream.close()
    with backend_errors(path):
        meta = source.get_meta(source_path)
        if meta:
            target.set_meta(path, meta)
