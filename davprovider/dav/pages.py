"""Status and error answers: short, without internals, in the client's language.

A WsgiDAV middleware in place of WsgiDAV's ``ErrorPrinter``. Every error (a ``DAVError``
raised inside, or an HTML status page WsgiDAV wrote itself, such as the 401 of its
authenticator or the ``201 Created`` page of a PUT) is answered as:

- DAV XML when the error carries a pre- or postcondition (RFC 4918 §16), as before;
- a small HTML page for a browser (``Accept`` names ``text/html``);
- one line of plain text for everyone else (curl, scripts, sync clients).

The reason is the status phrase and the short context our code gave (``permission
denied: /bob/README.txt``), never a Python exception, a traceback, a library name or a
date. An unexpected exception is logged with its traceback and answered 500 with no
detail.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from wsgidav import util
from wsgidav.dav_error import (
    ERROR_DESCRIPTIONS,
    HTTP_INTERNAL_ERROR,
    HTTP_NO_CONTENT,
    HTTP_NOT_MODIFIED,
    DAVError,
)
from wsgidav.mw.base_mw import BaseMiddleware

log = logging.getLogger("davprovider.dav.pages")

#: Methods whose success WsgiDAV answers with an HTML status page.
_STATUS_PAGE_METHODS = frozenset({"PUT", "MKCOL", "COPY", "MOVE", "DELETE"})


def phrase(status: int) -> str:
    """``"403 Forbidden"`` for 403 (WsgiDAV's phrases, else the standard ones)."""
    text = ERROR_DESCRIPTIONS.get(status)
    if text:
        return str(text)
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def render(environ: dict[str, Any], status: int, reason: str | None) -> tuple[str, bytes]:
    """``(content type, body)`` of a status answer for this client."""
    title = phrase(status)
    if "text/html" in environ.get("HTTP_ACCEPT", ""):
        text = f"<p>{html.escape(reason)}</p>" if reason else ""
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head><body>"
            f'<h1>{html.escape(title)}</h1>{text}<p><a href="/">All shares</a></p>'
            "</body></html>\n"
        )
        return "text/html; charset=utf-8", page.encode()
    line = f"{title}: {reason}\n" if reason else f"{title}\n"
    return "text/plain; charset=utf-8", line.encode()


def error_reason(error: DAVError) -> str | None:
    """The short context of ``error`` (what our code said), never its source exception."""
    if error.value == HTTP_INTERNAL_ERROR:
        return None
    info = error.context_info
    return str(info).splitlines()[0][:300] if info else None


class StatusPages(BaseMiddleware):
    """WsgiDAV middleware: our status and error answers (see the module docstring)."""

    def __init__(self, wsgidav_app: Any, next_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)

    def is_disabled(self) -> bool:
        return False

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        captured = util.SubAppStartResponse()
        try:
            chunks = self.next_app(environ, captured)
            yield from self._relay(environ, start_response, captured, chunks)
        except DAVError as error:
            yield from self._error(environ, start_response, error)
        except Exception:
            log.exception("unexpected error answering %s", environ.get("PATH_INFO"))
            yield from self._error(environ, start_response, DAVError(HTTP_INTERNAL_ERROR))

    def _relay(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        captured: Any,
        chunks: Iterable[bytes],
    ) -> Iterator[bytes]:
        started = False
        try:
            for chunk in chunks:
                if not started:
                    started = True
                    if self._replaces(environ, captured):
                        yield from self._status_page(environ, start_response, captured)
                        return
                    start_response(captured.status, captured.response_headers)
                yield chunk
            if not started:
                start_response(captured.status, captured.response_headers)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    @staticmethod
    def _replaces(environ: dict[str, Any], captured: Any) -> bool:
        """An HTML status page of WsgiDAV's own: an error, or a write's success."""
        headers = {k.lower(): v for k, v in captured.response_headers}
        if not headers.get("content-type", "").startswith("text/html"):
            return False
        code = int(captured.status[:3])
        method = environ.get("REQUEST_METHOD", "")
        return code >= 400 or (code in (200, 201) and method in _STATUS_PAGE_METHODS)

    def _status_page(
        self, environ: dict[str, Any], start_response: Callable[..., Any], captured: Any
    ) -> Iterator[bytes]:
        code = int(captured.status[:3])
        content_type, body = render(environ, code, None)
        kept = [
            (k, v)
            for k, v in captured.response_headers
            if k.lower() not in ("content-type", "content-length")
        ]
        start_response(
            captured.status,
            [*kept, ("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        yield b"" if environ.get("REQUEST_METHOD") == "HEAD" else body

    def _error(
        self, environ: dict[str, Any], start_response: Callable[..., Any], error: DAVError
    ) -> Iterator[bytes]:
        status = phrase(error.value)  # WsgiDAV's phrase, else the standard one (429)
        extra = list(error.add_headers or [])
        if error.value in (HTTP_NOT_MODIFIED, HTTP_NO_CONTENT):
            start_response(status, [("Content-Length", "0"), *extra])
            yield b""
            return
        if error.value >= 500:
            log.warning("%s %s answered %s", environ.get("REQUEST_METHOD"), environ.get(
                "PATH_INFO"), error.get_user_info().splitlines()[0])  # fmt: skip
        if error.err_condition:
            content_type, body = error.get_response_page()  # DAV XML, no internals
        else:
            content_type, body = render(environ, error.value, error_reason(error))
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra]
        start_response(status, headers)
        yield b"" if (environ.get("REQUEST_METHOD") == "HEAD" or not error.add_body) else body
