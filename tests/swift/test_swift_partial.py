"""Folder DELETE, COPY and MOVE on the swift share when Swift refuses some members:
207 Multi-Status naming each failed member with its status, what succeeded stays done.

The failures are Swift's own: bob may write alice's container but only read its
segments container, so a large object (SLO) there cannot be deleted by him; and an
object name longer than Swift's 1024 bytes cannot be created by a COPY or MOVE."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from davprovider.backend import Identity, PartialFailure
from localgrid.swift import LocalSwift
from tests.helpers.client_sequences import LOCKINFO, lock_token
from tests.helpers.gateway import Gateway
from tests.helpers.swift_gateway import BOB, connect, swift_gateway
from tests.helpers.swift_helpers import MiB, names

LONG = "L" * 1000  # "<folder>/" + LONG fits Swift's 1024 bytes; under a longer folder it does not
BIG = bytes(range(256)) * (6 * 4096 + 1)  # 6 MiB + 256 bytes: an SLO of 7 segments


def failures(body: bytes) -> dict[str, str]:
    """href -> status line of each response in a 207 body."""
    root = ElementTree.fromstring(body)
    return {
        r.findtext("{DAV:}href") or "": r.findtext("{DAV:}status") or ""
        for r in root.iter("{DAV:}response")
    }


@pytest.fixture(scope="module")
def alice_gw(swift_store: LocalSwift) -> Iterator[Gateway]:
    with swift_gateway(swift_store) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def alice(swift_store: LocalSwift) -> Iterator[Any]:
    conn = connect(swift_store)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def bob_gw(swift_store: LocalSwift, alice: Any) -> Iterator[Gateway]:
    """A share on which bob works in alice's account (``storage_url``)."""
    with swift_gateway(swift_store, BOB, storage_url=alice.get_auth()[0]) as gateway:
        yield gateway


@pytest.fixture
def shared(alice_gw: Gateway, alice: Any) -> Iterator[str]:
    """alice's container ``/swift/<c>/`` with ``dir/`` (a.txt, sub/b.txt, big.bin as an
    SLO, a dead property); bob may write it but only read its segments."""
    container = f"p-{uuid.uuid4().hex[:8]}"
    path = f"/swift/{container}/"
    assert alice_gw.request("MKCOL", path).status == 201
    assert alice_gw.request("MKCOL", path + "dir/").status == 201
    assert alice_gw.request("MKCOL", path + "dir/sub/").status == 201
    for name, body in (("a.txt", b"a"), ("sub/b.txt", b"b"), ("big.bin", BIG)):
        assert alice_gw.put(f"{path}dir/{name}", body).status == 201
    patch = b"""<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">
    <D:set><D:prop><Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"""
    assert alice_gw.request("PROPPATCH", path + "dir/", patch).status == 207
    alice.post_container(container, {"X-Container-Read": "bob:bob", "X-Container-Write": "bob:bob"})
    alice.post_container(container + "_segments", {"X-Container-Read": "bob:bob"})
    try:
        yield path
    finally:
        alice_gw.request("DELETE", path)


def test_delete_of_a_folder_names_the_member_swift_refused_and_deletes_the_rest(
    bob_gw, alice_gw, alice, shared
):
    reply = bob_gw.request("DELETE", shared + "dir/")

    assert reply.status == 207
    assert failures(reply.body) == {shared + "dir/big.bin": "HTTP/1.1 403 Forbidden"}
    container = shared.split("/")[2]
    assert names(alice, container) == ["dir/", "dir/big.bin"]  # the folder keeps its marker
    assert alice_gw.get(shared + "dir/big.bin").body == BIG  # whole: no segment was deleted
    found = alice_gw.request("PROPFIND", shared + "dir/", headers={"Depth": "0"})
    assert found.status == 207 and b"blue" in found.body


def test_copy_of_a_folder_names_the_member_that_cannot_be_created(alice_gw, alice, shared):
    assert alice_gw.put(f"{shared}dir/{LONG}", b"long").status == 201
    target = shared + "a-destination-folder-name/"  # 27 more bytes: LONG no longer fits

    reply = alice_gw.request("COPY", shared + "dir/", headers={"Destination": target})

    assert reply.status == 207
    assert failures(reply.body) == {target + LONG: "HTTP/1.1 400 Bad Request"}
    assert alice_gw.get(target + "a.txt").body == b"a"
    assert alice_gw.get(target + "big.bin").body == BIG
    assert alice_gw.get(f"{shared}dir/{LONG}").body == b"long"


def test_move_of_a_folder_moves_what_it_can_and_keeps_the_rest(alice_gw, alice, shared):
    assert alice_gw.put(f"{shared}dir/{LONG}", b"long").status == 201
    target = shared + "a-destination-folder-name/"
    lock = alice_gw.request("LOCK", shared + "dir/", LOCKINFO % b"alice", {"Depth": "infinity"})
    token = lock_token(lock)
    headers = {"Destination": target, "If": f"({token})"}

    reply = alice_gw.request("MOVE", shared + "dir/", headers=headers)

    assert reply.status == 207
    assert failures(reply.body) == {target + LONG: "HTTP/1.1 400 Bad Request"}
    container = shared.split("/")[2]
    assert names(alice, container, "dir/") == ["dir/", f"dir/{LONG}"]
    unlock = alice_gw.request("UNLOCK", shared + "dir/", headers={"Lock-Token": token})
    assert unlock.status == 204  # the source folder stayed, and so did its lock
    assert alice_gw.get(target + "sub/b.txt").body == b"b"
    assert alice_gw.get(target + "big.bin").body == BIG
    assert len(names(alice, container + "_segments")) == 7  # moved along, not copied


def test_the_lock_of_a_folder_that_stays_is_kept(bob_gw, shared):
    lock = bob_gw.request("LOCK", shared + "dir/", LOCKINFO % b"bob", {"Depth": "infinity"})
    token = lock_token(lock)

    reply = bob_gw.request("DELETE", shared + "dir/", headers={"If": f"({token})"})

    assert reply.status == 207  # dir/ stays (big.bin is in it), so does its lock
    assert bob_gw.put(f"{shared}dir/a.txt", b"again").status == 423
    assert bob_gw.put(f"{shared}dir/a.txt", b"again", headers={"If": f"({token})"}).status == 201
    unlock = bob_gw.request("UNLOCK", shared + "dir/", headers={"Lock-Token": token})
    assert unlock.status == 204


def test_the_backend_reports_each_failure_with_its_share_path(make_factory, alice, shared):
    container = shared.split("/")[2]
    backend = make_factory(storage_url=alice.get_auth()[0], container=container)(
        Identity(user="bob:bob", method="basic", password="bob")
    )
    with pytest.raises(PartialFailure) as caught:
        backend.remove("/dir", recursive=True)
    ((path, error),) = caught.value.failures
    assert path == "/dir/big.bin" and isinstance(error, PermissionError)
    assert quote(path) in str(caught.value)
    assert [e.name for e in backend.list("/dir")] == ["big.bin"]
    assert MiB < backend.stat("/dir/big.bin").size
