"""Requests written by hand on a raw socket: for bodies cut short and heads read early."""

from __future__ import annotations

import re
import socket


def raw_request(gateway, head: str) -> socket.socket:
    sock = socket.create_connection((gateway.host, gateway.port), timeout=10)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
    return sock


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response head and whatever of the body came with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_status(sock: socket.socket) -> tuple[str, str]:
    """Read one response head; return (status line, whole head)."""
    head = _read_head(sock)[0].decode("latin-1")
    return head.split("\r\n", 1)[0], head


def read_response(sock: socket.socket) -> tuple[str, bytes]:
    """Status line and body of one response on a raw socket (Content-Length bodies)."""
    head, body = _read_head(sock)
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while match and len(body) < int(match.group(1)):
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return head.split(b"\r\n", 1)[0].decode("latin-1"), body


def put_head(path: str, *lines: str) -> str:
    return "\n".join([f"PUT {path} HTTP/1.1", "Host: test", *lines]) + "\n"
