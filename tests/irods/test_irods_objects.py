"""The iRODS share beyond the shared verb suite (tests/contract/dav_verbs.py, joined in
test_irods_dav_verbs.py), checked through PRC: catalog sizes, object ids kept by a rename,
dead properties as AVUs, and writes refused by iRODS permissions.

Each test works in its own collection under alice's home (``workdir``), as alice.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from tests.helpers.davxml import PROPPATCH
from tests.helpers.irods_gateway import README, read_object

DATA = bytes(range(256)) * 1000  # 256000 bytes, every offset distinct modulo 256


def make_tree(gw, base: str) -> None:
    """base/ with a.txt and sub/b.txt."""
    assert gw.request("MKCOL", base).status == 201
    assert gw.request("MKCOL", base + "/sub").status == 201
    assert gw.put(base + "/a.txt", b"a").status == 201
    assert gw.put(base + "/sub/b.txt", b"b").status == 201


def dav_avus(rods, path: str) -> dict[str, str]:
    """The object's AVUs named ``dav:...`` (attribute name -> value), through PRC."""
    obj = rods.data_objects.get(path)
    return {avu.name: avu.value for avu in obj.metadata.items() if avu.name.startswith("dav:")}


# --- the catalog -----------------------------------------------------------------------------


def test_put_new_overwrite_and_empty_set_the_catalog_size(gw, workdir, rods, irods_path):
    assert gw.put(workdir + "o.bin", DATA).status == 201
    assert rods.data_objects.get(irods_path(workdir + "o.bin")).size == len(DATA)
    assert gw.put(workdir + "o.bin", b"shorter").status == 204
    assert rods.data_objects.get(irods_path(workdir + "o.bin")).size == len(b"shorter")
    assert gw.put(workdir + "empty", b"").status == 201
    assert rods.data_objects.get(irods_path(workdir + "empty")).size == 0


def test_copy_object_makes_an_independent_object(gw, workdir, rods, irods_path):
    gw.put(workdir + "src.bin", DATA)
    reply = gw.request("COPY", workdir + "src.bin", headers={"Destination": workdir + "dst.bin"})
    assert reply.status == 201
    src = rods.data_objects.get(irods_path(workdir + "src.bin"))
    dst = rods.data_objects.get(irods_path(workdir + "dst.bin"))
    assert dst.id != src.id
    assert read_object(rods, dst.path) == DATA


def test_move_object_is_a_rename_keeping_the_data_object_id(gw, workdir, rods, irods_path):
    gw.put(workdir + "before.bin", DATA)
    old = rods.data_objects.get(irods_path(workdir + "before.bin"))
    reply = gw.request("MOVE", workdir + "before.bin", headers={"Destination": workdir + "after"})
    assert reply.status == 201
    moved = rods.data_objects.get(irods_path(workdir + "after"))
    assert moved.id == old.id
    assert not rods.data_objects.exists(old.path)


def test_move_collection_is_a_rename_keeping_ids(gw, workdir, rods, irods_path):
    make_tree(gw, workdir + "tree")
    coll_id = rods.collections.get(irods_path(workdir + "tree")).id
    obj_id = rods.data_objects.get(irods_path(workdir + "tree/sub/b.txt")).id
    headers = {"Destination": workdir + "moved"}
    assert gw.request("MOVE", workdir + "tree/", headers=headers).status == 201
    assert rods.collections.get(irods_path(workdir + "moved")).id == coll_id
    assert rods.data_objects.get(irods_path(workdir + "moved/sub/b.txt")).id == obj_id
    assert not rods.collections.exists(irods_path(workdir + "tree"))


# --- dead properties are AVUs ----------------------------------------------------------------


def test_proppatch_dead_property_is_an_avu_visible_through_prc(gw, workdir, rods, irods_path):
    gw.put(workdir + "p.txt", b"x")
    assert gw.request("PROPPATCH", workdir + "p.txt", PROPPATCH).status == 207
    avus = dav_avus(rods, irods_path(workdir + "p.txt"))
    colour = [name for name in avus if "colour" in name]
    assert colour == ["dav:{urn:example}colour"]
    assert avus["dav:{urn:example}colour"] == "blue"


@pytest.mark.parametrize(
    ("method", "target"), [("MOVE", "moved.txt"), ("COPY", "copied.txt"), ("PUT", "p.txt")]
)
def test_dead_property_avu_follows_move_copy_and_overwriting_put(
    gw, workdir, rods, irods_path, method, target
):
    gw.put(workdir + "p.txt", b"x")
    gw.request("PROPPATCH", workdir + "p.txt", PROPPATCH)
    if method == "PUT":
        assert gw.put(workdir + "p.txt", b"new content").status == 204
    else:
        headers = {"Destination": workdir + target}
        assert gw.request(method, workdir + "p.txt", headers=headers).status == 201
    assert dav_avus(rods, irods_path(workdir + target))["dav:{urn:example}colour"] == "blue"


# --- permissions on writes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [
        ("PUT", "/irods/shared/readme.txt", b"x"),
        ("PUT", "/irods/shared/new.txt", b"x"),
        ("MKCOL", "/irods/shared/newdir", None),
        ("DELETE", "/irods/shared/readme.txt", None),
    ],
)
def test_writes_with_read_permission_only_are_403(gw, rods, method, target, body):
    assert gw.request(method, target, body).status == 403
    assert read_object(rods, "/tempZone/home/shared/readme.txt") == README
    assert not rods.data_objects.exists("/tempZone/home/shared/new.txt")
    assert not rods.collections.exists("/tempZone/home/shared/newdir")


def test_proppatch_with_read_permission_only_reports_403_and_stores_nothing(gw, rods):
    reply = gw.request("PROPPATCH", "/irods/shared/readme.txt", PROPPATCH)
    assert reply.status == 207
    statuses = [s.text for s in ElementTree.fromstring(reply.body).iter("{DAV:}status")]
    assert statuses == ["HTTP/1.1 403 Forbidden"]
    assert dav_avus(rods, "/tempZone/home/shared/readme.txt") == {}
