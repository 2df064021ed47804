"""Issue 18 on iRODS: paged answers never cut, dead properties all or nothing, overwrites
atomic for readers, and the leftovers of a crashed upload swept by the gateway itself."""

from __future__ import annotations

import errno
import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from irods.access import iRODSAccess

from davprovider.backend import Identity
from davprovider.irods import IrodsFactory, Options, catalog, create_factory
from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import (
    AUTH_ALICE,
    HOME,
    SHARE,
    TEMP,
    Gateway,
    gateway_config,
    start_gateway,
    wait_for_temporary,
)
from tests.helpers.races import assert_overwrite_race_old_or_new

ALICE_ID = Identity(user="alice", method="basic", password="alice")


@pytest.fixture
def factory(seeded_zone: LocalZone) -> Iterator[IrodsFactory]:
    made = create_factory(Options(port=seeded_zone.port, root="home"))
    yield made
    made.close()


def _idle_connections(backend: Any, count: int) -> None:
    """Leave ``count`` idle connections in the session's pool (as concurrent requests do)."""
    pool = backend.session.pool
    held = [pool.get_connection() for _ in range(count)]
    for conn in held:
        conn.release()
    assert len(pool.idle) >= count


def test_thousand_properties_survive_listing_overwrite_and_copy_with_idle_connections(
    factory: IrodsFactory, workdir: str
) -> None:
    folder = workdir[len(SHARE) :].rstrip("/")
    backend = factory(ALICE_ID)
    upload = backend.open_write(f"{folder}/many.txt", size=3)
    upload.write(b"one")
    upload.commit()
    props = {f"{{urn:t}}p{i:04}": f"value {i}" for i in range(1000)}
    _idle_connections(backend, 4)

    started = time.monotonic()
    backend.set_meta(f"{folder}/many.txt", props)
    took = time.monotonic() - started

    assert backend.get_meta(f"{folder}/many.txt") == props
    listed = backend.list_meta(folder, ["many.txt"])
    assert listed["many.txt"] == props
    upload = backend.open_write(f"{folder}/many.txt", size=3)
    upload.write(b"two")
    upload.commit()
    assert backend.get_meta(f"{folder}/many.txt") == props
    backend.copy(f"{folder}/many.txt", f"{folder}/copy.txt")
    assert backend.get_meta(f"{folder}/copy.txt") == props
    assert took < 10, f"1,000 properties took {took:.1f} s"


def _proppatch(count: int) -> bytes:
    props = "".join(f"<Z:p{i:04}>value {i}</Z:p{i:04}>" for i in range(count))
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" '
        f'xmlns:Z="urn:t"><D:set><D:prop>{props}</D:prop></D:set></D:propertyupdate>'
    ).encode()


def _dead_count(gw: Gateway, path: str) -> int:
    reply = gw.request("PROPFIND", path, headers={"Depth": "0"})
    assert reply.status == 207, reply
    return len(re.findall(rb"<(?!/)[^>]*:p\d{4}[ />]", reply.body))


def _hold_connections(gw: Gateway, workdir: str, count: int) -> None:
    """``count`` uploads at once (each holds a connection of alice's pooled session),
    then finished: the session keeps that many idle connections."""
    socks = [_start_put(gw.port, f"{workdir}held-{i}.bin", 2000, 1000) for i in range(count)]
    time.sleep(1.0)  # every upload has opened its temporary object
    for sock in socks:
        sock.sendall(b"x" * 1000)
        assert sock.recv(100).startswith(b"HTTP/1.1 201"), "upload failed"
        sock.close()


def test_thousand_properties_through_the_gateway_survive_overwrite_and_copy(
    gw: Gateway, workdir: str
) -> None:
    path = workdir + "many.txt"
    assert gw.put(path, b"one").status == 201
    _hold_connections(gw, workdir, 4)

    started = time.monotonic()
    reply = gw.request("PROPPATCH", path, _proppatch(1000))
    took = time.monotonic() - started
    assert reply.status == 207 and b"200 OK" in reply.body, reply.body[:300]

    assert _dead_count(gw, path) == 1000
    assert gw.put(path, b"two").status == 204
    assert _dead_count(gw, path) == 1000
    assert gw.request("COPY", path, headers={"Destination": workdir + "copy.txt"}).status == 201
    assert _dead_count(gw, workdir + "copy.txt") == 1000
    print(f"PROPPATCH of 1,000 properties: {took:.2f} s")


