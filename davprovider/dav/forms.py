"""The web interface's actions: ``POST`` to a folder URL, from the listing's forms.

- ``multipart/form-data``: upload. Each file part streams into ``Backend.open_write``
  through the same ``Writer`` and ``Upload`` as a PUT (``put.py``): hashed on the way,
  committed when the part's closing boundary has arrived, aborted otherwise (a broken
  connection, a malformed body, a backend error): nothing half-written ever shows.
  The body is parsed by ``python-multipart``'s streaming parser, one block at a time;
  it is never read whole.
- ``application/x-www-form-urlencoded`` (at most ``FORM_LIMIT`` bytes): ``action`` is
  ``mkdir`` (``name``), ``delete`` (``name``; an unconfirmed delete is answered with a
  confirmation page), or ``rename`` (``name``, ``to``; never over an existing name).

Cross-site requests are refused (``check_same_origin``) before anything is read: a
form on another site can make a browser POST here with the credentials it holds (the
only such request a page can send without CORS; PUT, DELETE and MOVE need a preflight
we never grant). We compare what the browser says about the request's origin, which a
page cannot forge: ``Sec-Fetch-Site`` must be ``same-origin`` and ``Origin``, when
sent, must name this host; a POST with neither is refused (every current browser sends
them). Stateless, so it holds behind a load balancer and across restarts, and needs no
cookie. Writes also respect WebDAV locks (423 without the lock's token), the share's
``read_only``, anonymous access (read only) and ``apple_files``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_LOCKED,
    HTTP_MEDIATYPE_NOT_SUPPORTED,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
)

from auth.controller import ENVIRON_KEY
from davprovider.dav.clients import is_apple_file
from davprovider.dav.errors import backend_errors
from davprovider.dav.liveprops import forget
from davprovider.dav.put import Writer
from davprovider.dav.resources import backend_path, child_path

log = logging.getLogger("davprovider.dav.forms")

FORM_LIMIT = 64 * 1024
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def check_same_origin(environ: dict[str, Any]) -> None:
    """403 unless the browser says the POST comes from a page of this origin."""
    site = environ.get("HTTP_SEC_FETCH_SITE")
    origin = environ.get("HTTP_ORIGIN")
    if site is None and origin is None:
        raise DAVError(HTTP_FORBIDDEN, "cross-site check: the request names no origin")
    if site is not None and site.strip().lower() != "same-origin":
        raise DAVError(HTTP_FORBIDDEN, f"cross-site request refused ({site})")
    if origin is not None and not _same_host(origin, environ):
        raise DAVError(HTTP_FORBIDDEN, "cross-site request refused (Origin is another site)")


def _same_host(origin: str, environ: dict[str, Any]) -> bool:
    parts = urlsplit(origin.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return False  # "null" (a sandboxed page, a file) or garbage
    return _host(parts.netloc, parts.scheme) == _host(environ.get("HTTP_HOST", ""), parts.scheme)


def _host(netloc: str, scheme: str) -> str:
    netloc = netloc.strip().lower()
    suffix = ":" + _DEFAULT_PORTS[scheme]
    return netloc[: -len(suffix)] if netloc.endswith(suffix) else netloc


def check_name(name: str) -> str:
    """A member name as typed or sent: one path segment, or 400."""
    if name in ("", ".", "..") or "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise DAVError(HTTP_BAD_REQUEST, f"not a valid name: {name!r}")
    return name


class Actions:
    """The POST actions on ``folder`` (a ``FolderResource``) of ``provider``."""

    def __init__(self, environ: dict[str, Any], provider: Any, folder: Any) -> None:
        self.environ = environ
        self.provider = provider
        self.folder = folder
        self.path = backend_path(folder.path)
        self.user = environ.get("wsgidav.auth.user_name") or ""

    def check_writable(self) -> None:
        identity = self.environ.get(ENVIRON_KEY)
        if identity is None or identity.is_anonymous:
            raise DAVError(HTTP_FORBIDDEN, "anonymous access is read-only")
        if self.provider.is_readonly():
            raise DAVError(HTTP_FORBIDDEN, "this share is read-only")

    def check_unlocked(self, path: str, depth: str = "0") -> None:
        """423 when a WebDAV lock covers ``path`` (share path): the browser has no token."""
        manager = self.provider.lock_manager
        if manager is None:
            return
        url = quote(self.provider.share_path + path)
        try:
            manager.check_write_permission(url=url, depth=depth, token_list=[], principal=self.user)
        except DAVError as error:
            if error.value != HTTP_LOCKED:
                raise
            raise DAVError(HTTP_LOCKED, f"{path} is locked by a WebDAV client") from None

    def member(self, name: str) -> Any:
        found = self.folder.get_member(check_name(name))
        if found is None:
            raise DAVError(HTTP_NOT_FOUND, f"no such file or folder: {name}")
        return found

    def mkdir(self, name: str) -> None:
        path = child_path(self.path, check_name(name.strip()))
        self.check_unlocked(path)
        try:
            with backend_errors(path, exists=HTTP_CONFLICT, missing=HTTP_CONFLICT):
                self.folder.backend.mkdir(path)
        finally:
            forget(self.environ)

    def delete(self, name: str) -> None:
        member = self.member(name)
        self.check_unlocked(member.path, "infinity")
        _settle(member.handle_delete(), "deleted")

    def rename(self, name: str, to: str) -> None:
        member = self.member(name)
        target = check_name(to.strip())
        if target == name:
            return
        if self.folder.get_member(target) is not None:
            raise DAVError(HTTP_CONFLICT, f"{target} exists already")
        dest = child_path(self.path, target)
        self.check_unlocked(member.path, "infinity")
        self.check_unlocked(dest)
        self.environ["HTTP_OVERWRITE"] = "F"
        _settle(member.handle_move(dest), "moved")

    def open_upload(self, name: str, content_type: str | None) -> Writer:
        """A ``Writer`` for one uploaded file (as ``FileResource.begin_write``)."""
        name = check_name(name)
        settings = self.provider.settings
        mode = self.provider.share.apple_files or settings.clients.apple_files
        if mode == "refuse" and is_apple_file(name):
            raise DAVError(HTTP_FORBIDDEN, f"{name}: macOS side files are not stored here")
        path = child_path(self.path, name)
        self.check_unlocked(path)
        with backend_errors(path, missing=HTTP_CONFLICT):
            upload = self.folder.backend.open_write(path, size=None, content_type=content_type)
        forget(self.environ)
        return Writer(upload, path, [], settings.checksums.for_upload(None, False))


def _settle(result: bool | list[tuple[str, DAVError]], done: str) -> None:
    """A 207's member errors (some members failed) as one error for the page."""
    if result is True or not result:
        return
    assert isinstance(result, list)
    href, error = result[0]
    raise DAVError(
        error.value,
        f"{len(result)} item(s) could not be {done}, among them {href} ({error.value})",
    )


