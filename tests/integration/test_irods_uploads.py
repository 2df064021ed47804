"""PUT bodies that do not arrive whole, and bodies the gateway must refuse unread.

Raw sockets, because http.client cannot stop in the middle of a body. The gateway is a
separate process: "has it noticed?" is answered by its access log line for the request.
"""

from __future__ import annotations

import re
import select
import socket
import time
from pathlib import Path

from dav.test_uploads import put_head, raw_request, read_status
from irods_gateway import AUTH_ALICE, read_object

MiB = 1 << 20
TEMP = ".davprovider-upload-"  # the hidden temporary objects of uploads


def wait_for_access_log(gateway_process, method: str, path: str, timeout: float = 10.0) -> str:
    """The status the gateway logged for ``method path`` (waits for the line)."""
    line = re.compile(rf'"{method} {re.escape(path)}" (\d+) ')
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = line.findall(gateway_process.log_path.read_text(errors="replace"))
        if found:
            return str(found[-1])
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {method} {path}:\n{gateway_process.log_tail()}")


def leftovers(rods, collection: str, expected: set[str]) -> list[str]:
    """Objects in ``collection`` other than ``expected``, listed as rods (who sees all)."""
    names = [obj.name for obj in rods.collections.get(collection).data_objects]
    return sorted(set(names) - expected)


def wait_for_no_leftovers(rods, collection: str, *expected: str, timeout: float = 5.0) -> list:
    """Poll until the gateway removed its temporary upload objects; what is left."""
    deadline = time.monotonic() + timeout
    while (left := leftovers(rods, collection, set(expected))) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def listed(gw, collection: str) -> list[str]:
    """Member hrefs of a PROPFIND Depth:1 through the gateway."""
    reply = gw.request("PROPFIND", collection, headers={"Depth": "1"})
    assert reply.status == 207
    return re.findall(r"<D:href>([^<]*)</D:href>", reply.body.decode())


def test_put_cut_short_keeps_old_content_and_leaves_no_temporary_object(
    gw, gateway_process, workdir, rods, irods_path
):
    old = b"old content " * 1000
    target = workdir + "big.bin"
    assert gw.put(target, old).status == 201
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", f"Content-Length: {10 * MiB}")
    )
    sock.sendall(b"x" * (4 * MiB))
    sock.close()  # the client goes away, 6 MiB short
    assert wait_for_access_log(gateway_process, "PUT", target) == "400"
    assert wait_for_no_leftovers(rods, irods_path(workdir), "big.bin") == []
    assert not [n for n in leftovers(rods, irods_path(workdir), set()) if n.startswith(TEMP)]
    assert read_object(rods, irods_path(target)) == old
    assert rods.data_objects.get(irods_path(target)).size == len(old)
    assert gw.get(target).body == old
    assert listed(gw, workdir) == [workdir, target]


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


def test_chunked_put_cut_short_keeps_old_content(gw, gateway_process, workdir, rods, irods_path):
    target = workdir + "c.bin"
    assert gw.put(target, b"old").status == 201
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", "Transfer-Encoding: chunked")
    )
    sock.sendall(b"10000\r\n" + b"z" * 0x10000 + b"\r\n" + b"10000\r\n" + b"z" * 100)
    sock.close()
    assert wait_for_access_log(gateway_process, "PUT", target) == "400"
    assert wait_for_no_leftovers(rods, irods_path(workdir), "c.bin") == []
    assert read_object(rods, irods_path(target)) == b"old"


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's VmHWM (peak RSS) so a later read shows the peak since now."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def status_kib(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    assert match, text
    return int(match.group(1))


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
    pid = gateway_process.pid
    peak_measured = reset_peak_rss(pid)
    rss_before = status_kib(pid, "VmRSS")
    hwm_before = status_kib(pid, "VmHWM")
    target = workdir + "huge.bin"
    sock = raw_request(gw, put_head(target, f"Content-Length: {200 * MiB}"))
    sent = stream_until_answered(sock, 200 * MiB)
    answer = read_answer(sock)
    sock.close()
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 401"), f"sent {sent >> 20} MiB, got {answer[:300]!r}"
    assert re.search(r"(?im)^www-authenticate: basic", head), head
    assert sent < 64 * MiB, "the gateway kept reading the refused body"
    grown = (status_kib(pid, "VmRSS") - rss_before) * 1024
    assert grown < 32 * MiB, f"RSS grew by {grown >> 20} MiB"
    if peak_measured:
        peak = (status_kib(pid, "VmHWM") - hwm_before) * 1024
        assert peak < 32 * MiB, f"peak RSS grew by {peak >> 20} MiB"
    assert gw.get(target).status == 404