def test_an_answer_cut_short_is_an_error_not_fewer_properties(
    factory: IrodsFactory, workdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = workdir[len(SHARE) :].rstrip("/")
    backend = factory(ALICE_ID)
    backend.mkdir(f"{folder}/c")
    backend.set_meta(f"{folder}/c", {f"{{urn:t}}p{i:04}": "v" for i in range(600)})
    original = catalog._ask

    def losing_continuations(conn: Any, page: Any, *, counted: bool) -> Any:
        if page._continue_index > 0:
            return None  # as the zone answers a continuation it does not know
        return original(conn, page, counted=counted)

    monkeypatch.setattr(catalog, "_ask", losing_continuations)
    with pytest.raises(ConnectionError):
        backend.get_meta(f"{folder}/c")


def test_set_meta_checks_every_name_before_writing_any(factory: IrodsFactory, workdir: str) -> None:
    folder = workdir[len(SHARE) :].rstrip("/")
    backend = factory(ALICE_ID)
    backend.mkdir(f"{folder}/c")
    backend.set_meta(f"{folder}/c", {"{urn:t}kept": "old"})

    with pytest.raises(ValueError):
        backend.set_meta(f"{folder}/c", {"{urn:t}kept": "new", "{urn:t}" + "n" * 3000: "x"})
    with pytest.raises(OSError) as too_long:
        backend.set_meta(f"{folder}/c", {"{urn:t}kept": "new", "{urn:t}big": "v" * 3000})

    assert too_long.value.errno == errno.ENOSPC
    assert backend.get_meta(f"{folder}/c") == {"{urn:t}kept": "old"}


def test_overwrite_race_readers_see_old_or_new(gw: Gateway, workdir: str) -> None:
    assert_overwrite_race_old_or_new(gw, workdir + "raced.txt")


def test_overwrite_race_backend_readers_never_miss(factory: IrodsFactory, workdir: str) -> None:
    """The same race at the storage contract, where nothing else spaces the calls out
    (before: about a third of these reads were FileNotFoundError)."""
    path, contents = workdir[len(SHARE) :] + "raced.bin", [b"A" * 5000, b"B" * 5000]
    done, seen, bad = threading.Event(), [0], []

    def put(data: bytes) -> None:
        upload = factory(ALICE_ID).open_write(path, size=len(data))
        upload.write(data)
        upload.commit()

    def read() -> None:
        while not done.is_set():
            backend = factory(ALICE_ID)
            try:
                backend.stat(path)
                with backend.open_read(path) as stream:
                    data = stream.read(10000)
                if data not in contents:
                    bad.append(f"{len(data)} bytes")
            except OSError as exc:
                bad.append(repr(exc))
            seen[0] += 1

    put(contents[0])
    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for i in range(60):
            put(contents[i % 2])
    finally:
        done.set()
        for thread in readers:
            thread.join()
    assert not bad, f"{len(bad)} of {seen[0]} reads: {bad[:5]}"
    print(f"backend overwrite race: {seen[0]} reads during 60 overwrites, all old or new")


def test_delete_race_readers_see_old_content_or_404(gw: Gateway, workdir: str) -> None:
    path, content, seen = workdir + "deleted.txt", b"D" * 5000, []
    for _ in range(15):
        assert gw.put(path, content).status == 201
        seen += _race_delete(gw, path)
    bad = [(s, b[:40]) for s, b in seen if not (s == 200 and b == content or s == 404)]
    assert not bad, f"{len(bad)} of {len(seen)} GETs: {bad[:5]}"


def _race_delete(gw: Gateway, path: str) -> list[tuple[int, bytes]]:
    results: list[tuple[int, bytes]] = []
    readers = [threading.Thread(target=lambda: results.append(_get(gw, path))) for _ in range(3)]
    for thread in readers:
        thread.start()
    assert gw.request("DELETE", path).status == 204
    for thread in readers:
        thread.join()
    return results


def _get(gw: Gateway, path: str) -> tuple[int, bytes]:
    reply = gw.get(path)
    return reply.status, reply.body


def _start_put(port: int, path: str, size: int, sent: int) -> socket.socket:
    """A PUT of ``size`` bytes that stops after ``sent`` (the gateway keeps waiting)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH_ALICE}\r\n"
    sock.sendall(f"{head}Content-Length: {size}\r\n\r\n".encode())
    sock.sendall(b"x" * sent)
    return sock


@pytest.mark.parametrize("proxy", [False, True], ids=["own-session", "proxy-zone-wide"])
def test_upload_left_by_a_killed_gateway_is_swept_after_restart(
    seeded_zone: LocalZone, rods: Any, tmp_path: Any, proxy: bool
) -> None:
    config = gateway_config(seeded_zone.port)
    options = config["shares"][0]["options"]
    options.update(sweep_age=1, sweep_interval=0)
    if proxy:
        options.update(proxy_user="rods", proxy_password="rods")
    collection = f"{HOME}/alice/sweep-{int(proxy)}"
    rods.collections.create(collection)
    rods.acls.set(iRODSAccess("own", collection, "alice"))
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    first = start_gateway(config, tmp_path / "first")
    try:
        sock = _start_put(
            first.port, f"{SHARE}/alice/sweep-{int(proxy)}/big.bin", 50 << 20, 9 << 20
        )
        temp = wait_for_temporary(rods, collection)
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(10)
        sock.close()
    finally:
        first.stop()
    time.sleep(1.5)  # older than sweep_age
    assert rods.data_objects.exists(f"{collection}/{temp}")

    second = start_gateway(config, tmp_path / "second")
    try:
        if not proxy:  # alice's own leftovers go when her session opens
            assert (
                second.client.request("PROPFIND", f"{SHARE}/alice/", headers={"Depth": "0"}).status
                == 207
            )
        deadline = time.monotonic() + 10
        while rods.data_objects.exists(f"{collection}/{temp}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not rods.data_objects.exists(f"{collection}/{temp}"), second.log_tail()
    finally:
        second.stop()
    assert not any(o.name.startswith(TEMP) for o in rods.collections.get(collection).data_objects)
