"""HTTP/1.1 message framing, as strict as RFC 9112 asks of a server facing the internet.

cheroot is lenient where leniency lets one request hide inside another (request
smuggling behind a proxy) or lets a client pin memory: it honours ``Content-Length: -1``,
a header name with white space before its colon, chunk sizes such as ``0x5``, ``1_0`` or
``+5``, and both ``Content-Length`` and ``Transfer-Encoding``. Here:

- ``StrictHeaderReader`` refuses (400) white space inside or around a field name,
  obsolete line folding, and a second ``Host``, ``Content-Length`` or
  ``Transfer-Encoding`` line;
- ``framing_problem`` refuses a request with both ``Content-Length`` and
  ``Transfer-Encoding``, a length that is not a plain decimal number, a transfer coding
  other than ``chunked``, and an HTTP/1.1 request without ``Host``;
- ``chunk_size`` reads a chunk-size line as RFC 9112 §7.1 spells it (hex digits, then
  optional extensions) and nothing else.

Every refusal closes the connection: after a framing error nobody knows where the next
request would start.
"""

from __future__ import annotations

import re
from typing import Any

from cheroot import server as cheroot_server
from cheroot.server import HeaderReader

#: Header fields that must appear at most once (a second one is a smuggling attempt).
SINGLE = frozenset({b"Host", b"Content-Length", b"Transfer-Encoding"})
#: Header fields whose repeats cheroot joins with commas (its own list).
LISTS = frozenset(cheroot_server.comma_separated_headers)  # type: ignore[attr-defined]
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DECIMAL = re.compile(rb"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(;[^\r\n]*)?\r?\n")


class StrictHeaderReader(HeaderReader):
    """cheroot's header reader, refusing what RFC 9112 says a server must refuse.

    A head already whole in the socket reader's buffer (the worker waits for that,
    ``http.GatewayConnection``) is taken in one piece and split here, with cheroot's
    rules (title-cased names, values stripped, comma-joined repeats of the list
    headers); otherwise cheroot reads it line by line. Both check every line alike."""

    def __call__(self, rfile: Any, hdict: Any = None) -> Any:
        take = getattr(getattr(rfile, "rfile", None), "take_head", None)
        head = take() if take is not None else None
        if head is None:
            return super().__call__(_CheckedLines(rfile), hdict)
        rfile.bytes_read += len(head)
        rfile._check_length()  # cheroot's bound on the head's size (413)
        return _fields(head, {} if hdict is None else hdict)


class _CheckedLines:
    """``rfile`` whose header lines are checked as they are read."""

    def __init__(self, rfile: Any) -> None:
        self.rfile = rfile
        self.seen: set[bytes] = set()

    def readline(self, size: int | None = None) -> bytes:
        line: bytes = self.rfile.readline() if size is None else self.rfile.readline(size)
        _check_line(line, self.seen)
        return line


def _fields(head: bytes, hdict: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """The header fields of ``head`` (its lines, each ending CRLF, then an empty one)."""
    seen: set[bytes] = set()
    for line in head[:-2].split(b"\r\n")[:-1] if head != b"\r\n" else ():
        if b"\n" in line:
            raise ValueError("HTTP requires CRLF terminators")
        _check_line(line + b"\r\n", seen)
        name, _, value = line.partition(b":")
        key, value = name.title(), value.strip()
        if key in LISTS and (existing := hdict.get(key)):
            value = b", ".join((existing, value))
        hdict[key] = value
    return hdict


def _check_line(line: bytes, seen: set[bytes]) -> None:
    if line in (b"\r\n", b"") or not line.endswith(b"\r\n"):
        return  # the end of the head, or cheroot's own error
    if line[:1] in (b" ", b"\t"):
        raise ValueError("obsolete line folding is not accepted")
    name, colon, _ = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise ValueError("malformed header field name")
    key = name.title()
    if key in SINGLE:
        if key in seen:
            raise ValueError(f"{key.decode()} given twice")
        seen.add(key)


def framing_problem(headers: dict[bytes, bytes], protocol: str) -> str | None:
    """Why the request's framing is refused, or ``None`` (headers as cheroot folded them)."""
    length = headers.get(b"Content-Length")
    coding = headers.get(b"Transfer-Encoding")
    if length is not None and coding is not None:
        return "Content-Length and Transfer-Encoding together"
    if length is not None and not _DECIMAL.fullmatch(length.strip()):
        return "Content-Length must be a decimal number of bytes"
    if coding is not None and coding.strip().lower() != b"chunked":
        return "the only transfer coding accepted is chunked"
    if protocol == "HTTP/1.1" and not headers.get(b"Host", b"").strip():
        return "Host header missing"
    return None


def chunk_size(line: bytes) -> int:
    """The size of a chunk-size line (``ValueError`` for anything else)."""
    match = _CHUNK_SIZE.fullmatch(line)
    if match is None:
        raise ValueError("bad chunk size")
    return int(match.group(1), 16)
