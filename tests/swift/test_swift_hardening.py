"""Issue 18 on Swift: metadata bounded before any write, overwrites atomic for readers,
orphan segments of a killed gateway swept, and a test Swift whose object server holds
what its constraints admit."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from swiftclient.client import Connection

from davprovider.backend import Identity
from davprovider.swift import Profile, SwiftFactory
from localgrid.swift import LocalSwift, constraints_for, metadata_capacity
from tests.helpers import serve_process
from tests.helpers.gateway import Gateway
from tests.helpers.races import assert_overwrite_race_old_or_new
from tests.helpers.swift_gateway import ALICE, connect, swift_config, swift_gateway
from tests.helpers.swift_helpers import as_tester

PROPPATCH = """<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>{}</D:prop></D:set>
</D:propertyupdate>"""


def _props(count: int, size: int) -> bytes:
    return PROPPATCH.format(
        "".join(f"<Z:p{i}>{'v' * size}</Z:p{i}>" for i in range(count))
    ).encode()


def test_set_meta_beyond_swift_limits_is_507_and_writes_nothing(
    make_factory: Callable[..., SwiftFactory], container: str
) -> None:
    backend = make_factory(container=container)(as_tester())
    upload = backend.open_write("/o.txt", size=2)
    upload.write(b"hi")
    upload.commit()
    backend.set_meta("/o.txt", {"{urn:z}kept": "old"})

    for updates in (
        {f"{{urn:z}}p{i}": "v" for i in range(95)},  # more items than Swift allows
        {f"{{urn:z}}p{i}": "v" * 250 for i in range(20)},  # more bytes than it allows
    ):
        with pytest.raises(OSError) as refused:
            backend.set_meta("/o.txt", {"{urn:z}kept": "new", **updates})
        assert refused.value.errno == errno.ENOSPC
    with pytest.raises(ValueError):  # a name Swift cannot hold at all
        backend.set_meta("/o.txt", {"{urn:z}kept": "new", "{urn:z}" + "n" * 200: "x"})

    assert backend.get_meta("/o.txt") == {"{urn:z}kept": "old"}


def test_overwrite_race_readers_see_old_or_new(gw: Gateway, box: str) -> None:
    assert_overwrite_race_old_or_new(gw, box + "raced.txt")


def test_delete_race_readers_see_old_content_or_404(gw: Gateway, box: str) -> None:
    path, content, seen = box + "deleted.txt", b"D" * 5000, []
    lock = threading.Lock()

    def read() -> None:
        reply = gw.get(path)
        with lock:
            seen.append((reply.status, reply.body))

    for _ in range(15):
        assert gw.put(path, content).status == 201
        readers = [threading.Thread(target=read) for _ in range(3)]
        for thread in readers:
            thread.start()
        assert gw.request("DELETE", path).status == 204
        for thread in readers:
            thread.join()
    bad = [(s, b[:60]) for s, b in seen if not (s == 200 and b == content or s == 404)]
    assert not bad, f"{len(bad)} of {len(seen)} GETs: {bad[:5]}"


def test_fifteen_200_byte_properties_are_stored_where_the_store_holds_them(
    gw: Gateway, box: str
) -> None:
    assert gw.put(box + "o.txt", b"x").status == 201
    reply = gw.request("PROPPATCH", box + "o.txt", _props(15, 200))
    assert reply.status == 207 and b"200 OK" in reply.body, reply.body[:300]
    assert gw.get(box + "o.txt").status == 200


def test_ext4_store_declares_lower_constraints_and_the_node_is_never_sidelined(
    swift_store: LocalSwift, tmp_path: Any
) -> None:
    capacity = metadata_capacity(tmp_path)
    if not constraints_for(capacity):
        pytest.skip(f"{tmp_path} holds production-size metadata ({capacity} bytes)")
    store = LocalSwift(tmp_path / "ext", swift_bin=swift_store.swift_bin, log_level="WARNING")
    with store:
        with urllib.request.urlopen(store.url + "/info", timeout=10) as reply:
            limits = json.load(reply)["swift"]
        assert limits["max_meta_overall_size"] == constraints_for(capacity)["max_meta_overall_size"]
        with swift_gateway(store) as gw:
            box = "/swift/props/"
            assert gw.request("MKCOL", box).status == 201
            assert gw.put(box + "o.txt", b"x").status == 201
            assert gw.put(box + "other.txt", b"y").status == 201
            reply = gw.request("PROPPATCH", box + "o.txt", _props(15, 200))
            assert reply.status == 207 and b"507" in reply.body, reply.body[:300]
            assert gw.get(box + "other.txt").status == 200  # no sidelined object server
            assert gw.request("PROPPATCH", box + "o.txt", _props(5, 200)).status == 207
            assert gw.get(box + "o.txt").status == 200


def _start_put(port: int, path: str, size: int, sent: int) -> socket.socket:
    """A PUT of ``size`` bytes that stops after ``sent`` (the gateway keeps waiting)."""
    import base64

    token = base64.b64encode(f"{ALICE[0]}:{ALICE[1]}".encode()).decode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {token}\r\n"
    sock.sendall(f"{head}Content-Length: {size}\r\n\r\n".encode())
    sock.sendall(b"x" * sent)
    return sock


def _segments(conn: Connection, container: str) -> list[str]:
    try:
        return [row["name"] for row in conn.get_container(container + "_segments")[1]]
    except Exception:  # noqa: BLE001 - no segments container yet
        return []


def test_orphan_segments_of_a_killed_gateway_are_swept_after_restart(
    swift_store: LocalSwift, tmp_path: Any
) -> None:
    config = swift_config(swift_store, sweep_age=1, sweep_interval=0)
    alice = connect(swift_store)
    container = f"sweep-{os.getpid()}-{int(time.time())}"
    alice.put_container(container)
    alice.put_object(container, "kept.bin", b"k")
    (tmp_path / "first").mkdir()
    first = serve_process.start_process(config, tmp_path / "first")
    try:
        sock = _start_put(first.port, f"/swift/{container}/big.bin", 8 << 20, 5 << 20)
        deadline = time.monotonic() + 20
        while len(_segments(alice, container)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(10)
        sock.close()
    finally:
        first.stop()
    left = _segments(alice, container)
    assert len(left) >= 3, left
    time.sleep(1.5)  # older than sweep_age

    (tmp_path / "second").mkdir()
    second = serve_process.start_process(config, tmp_path / "second")
    try:
        client = Gateway("127.0.0.1", second.port, {}, None, ALICE)
        assert client.request("PROPFIND", "/swift/", headers={"Depth": "0"}).status == 207
        deadline = time.monotonic() + 15
        while _segments(alice, container) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _segments(alice, container) == [], second.log_tail()
    finally:
        second.stop()
    assert alice.get_object(container, "kept.bin")[1] == b"k"
    alice.close()


def test_segments_of_a_live_manifest_are_never_swept(
    make_factory: Callable[..., SwiftFactory], swift_store: LocalSwift
) -> None:
    factory = make_factory(user_template="{user}:{user}", sweep_age=1, sweep_interval=0)
    alice = connect(swift_store)
    container = f"live-{os.getpid()}-{int(time.time())}"
    alice.put_container(container)
    backend = factory(Identity("alice", "basic", password="alice"))
    data = os.urandom(3 << 20)  # three segments of 1 MiB
    upload = backend.open_write(f"/{container}/slo.bin", size=len(data))
    for start in range(0, len(data), 1 << 18):
        upload.write(data[start : start + (1 << 18)])
    upload.commit()
    time.sleep(1.5)

    factory.sweep()

    assert len(_segments(alice, container)) == 3
    assert alice.get_object(container, "slo.bin")[1] == data
    alice.close()


def test_sweep_at_start_cleans_the_accounts_of_configured_profiles(
    make_factory: Callable[..., SwiftFactory], swift_store: LocalSwift
) -> None:
    alice = connect(swift_store)
    container = f"orphans-{os.getpid()}-{int(time.time())}"
    alice.put_container(container)
    alice.put_container(container + "_segments")
    for index in range(3):  # as an upload killed before its manifest leaves them
        name = f"gone.bin/slo/1733000000.000000/3145728/1048576/{index:08d}"
        alice.put_object(container + "_segments", name, b"s" * 10)
    alice.put_object(container + "_segments", "not-ours.txt", b"n")
    factory = make_factory(profiles={"svc": Profile(user="alice:alice", key="alice")}, sweep_age=1)
    time.sleep(1.5)

    assert factory.sweep() == 600

    assert _segments(alice, container) == ["not-ours.txt"]
    alice.close()
