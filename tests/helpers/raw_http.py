"""Requests written by hand on a raw socket: for bodies cut short and heads read early."""

from __future__ import annotations

import socket


def raw_request(gateway, head: str) -> socket.socket:
    sock = socket.create_connection((gateway.host, gateway.port), timeout=10)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
    return sock


def read_status(sock: socket.socket) -> tuple[str, str]:
    """Read one response head; return (status line, whole head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return head.split("\r\n", 1)[0], head


def put_head(path: str, *lines: str) -> str:
    return "\n".join([f"PUT {path} HTTP/1.1", "Host: test", *lines]) + "\n"
