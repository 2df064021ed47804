"""A head taken whole from the socket reader's buffer is read exactly as cheroot's
line-by-line reader reads it: the same fields, the same refusals, the same size bound."""

from __future__ import annotations

import io
import socket
from typing import Any

import pytest
from cheroot.errors import MaxSizeExceeded
from cheroot.server import SizeCheckWrapper

from davprovider.server.framing import StrictHeaderReader
from davprovider.server.sockfile import SocketReader

HEADS = [
    b"Host: x\r\nContent-Length: 5\r\nX-A:  spaced value \r\n\r\n",
    b"\r\n",
    b"Accept: a\r\nAccept: b\r\nX-Once: 1\r\nX-Once: 2\r\nhost: x\r\n\r\n",
    b"Cache-Control: no-cache\r\ncache-control: max-age=0\r\n\r\n",
    b"X-Empty:\r\nX-Colon: a:b:c\r\n\r\n",
]
REFUSED = [
    b"Host: x\r\nX-A: a\nX-B: b\r\n\r\n",  # a bare LF
    b"Host: x\r\nX-A: a\r\n  folded\r\n\r\n",  # obsolete line folding
    b"Host : x\r\n\r\n",  # white space before the colon
    b"Host: x\r\nHost: y\r\n\r\n",  # a second Host
    b"No colon here\r\n\r\n",
    b"Content-Length: 1\r\ncontent-length: 1\r\n\r\n",
]


def _buffered(head: bytes, limit: int) -> tuple[Any, Any]:
    """``head`` whole in a socket reader's buffer, behind cheroot's size check."""
    left, right = socket.socketpair()
    left.sendall(head + b"BODY")
    reader = SocketReader(right, "rb")
    assert reader.fill_available()
    return SizeCheckWrapper(reader, limit), (left, right)


def _read(head: bytes, *, fast: bool, limit: int = 0) -> Any:
    if not fast:
        plain = SizeCheckWrapper(io.BufferedReader(io.BytesIO(head + b"BODY")), limit)
        return StrictHeaderReader()(plain, {}), plain.rfile.read()
    wrapped, sockets = _buffered(head, limit)
    try:
        fields = StrictHeaderReader()(wrapped, {})
        rest = wrapped.rfile.read(4)
    finally:
        for sock in sockets:
            sock.close()
    assert wrapped.bytes_read == len(head)
    return fields, rest


@pytest.mark.parametrize("head", HEADS)
def test_a_whole_head_reads_as_cheroot_reads_it(head: bytes) -> None:
    assert _read(head, fast=True) == _read(head, fast=False)
    assert _read(head, fast=True)[1] == b"BODY"  # the body starts where the head ends


@pytest.mark.parametrize("head", REFUSED)
def test_a_whole_head_is_refused_as_cheroot_refuses_it(head: bytes) -> None:
    for fast in (True, False):
        with pytest.raises(ValueError):
            _read(head, fast=fast)


def test_the_size_bound_holds_for_a_whole_head() -> None:
    head = b"Host: x\r\nX-Big: " + b"a" * 300 + b"\r\n\r\n"
    for fast in (True, False):
        with pytest.raises(MaxSizeExceeded):
            _read(head, fast=fast, limit=200)


def test_a_head_not_yet_whole_is_read_line_by_line() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"Host: x\r\nX-A: 1\r\n")
        reader = SocketReader(right, "rb")
        assert reader.fill_available() and reader.take_head() is None
        left.sendall(b"\r\n")
        assert StrictHeaderReader()(SizeCheckWrapper(reader, 0), {}) == {
            b"Host": b"x",
            b"X-A": b"1",
        }