def read_fields(environ: dict[str, Any]) -> dict[str, str]:
    """A small urlencoded form body (at most ``FORM_LIMIT`` bytes), read in blocks."""
    body = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "").strip()
    left = int(length) if length.isdigit() else FORM_LIMIT + 1
    if left > FORM_LIMIT:
        raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, "form too large")
    parts = []
    while left > 0 and (data := body.read(min(left, 16384))):
        parts.append(data)
        left -= len(data)
    try:
        text = b"".join(parts).decode("utf-8")
        pairs = parse_qs(text, keep_blank_values=True, max_num_fields=16)
    except ValueError:
        raise DAVError(HTTP_BAD_REQUEST, "malformed form") from None
    return {key: values[0] for key, values in pairs.items()}


def form_kind(environ: dict[str, Any]) -> str:
    """``multipart`` or ``urlencoded``; 415 for anything else."""
    kind = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        return "multipart"
    if kind == "application/x-www-form-urlencoded":
        return "urlencoded"
    raise DAVError(HTTP_MEDIATYPE_NOT_SUPPORTED, "a form (multipart or urlencoded) is expected")


class _Receiver:
    """``python-multipart`` callbacks: each file part streams into its own ``Writer``."""

    def __init__(self, open_upload: Callable[[str, str | None], Writer]) -> None:
        self.open_upload = open_upload
        self.headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self.writer: Writer | None = None
        self.stored: list[str] = []
        self.ended = False

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda d, s, e: self._add("_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._add("_value", d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def _add(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def part_begin(self) -> None:
        self.headers = {}

    def header_end(self) -> None:
        self.headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        filename = params.get(b"filename")
        if not filename:
            return  # a plain field, or a file input left empty: nothing to store
        # Browsers send names in UTF-8 and escape '"' as %22 (HTML's form-data rules).
        name = filename.decode("utf-8", "replace").replace("%22", '"')
        kind = self.headers.get(b"content-type", b"").decode("latin-1").strip()
        if kind.lower() in ("", "application/octet-stream"):
            kind = ""  # the browser did not know: let the backend guess from the name
        self.writer = self.open_upload(name, kind or None)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.writer is not None:
            self.writer.write(data[start:end])

    def part_end(self) -> None:
        """The part's closing boundary arrived: commit (aborted by ``upload`` if this fails)."""
        if self.writer is not None:
            self.writer.close()
            self.stored.append(self.writer.path)
            self.writer = None

    def end(self) -> None:
        self.ended = True


def upload(environ: dict[str, Any], actions: Actions, block_size: int) -> list[str]:
    """Stream every file of a multipart body into the folder; the paths stored."""
    _, params = parse_options_header(environ.get("CONTENT_TYPE", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise DAVError(HTTP_BAD_REQUEST, "multipart form without a boundary")
    receiver = _Receiver(actions.open_upload)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())
        for data in _blocks(environ, block_size):
            parser.write(data)
        parser.finalize()
        if not receiver.ended:
            raise DAVError(HTTP_BAD_REQUEST, "upload incomplete: the form ended early")
    except FormParserError as exc:
        _abandon(receiver)
        raise DAVError(HTTP_BAD_REQUEST, f"malformed multipart form: {exc}") from None
    except BaseException:
        _abandon(receiver)
        raise
    if not receiver.stored:
        raise DAVError(HTTP_BAD_REQUEST, "no file was chosen")
    return receiver.stored


def _abandon(receiver: _Receiver) -> None:
    if receiver.writer is not None:
        log.warning("upload of %s aborted: old content kept", receiver.writer.path)
        receiver.writer.abort()
        receiver.writer = None


def _blocks(environ: dict[str, Any], block_size: int) -> Iterable[bytes]:
    """The request body in blocks of at most ``block_size`` bytes."""
    body = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "").strip()
    left = int(length) if length.isdigit() else None
    while left is None or left > 0:
        data = body.read(block_size if left is None else min(block_size, left))
        if not data:
            return
        if left is not None:
            left -= len(data)
        yield data
