"""A worker serves a keep-alive connection's next requests as they come (a short wait
for each, ``http.LINGER``), but never while another connection waits for a worker: one
busy client does not hold the only worker, a head cut across packets is still read
whole, and pipelined requests are answered in order."""

from __future__ import annotations

import socket
import threading
import time

from tests.helpers.gateway import memory_config, running_gateway

BUSY_SECONDS = 2.0


def _busy_client(host: str, port: int, until: float, counts: list[int]) -> None:
    with socket.create_connection((host, port)) as sock:
        reader = sock.makefile("rb")
        while time.monotonic() < until:
            sock.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
            length = 0
            while line := reader.readline():
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line == b"\r\n":
                    break
            reader.read(length)
            counts[0] += 1


def test_a_busy_keepalive_client_does_not_hold_the_only_worker() -> None:
    config = memory_config()
    config["server"].update(threads=1)
    with running_gateway(config) as gw:
        counts = [0]
        until = time.monotonic() + BUSY_SECONDS
        busy = threading.Thread(target=_busy_client, args=(gw.host, gw.port, until, counts))
        busy.start()
        latencies = []
        try:
            time.sleep(0.2)
            while time.monotonic() < until - 0.3:
                started = time.monotonic()
                assert gw.request("PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207
                latencies.append(time.monotonic() - started)
                time.sleep(0.05)
        finally:
            busy.join(timeout=10)
    assert counts[0] > 100  # the busy client was served all along
    assert len(latencies) >= 10
    assert max(latencies) < 0.5, max(latencies)


def _answers(sock: socket.socket, count: int) -> list[bytes]:
    reader = sock.makefile("rb")
    lines = []
    for _ in range(count):
        status = reader.readline()
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        reader.read(length)
        lines.append(status.strip())
    return lines


def test_a_head_cut_across_packets_and_pipelined_requests() -> None:
    with (
        running_gateway(memory_config()) as gw,
        socket.create_connection((gw.host, gw.port)) as sock,
    ):
        sock.settimeout(10)
        sock.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answers(sock, 1) == [b"HTTP/1.1 200 OK"]
        sock.sendall(b"OPTIONS / HTTP/1.1\r\nHo")  # the rest after the worker's wait
        time.sleep(0.05)
        sock.sendall(b"st: x\r\n\r\n")
        assert _answers(sock, 1) == [b"HTTP/1.1 200 OK"]
        three = (
            b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n" * 2
            + b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        sock.sendall(three)
        assert _answers(sock, 3) == [b"HTTP/1.1 200 OK"] * 2 + [b"HTTP/1.1 404 Not Found"]


def test_answers_without_a_body_arrive_at_once_on_a_kept_connection() -> None:
    """A response head waits to go out with the body's first piece (one send): a HEAD,
    a 204 and an empty body still get their head at once, the connection kept."""
    with running_gateway(memory_config()) as gw:
        auth = gw.auth_header(gw.user)["Authorization"].encode()

        def ask(method: bytes, path: bytes, body: bytes = b"") -> bytes:
            return (
                method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth
                + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )  # fmt: skip

        with socket.create_connection((gw.host, gw.port)) as sock:
            sock.settimeout(5)  # a held head would show as a timeout here
            sock.sendall(ask(b"PUT", b"/memory/empty.txt"))
            assert _answers(sock, 1)[0].split()[1] in (b"201", b"204")
            sock.sendall(ask(b"GET", b"/memory/empty.txt"))
            assert _answers(sock, 1) == [b"HTTP/1.1 200 OK"]
            sock.sendall(ask(b"HEAD", b"/memory/empty.txt"))
            assert _answers(sock, 1) == [b"HTTP/1.1 200 OK"]
            sock.sendall(ask(b"DELETE", b"/memory/empty.txt"))
            assert _answers(sock, 1) == [b"HTTP/1.1 204 No Content"]
