"""PUT bodies that do not arrive whole, and bodies the gateway must refuse unread.

Raw sockets, because http.client cannot stop in the middle of a body. The gateway is a
separate process: "has it noticed?" is answered by its access log line for the request.
"""

from __future__ import annotations

import re
import select
import socket
import time

from tests.helpers.davxml import hrefs
from tests.helpers.irods_gateway import (
    AUTH_ALICE,
    chunk,
    read_object,
    wait_for_no_leftovers,
    wait_for_temporary,
    write_object,
)
from tests.helpers.raw_http import put_head, raw_request, read_status

MiB = 1 << 20


def log_size(gateway_process) -> int:
    return gateway_process.log_path.stat().st_size


def wait_for_access_log(
    gateway_process, method: str, path: str, after: int, timeout: float = 10.0
) -> str:
    """The status the gateway logged for ``method path`` past log offset ``after``."""
    line = re.compile(rf'"{method} {re.escape(path)}" (\d+) '.encode())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(gateway_process.log_path, "rb") as log:
            log.seek(after)
            found = line.findall(log.read())
        if found:
            return found[0].decode()
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {method} {path}:\n{gateway_process.log_tail()}")


def listed(gw, collection: str) -> set[str]:
    """Paths in a PROPFIND Depth:1 of ``collection`` through the gateway."""
    reply = gw.request("PROPFIND", collection, headers={"Depth": "1"})
    assert reply.status == 207
    return set(hrefs(reply.body))


def test_put_cut_short_keeps_old_content_and_leaves_no_temporary_object(
    gw, gateway_process, workdir, rods, alice_prc, irods_path
):
    old = b"old content " * 1000
    target = workdir + "big.bin"
    write_object(alice_prc, irods_path(target), old)
    mark = log_size(gateway_process)
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", f"Content-Length: {10 * MiB}")
    )
    sock.sendall(b"x" * (4 * MiB))
    sock.close()  # the client goes away, 6 MiB short
    assert wait_for_access_log(gateway_process, "PUT", target, mark) == "400"
    assert wait_for_no_leftovers(rods, irods_path(workdir), "big.bin") == []
    assert read_object(rods, irods_path(target)) == old
    assert rods.data_objects.get(irods_path(target)).size == len(old)
    assert gw.get(target).body == old
    assert listed(gw, workdir) == {workdir, target}  # no temporary object listed


def test_put_cut_short_on_a_new_name_leaves_nothing(gw, gateway_process, workdir, rods, irods_path):
    target = workdir + "never.bin"
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", f"Content-Length: {2 * MiB}")
    )
    sock.sendall(b"y" * MiB)
    sock.shutdown(socket.SHUT_WR)
    status, _ = read_status(sock)
    sock.close()
    assert status.startswith("HTTP/1.1 400")
    assert wait_for_no_leftovers(rods, irods_path(workdir)) == []
    assert not rods.data_objects.exists(irods_path(target))
    assert gw.get(target).status == 404


def test_chunked_put_cut_short_keeps_old_content(
    gw, gateway_process, workdir, rods, alice_prc, irods_path
):
    target = workdir + "c.bin"
    write_object(alice_prc, irods_path(target), b"old")
    mark = log_size(gateway_process)
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", "Transfer-Encoding: chunked")
    )
    sock.sendall(chunk(b"z" * 65536) + b"10000\r\n" + b"z" * 100)  # 2nd chunk cut short
    sock.close()
    assert wait_for_access_log(gateway_process, "PUT", target, mark) == "400"
    assert wait_for_no_leftovers(rods, irods_path(workdir), "c.bin") == []
    assert read_object(rods, irods_path(target)) == b"old"


def stream_until_answered(sock: socket.socket, total: int) -> int:
    """Send up to ``total`` bytes, stopping as soon as the server answers or closes."""
    block = b"u" * MiB
    sent = 0
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(block)
            sent += len(block)
    except OSError:
        pass  # the server closed the connection
    return sent


def read_answer(sock: socket.socket) -> bytes:
    """Whatever the server answered, up to the end of its head."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except OSError:
        pass  # reset after the answer: keep what arrived
    return data


def test_unauthenticated_200_mib_put_is_refused_with_401_without_memory_growth(
    gw, gateway_process, workdir
):
    peak_measured = gateway_process.reset_peak_memory()
    rss_before = gateway_process.memory("VmRSS")
    peak_before = gateway_process.memory("VmHWM")
    target = workdir + "huge.bin"
    sock = raw_request(gw, put_head(target, f"Content-Length: {200 * MiB}"))
    sent = stream_until_answered(sock, 200 * MiB)
    answer = read_answer(sock)
    sock.close()
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 401"), f"sent {sent >> 20} MiB, got {answer[:300]!r}"
    assert re.search(r"(?im)^www-authenticate: basic", head), head
    assert sent < 64 * MiB, "the gateway kept reading the refused body"
    grown = gateway_process.memory("VmRSS") - rss_before
    assert grown < 32 * MiB, f"RSS grew by {grown >> 20} MiB"
    if peak_measured:
        peak = gateway_process.memory("VmHWM") - peak_before
        assert peak < 32 * MiB, f"peak RSS grew by {peak >> 20} MiB"
    assert gw.get(target).status == 404


def test_upload_in_progress_survives_other_requests_by_the_same_user(
    gw, gateway_process, workdir, rods, irods_path
):
    """Clients run requests in parallel (rclone, davfs2, Explorer): a second request by
    alice must not take away the iRODS connection her running upload writes to."""
    target = workdir + "parallel.bin"
    first, second = b"a" * 65536, b"b" * 65536
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", "Transfer-Encoding: chunked")
    )
    try:
        sock.sendall(chunk(first))
        wait_for_temporary(rods, irods_path(workdir))  # the upload is open in iRODS
        assert gw.request("PROPFIND", workdir, headers={"Depth": "1"}).status == 207
        assert gw.get("/irods/alice/notes.txt").status == 200
        sock.sendall(chunk(second) + b"0\r\n\r\n")
        status, _ = read_status(sock)
    finally:
        sock.close()
    assert status.startswith("HTTP/1.1 201"), status
    assert read_object(rods, irods_path(target)) == first + second
    assert wait_for_no_leftovers(rods, irods_path(workdir), "parallel.bin") == []
