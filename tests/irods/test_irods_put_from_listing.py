"""A PUT whose target the caller's cached folder listing does not show is written with
no lookup (``dav/cache.py``, ``open_write(absent=True)``). What was made outside the
gateway since that listing is still handled: an object is replaced whole (or, with
``If-None-Match: *``, kept: 412), a collection is never written over."""

from __future__ import annotations

from typing import Any

DATA = b"from the gateway" * 100
FRESH = {"Cache-Control": "no-cache"}


def listed(gw: Any, folder: str) -> None:
    assert gw.request("PROPFIND", folder, headers={"Depth": "1"}).status == 207


def test_an_object_made_outside_since_the_listing_is_replaced_whole(
    gw: Any, workdir: str, alice_prc: Any, irods_path: Any
) -> None:
    listed(gw, workdir)
    with alice_prc.data_objects.open(irods_path(workdir + "outside.txt"), "w") as handle:
        handle.write(b"made outside")
    kept = gw.request("PUT", workdir + "outside.txt", DATA, headers={"If-None-Match": "*"})
    assert kept.status == 412
    assert gw.request("PUT", workdir + "outside.txt", DATA).status in (201, 204)
    assert gw.request("GET", workdir + "outside.txt", headers=FRESH).body == DATA
    names = [o.name for o in alice_prc.collections.get(irods_path(workdir)).data_objects]
    assert names == ["outside.txt"]  # no temporary or aside object left


def test_a_collection_made_outside_since_the_listing_is_not_written_over(
    gw: Any, workdir: str, alice_prc: Any, irods_path: Any
) -> None:
    listed(gw, workdir)
    alice_prc.collections.create(irods_path(workdir + "made"))
    with alice_prc.data_objects.open(irods_path(workdir + "made/inside.txt"), "w") as handle:
        handle.write(b"inside")
    reply = gw.request("PUT", workdir + "made", DATA)
    assert 400 <= reply.status < 500, reply
    collection = alice_prc.collections.get(irods_path(workdir))
    assert [c.name for c in collection.subcollections] == ["made"]
    assert collection.data_objects == []
    with alice_prc.data_objects.open(irods_path(workdir + "made/inside.txt"), "r") as handle:
        assert handle.read() == b"inside"
