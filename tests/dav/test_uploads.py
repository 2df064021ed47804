"""PUT bodies: streamed, chunked, cut short, and refused without being read."""

from __future__ import annotations

import base64
import http.client
import socket
import time
from pathlib import Path

import pytest

from tests.helpers.raw_http import put_head, raw_request, read_status

MiB = 1 << 20
AUTH = "Basic " + base64.b64encode(b"alice:alice-pw").decode()


def test_chunked_put_cut_short_keeps_old_content(gateway):
    gateway.put("/memory/c.bin", b"old")
    sock = raw_request(
        gateway, put_head("/memory/c.bin", f"Authorization: {AUTH}", "Transfer-Encoding: chunked")
    )
    sock.sendall(b"1000\r\n" + b"z" * 4096 + b"\r\n" + b"1000\r\n" + b"z" * 100)
    sock.shutdown(socket.SHUT_WR)
    status, _ = read_status(sock)
    sock.close()
    assert status.startswith("HTTP/1.1 400")
    assert gateway.get("/memory/c.bin").body == b"old"


def test_chunked_put_with_wrong_expected_length_is_refused(gateway):
    conn = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    conn.request(
        "PUT",
        "/memory/mac.bin",
        body=iter([b"abc"]),
        encode_chunked=True,
        headers={
            "Authorization": AUTH,
            "Transfer-Encoding": "chunked",
            "X-Expected-Entity-Length": "5",
        },
    )
    assert conn.getresponse().status == 400
    conn.close()
    assert gateway.get("/memory/mac.bin").status == 404


def test_expect_continue_is_answered_after_authentication(gateway):
    sock = raw_request(
        gateway,
        put_head(
            "/memory/e.bin", f"Authorization: {AUTH}", "Content-Length: 5", "Expect: 100-continue"
        ),
    )
    status, _ = read_status(sock)
    assert status == "HTTP/1.1 100 Continue"
    sock.sendall(b"hello")
    status, _ = read_status(sock)
    sock.close()
    assert status.startswith("HTTP/1.1 201")


def test_unauthenticated_expect_continue_gets_401_and_no_continue(gateway):
    sock = raw_request(
        gateway, put_head("/memory/e.bin", f"Content-Length: {200 * MiB}", "Expect: 100-continue")
    )
    status, head = read_status(sock)
    sock.close()
    assert status.startswith("HTTP/1.1 401")
    assert "connection: close" in head.lower()


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def test_unauthenticated_large_put_is_refused_without_reading_body(gateway):
    measured = _reset_peak_rss()
    before = _peak_rss()
    started = time.monotonic()
    sock = raw_request(gateway, put_head("/memory/huge.bin", f"Content-Length: {200 * MiB}"))
    status, head = read_status(sock)  # answered before any body byte is read
    assert status.startswith("HTTP/1.1 401")
    assert "connection: close" in head.lower()
    block = b"u" * MiB
    sent = 0
    with pytest.raises(OSError):
        while sent < 200 * MiB:
            sock.sendall(block)
            sent += MiB
    sock.close()
    assert sent < 64 * MiB, "the server kept reading the refused body"
    assert time.monotonic() - started < 5
    if measured:
        assert _peak_rss() - before < 32 * MiB
    assert gateway.get("/memory/huge.bin").status == 404
