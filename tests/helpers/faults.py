"""Helpers for fault tests: uploads and downloads interrupted by a backend fault.

Every check is the same: the client gets an error or a correct result (never a success
with wrong data), nothing partial becomes visible, and the gateway serves again within
seconds of the backend's return.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any

from tests.helpers.irods_gateway import chunk
from tests.helpers.raw_http import put_head, raw_request, read_response

PIECE = b"n" * 65536


def interrupted_put(
    gw: Any, path: str, auth: str, pieces: int, fault: Callable[[], None]
) -> tuple[int, bytes]:  # noqa: E501
    """A chunked PUT of ``pieces`` pieces with ``fault()`` after the first: the status
    the client got and the body it meant to store."""
    sock = raw_request(gw, put_head(path, f"Authorization: {auth}", "Transfer-Encoding: chunked"))
    sock.settimeout(120)
    try:
        sock.sendall(chunk(PIECE))
        time.sleep(0.3)
        fault()
        try:
            for _ in range(pieces - 1):
                sock.sendall(chunk(PIECE))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            return 0, PIECE * pieces  # the gateway gave up on the body: an error
        status, _ = read_response(sock)
    finally:
        sock.close()
    return int(status.split()[1]), PIECE * pieces


def interrupted_get(gw: Any, path: str, auth: str, fault: Callable[[], None]) -> bytes | None:
    """GET ``path``, ``fault()`` after the first MiB: the whole body when the client got
    one complete, ``None`` when the answer failed or ended short (the client knows)."""
    conn = http.client.HTTPConnection(gw.host, gw.port, timeout=120)
    try:
        conn.request("GET", path, headers={"Authorization": auth})
        reply = conn.getresponse()
        if reply.status != 200:
            return None
        data = reply.read(1 << 20)
        fault()
        return data + reply.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def serves_again(probe: Callable[[], int], within: float = 30.0) -> float:
    """Seconds until ``probe()`` answers 2xx again (fails after ``within``)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            if 200 <= probe() < 300:
                return time.monotonic() - started
        except (TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"the gateway did not serve again within {within} s")
