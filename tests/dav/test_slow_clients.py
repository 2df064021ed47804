"""Slow clients hold no worker: heads trickling in (slowloris) wait outside the worker
pool, a head slower than ``server.header_timeout`` gets 408, a body slower than
``server.timeout`` per read gets 408, and one address holds a bounded number of
connections. Loops are bounded in count and time; every socket targets 127.0.0.1/8."""

from __future__ import annotations

import socket
import threading
import time

from tests.helpers.gateway import memory_config, running_gateway

SLOW_CLIENTS = 200
TRICKLE_SECONDS = 12.0


def _trickle(sockets: list[socket.socket], until: float) -> None:
    head = b"GET /memory/ HTTP/1.1\r\nHost: x\r\nX-Slow: "
    sent = 0
    while time.monotonic() < until:
        byte = head[sent : sent + 1] or b"a"
        for sock in sockets:
            try:
                sock.send(byte)
            except OSError:
                pass
        sent += 1
        time.sleep(1.0)


def test_slowloris_does_not_starve_other_clients():
    config = memory_config()
    config["server"].update(threads=8, header_timeout=5)
    with running_gateway(config) as gw:
        slow = []
        for _ in range(SLOW_CLIENTS):
            sock = socket.socket()
            sock.bind(("127.0.0.2", 0))  # the attacker's own address
            sock.connect((gw.host, gw.port))
            slow.append(sock)
        until = time.monotonic() + TRICKLE_SECONDS
        trickler = threading.Thread(target=_trickle, args=(slow, until), daemon=True)
        trickler.start()
        latencies = []
        try:
            time.sleep(1.5)
            while time.monotonic() < until:
                started = time.monotonic()
                reply = gw.request("PROPFIND", "/memory/", headers={"Depth": "1"})
                latencies.append(time.monotonic() - started)
                assert reply.status == 207
                time.sleep(0.3)
        finally:
            trickler.join()
            answered = sum(_refused_slowly(sock) for sock in slow)
            for sock in slow:
                sock.close()
    assert len(latencies) >= 10
    assert max(latencies) < 1.0, max(latencies)
    assert answered == SLOW_CLIENTS  # every trickling head got its 408 (or was closed)


def _refused_slowly(sock: socket.socket) -> bool:
    sock.settimeout(2.0)
    try:
        data = sock.recv(200)
    except TimeoutError:
        return False
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 408")


def test_a_trickling_body_gets_408_within_the_timeout():
    config = memory_config()
    config["server"].update(timeout=2)
    with running_gateway(config) as gw:
        auth = gw.auth_header(gw.user)["Authorization"]
        with socket.create_connection((gw.host, gw.port), timeout=10) as sock:
            head = f"PUT /memory/slow.txt HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            sock.sendall(head.encode() + b"Content-Length: 1000\r\n\r\n")
            started = time.monotonic()
            for _ in range(2):  # a byte a second, then silence: the block never fills
                sock.send(b"x")
                time.sleep(1.0)
            sock.settimeout(5.0)
            answer = sock.recv(200)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 6
        assert gw.get("/memory/slow.txt").status == 404  # nothing half-written is visible


def test_connections_per_client_address_are_bounded():
    config = memory_config()
    config["server"].update(connections_per_client=5)
    with running_gateway(config) as gw:
        held = [socket.create_connection((gw.host, gw.port), timeout=5) for _ in range(5)]
        try:
            for sock in held:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # heads never finished
            extra = socket.create_connection((gw.host, gw.port), timeout=5)
            extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert extra.recv(200).startswith(b"HTTP/1.1 503")
            extra.close()
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.5)
        assert gw.get("/").status == 200  # closed connections no longer count
