"""Request syntax checked once, before WsgiDAV sees the request (a WSGI middleware).

Everything a client controls and WsgiDAV or a backend would choke on is refused here
with a 4xx and a one-line reason, logged with the client address:

- the path: valid UTF-8 after percent-decoding (an overlong ``%c0%ae`` is not), no
  control characters (NUL included), no ``.`` or ``..`` segments (nothing climbs out of
  a share), at most ``MAX_PATH`` bytes (414);
- ``Destination`` (COPY, MOVE): an absolute path or an ``http``/``https`` URL with a
  valid port, whose path passes the same checks;
- ``If`` (RFC 4918 §10.4): parsed by its grammar (garbage is a 400); a header whose
  every list is tagged with a resource on another host can never hold: 412.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

log = logging.getLogger("davprovider.server")

MAX_PATH = 4096
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CONTROL = re.compile("[\x00-\x1f\x7f]")
_IF_TOKEN = re.compile(r"\s*(?:(<[^>\s]*>)|(\()|(\))|(Not)\b|(\[(?:W/)?\"[^\"]*\"\]))", re.I)


class Refusal(ValueError):
    """A request refused with ``status`` and a one-line reason."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def check_path(path: bytes, what: str = "path") -> str:
    """The decoded path, or ``Refusal``."""
    if len(path) > MAX_PATH:
        raise Refusal("414 URI Too Long", f"{what} longer than {MAX_PATH} bytes")
    try:
        text = path.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("400 Bad Request", f"{what} is not valid UTF-8") from None
    if _CONTROL.search(text):
        raise Refusal("400 Bad Request", f"control character in {what}")
    if any(segment in (".", "..") for segment in text.split("/")):
        raise Refusal("400 Bad Request", f"'.' or '..' segment in {what}")
    return text


def check_destination(value: str) -> None:
    """A ``Destination`` header WsgiDAV can resolve, or ``Refusal``."""
    bad = Refusal("400 Bad Request", "malformed Destination header")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise bad from None
    if parts.scheme not in ("http", "https", "") or bool(parts.scheme) != bool(parts.netloc):
        raise bad
    if not parts.path.startswith("/") or "%" in re.sub("%[0-9A-Fa-f]{2}", "", parts.path):
        raise bad
    check_path(unquote_to_bytes(parts.path), "Destination")


def if_lists(value: str) -> list[tuple[str | None, int]]:
    """``(resource tag or None, number of conditions)`` per list of an ``If`` header;
    ``Refusal`` when it does not follow RFC 4918's grammar."""
    bad = Refusal("400 Bad Request", "malformed If header")
    lists: list[tuple[str | None, int]] = []
    tag: str | None = None
    tag_waiting = False  # a resource tag read, its first list not yet
    conditions = -1  # -1: outside a list
    pos, text = 0, value.strip()
    while pos < len(text):
        match = _IF_TOKEN.match(text, pos)
        if match is None:
            raise bad
        pos = match.end()
        coded, opened, closed, negation, etag = match.groups()
        if conditions < 0 and opened:
            conditions, tag_waiting = 0, False
        elif conditions > 0 and closed:
            lists.append((tag, conditions))
            conditions = -1
        elif conditions >= 0 and (coded or etag):
            conditions += 1
        elif conditions < 0 and coded and not tag_waiting and (tag or not lists):
            tag, tag_waiting = coded[1:-1], True
        elif not (negation and conditions >= 0):
            raise bad
    if conditions >= 0 or tag_waiting or not lists:
        raise bad
    return lists


def check_if(value: str, host: str) -> None:
    """``Refusal`` for a malformed ``If`` header or one whose every list is tagged
    with a resource on another host (412: such a condition cannot hold here)."""
    tags = [tag for tag, _ in if_lists(value)]
    if any(tag is None for tag in tags):
        return
    hosts = {urlsplit(tag).netloc.lower() for tag in tags if tag is not None}
    if "" not in hosts and host.lower() not in hosts:
        raise Refusal("412 Precondition Failed", "If header names resources of another host")


class RequestGuard:
    """WSGI middleware answering a request whose syntax fails the checks above."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        try:
            self.check(environ)
        except Refusal as refusal:
            method = environ.get("REQUEST_METHOD", "-")
            client = environ.get("REMOTE_ADDR", "-")
            log.info("refused %s %s: %s (%s)", client, method, refusal, refusal.status)
            body = f"{refusal.status}: {refusal}\n".encode()
            headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ]
            start_response(refusal.status, headers)
            return [body]
        return self.app(environ, start_response)

    def check(self, environ: dict[str, Any]) -> None:
        """Raise ``Refusal`` for the first check the request fails."""
        check_path(environ.get("PATH_INFO", "").encode("latin-1"))
        destination = environ.get("HTTP_DESTINATION")
        if destination is not None:
            check_destination(destination)
        condition = environ.get("HTTP_IF")
        if condition is not None:
            check_if(condition, environ.get("HTTP_HOST", ""))
