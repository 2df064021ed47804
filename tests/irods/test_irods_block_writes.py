"""``wire.write``: a DATA_OBJ_WRITE sent from the caller's buffer, against the local
zone through python-irodsclient's connection: the bytes land intact whatever the
buffer type, a small block goes in one send (Nagle would hold a second one), a
failed send drops the connection, and a short write fails."""

from __future__ import annotations

import os
from typing import Any

import pytest
from irods import exception as ex

from davprovider.irods import wire
from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import HOME

LARGE = os.urandom(wire.JOIN_BELOW + 12345)


class Sends:
    """A socket stand-in counting ``sendall`` calls and passing them on."""

    def __init__(self, sock: Any) -> None:
        self.sock, self.calls = sock, 0

    def sendall(self, data: Any) -> None:
        self.calls += 1
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def _write_all(alice_prc: Any, path: str, blocks: list[Any]) -> list[int]:
    handle = wire.open_raw(alice_prc, path, wire.WRITE)
    sends = Sends(handle.conn.socket)
    handle.conn.socket = sends
    counts = []
    try:
        for block in blocks:
            before = sends.calls
            assert wire.write(handle, block) == len(block)
            counts.append(sends.calls - before)
    finally:
        handle.conn.socket = sends.sock
        handle.close()
    return counts


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_blocks_of_any_buffer_type_land_intact(
    alice_prc: Any, seeded_zone: LocalZone, kind: Any
) -> None:
    path = f"{HOME}/alice/blocks-{kind.__name__}.bin"
    small = b"small block\n" * 10
    counts = _write_all(alice_prc, path, [kind(LARGE), kind(small)])

    assert alice_prc.data_objects.open(path, "r").read() == LARGE + small
    assert counts == [2, 1]  # a large block from its buffer; a small one joined, one send


def test_a_large_block_sliced_from_a_bigger_buffer(alice_prc: Any, seeded_zone: LocalZone) -> None:
    buffer = bytearray(b"x" * 100) + bytearray(LARGE) + bytearray(b"y" * 100)
    with memoryview(buffer) as view:
        _write_all(alice_prc, f"{HOME}/alice/sliced.bin", [view[100 : 100 + len(LARGE)]])
    assert alice_prc.data_objects.open(f"{HOME}/alice/sliced.bin", "r").read() == LARGE


def test_a_failed_send_drops_the_connection(alice_prc: Any, seeded_zone: LocalZone) -> None:
    class Broken(Sends):
        def sendall(self, data: Any) -> None:
            raise BrokenPipeError("zone gone")

    handle = wire.open_raw(alice_prc, f"{HOME}/alice/broken.bin", wire.WRITE)
    conn = handle.conn
    real = conn.socket
    conn.socket = Broken(real)
    released: list[bool] = []
    original = conn.release
    conn.release = lambda destroy=False: released.append(destroy) or original(destroy)
    with pytest.raises(ex.NetworkException, match="zone gone"):
        wire.write(handle, b"abc")
    assert released == [True]
    real.close()


def test_a_short_write_fails(alice_prc: Any, seeded_zone: LocalZone) -> None:
    """The zone's answer counts the bytes it wrote; fewer than sent is an error, not a
    shorter object (python-irodsclient returns the count unchecked)."""
    handle = wire.open_raw(alice_prc, f"{HOME}/alice/short.bin", wire.WRITE)
    real_recv = handle.conn.recv

    def short_answer(*args: Any, **kwargs: Any) -> Any:
        answer = real_recv(*args, **kwargs)
        answer.int_info -= 1  # as a zone that wrote one byte less would answer
        return answer

    handle.conn.recv = short_answer
    try:
        with pytest.raises(OSError, match="iRODS wrote 2 of 3 bytes"):
            wire.write(handle, b"abc")
    finally:
        handle.conn.recv = real_recv
        handle.close()
