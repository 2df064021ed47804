"""Faults of Swift under a transfer: the proxy killed mid-PUT, the object server killed
mid-GET, each restarted; a client cut mid-PUT of 100 MiB. The client gets an error or a
correct result, never a success with wrong data; nothing partial is visible; the gateway
serves again within seconds. A Swift of its own (the faults would disturb other tests)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from localgrid.swift import LocalSwift
from tests.helpers.faults import interrupted_get, interrupted_put, serves_again
from tests.helpers.irods_gateway import chunk
from tests.helpers.raw_http import put_head, raw_request
from tests.helpers.swift_gateway import fresh_container, swift_gateway
from tests.helpers.swift_helpers import local_swift

MiB = 1 << 20


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    with local_swift(tmp_path_factory, "faults") as swift:
        yield swift


@pytest.fixture(scope="module")
def fgw(store: LocalSwift) -> Iterator[Any]:
    with swift_gateway(store) as gateway:
        yield gateway


@pytest.fixture
def fbox(fgw: Any) -> Iterator[str]:
    with fresh_container(fgw) as path:
        yield path


def _kill_and_restart(store: LocalSwift, server: str) -> None:
    os.kill(store.running()[server], signal.SIGKILL)
    store.stop()
    store.start()


def test_proxy_killed_mid_put_gives_an_error_and_keeps_the_old_content(store, fgw, fbox):
    target = fbox + "victim.bin"
    assert fgw.put(target, b"old").status == 201
    auth = fgw.auth_header(fgw.user)["Authorization"]
    status, sent = interrupted_put(fgw, target, auth, 32, lambda: _kill_and_restart(store, "proxy"))  # noqa: E501
    assert serves_again(lambda: fgw.get(fbox).status) < 15
    now = fgw.get(target).body
    assert now == (sent if 200 <= status < 300 else b"old")


def test_object_server_killed_mid_get_never_delivers_a_wrong_body(store, fgw, fbox):
    target = fbox + "big.bin"
    data = os.urandom(24 * MiB)
    assert fgw.put(target, data).status == 201
    auth = fgw.auth_header(fgw.user)["Authorization"]
    got = interrupted_get(fgw, target, auth, lambda: _kill_and_restart(store, "object"))
    assert got is None or got == data
    assert serves_again(lambda: fgw.get(fbox).status) < 15
    assert fgw.get(target).body == data


def test_client_cut_mid_put_of_100_mib_keeps_the_old_content(fgw, fbox):
    target = fbox + "cut.bin"
    assert fgw.put(target, b"old").status == 201
    auth = fgw.auth_header(fgw.user)["Authorization"]
    sock = raw_request(
        fgw, put_head(target, f"Authorization: {auth}", f"Content-Length: {100 * MiB}")
    )  # noqa: E501
    piece = b"c" * MiB
    for _ in range(40):
        sock.sendall(piece)
    sock.close()  # 40 of 100 MiB, then gone
    assert serves_again(lambda: fgw.get(target).status) < 15
    assert fgw.get(target).body == b"old"


def test_client_cut_mid_chunked_put_leaves_nothing_new(fgw, fbox):
    target = fbox + "new.bin"
    auth = fgw.auth_header(fgw.user)["Authorization"]
    sock = raw_request(
        fgw, put_head(target, f"Authorization: {auth}", "Transfer-Encoding: chunked")
    )  # noqa: E501
    sock.sendall(chunk(b"x" * MiB) * 8)
    sock.close()
    assert serves_again(lambda: fgw.get(fbox).status) < 15
    assert fgw.get(target).status == 404
