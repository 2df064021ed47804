"""Every WebDAV verb through the HTTP server on the iRODS share, checked through PRC.

Each test works in its own collection under alice's home (``workdir``), as alice.
"""

from __future__ import annotations

import http.client
from xml.etree import ElementTree

import pytest

from tests.helpers.davxml import GET_DEAD, LOCKINFO, NAMED, PROPPATCH, hrefs, propstats
from tests.helpers.irods_gateway import AUTH_ALICE, README, read_object

DATA = bytes(range(256)) * 1000  # 256000 bytes, every offset distinct modulo 256


# --- OPTIONS, HEAD, GET --------------------------------------------------------------------


def test_options_advertises_dav_class_1_and_2(gw, workdir):
    reply = gw.request("OPTIONS", workdir)
    assert reply.status == 200
    classes = {c.strip() for c in (reply.header("DAV") or "").split(",")}
    assert {"1", "2"} <= classes
    assert "PROPFIND" in (reply.header("Allow") or "")


def test_head_gives_length_and_etag_without_body(gw, workdir):
    gw.put(workdir + "h.bin", DATA)
    reply = gw.request("HEAD", workdir + "h.bin")
    assert reply.status == 200
    assert reply.header("Content-Length") == str(len(DATA))
    assert reply.header("ETag")
    assert reply.header("Last-Modified")
    assert reply.body == b""


def test_get_returns_the_object_content(gw, workdir):
    assert gw.put(workdir + "g.bin", DATA).status == 201
    reply = gw.get(workdir + "g.bin")
    assert reply.status == 200
    assert reply.body == DATA
    assert reply.header("Content-Length") == str(len(DATA))


def test_get_missing_object_is_404(gw, workdir):
    assert gw.get(workdir + "none.bin").status == 404


def test_get_single_range_returns_206_with_that_slice(gw, workdir):
    gw.put(workdir + "r.bin", DATA)
    reply = gw.get(workdir + "r.bin", headers={"Range": "bytes=1000-1999"})
    assert reply.status == 206
    assert reply.body == DATA[1000:2000]
    assert reply.header("Content-Range") == f"bytes 1000-1999/{len(DATA)}"


def test_get_suffix_range_returns_the_last_bytes(gw, workdir):
    gw.put(workdir + "r.bin", DATA)
    reply = gw.get(workdir + "r.bin", headers={"Range": "bytes=-500"})
    assert reply.status == 206
    assert reply.body == DATA[-500:]
    assert reply.header("Content-Range") == f"bytes {len(DATA) - 500}-{len(DATA) - 1}/{len(DATA)}"


def test_get_unsatisfiable_range_is_416(gw, workdir):
    gw.put(workdir + "r.bin", DATA)
    reply = gw.get(workdir + "r.bin", headers={"Range": f"bytes={len(DATA) + 10}-"})
    assert reply.status == 416


def test_get_of_a_collection_is_an_html_listing(gw, workdir):
    gw.put(workdir + "listed.txt", b"x")
    reply = gw.get(workdir)
    assert reply.status == 200
    assert (reply.header("Content-Type") or "").startswith("text/html")
    assert b"listed.txt" in reply.body


# --- PUT -----------------------------------------------------------------------------------


def test_put_new_object_is_201_and_stored_in_irods(gw, workdir, rods, irods_path):
    assert gw.put(workdir + "new.bin", DATA).status == 201
    path = irods_path(workdir + "new.bin")
    assert read_object(rods, path) == DATA
    assert rods.data_objects.get(path).size == len(DATA)


def test_put_overwrite_is_204_and_replaces_content_in_irods(gw, workdir, rods, irods_path):
    gw.put(workdir + "o.bin", DATA)
    assert gw.put(workdir + "o.bin", b"shorter").status == 204
    path = irods_path(workdir + "o.bin")
    assert read_object(rods, path) == b"shorter"
    assert rods.data_objects.get(path).size == len(b"shorter")
    assert gw.get(workdir + "o.bin").body == b"shorter"


def test_put_empty_body_creates_empty_object(gw, workdir, rods, irods_path):
    assert gw.put(workdir + "empty", b"").status == 201
    assert rods.data_objects.get(irods_path(workdir + "empty")).size == 0


def test_put_into_missing_collection_is_409(gw, workdir):
    assert gw.put(workdir + "no/such/x.bin", b"x").status == 409


def test_chunked_put_stores_every_chunk(gw, gateway_process, workdir, rods, irods_path):
    pieces = [bytes([i]) * (70_000 + i) for i in range(12)]  # not block-aligned
    conn = http.client.HTTPConnection("127.0.0.1", gateway_process.port, timeout=20)
    try:
        conn.request(
            "PUT",
            workdir + "chunked.bin",
            body=iter(pieces),
            encode_chunked=True,
            headers={"Authorization": AUTH_ALICE, "Transfer-Encoding": "chunked"},
        )
        reply = conn.getresponse()
        reply.read()
        assert reply.status == 201
    finally:
        conn.close()
    path = irods_path(workdir + "chunked.bin")
    assert read_object(rods, path) == b"".join(pieces)
    assert rods.data_objects.get(path).size == sum(map(len, pieces))


# --- DELETE, MKCOL -------------------------------------------------------------------------


def test_delete_object_removes_it_from_irods(gw, workdir, rods, irods_path):
    gw.put(workdir + "d.bin", b"x")
    assert gw.request("DELETE", workdir + "d.bin").status == 204
    assert not rods.data_objects.exists(irods_path(workdir + "d.bin"))
    assert gw.get(workdir + "d.bin").status == 404


def test_delete_collection_removes_the_whole_tree(gw, workdir, rods, irods_path):
    assert gw.request("MKCOL", workdir + "tree").status == 201
    assert gw.request("MKCOL", workdir + "tree/sub").status == 201
    gw.put(workdir + "tree/a.txt", b"a")
    gw.put(workdir + "tree/sub/b.txt", b"b")
    assert gw.request("DELETE", workdir + "tree/").status == 204
    assert not rods.collections.exists(irods_path(workdir + "tree"))
    assert not rods.data_objects.exists(irods_path(workdir + "tree/sub/b.txt"))
    assert gw.request("PROPFIND", workdir + "tree/", headers={"Depth": "0"}).status == 404


def test_delete_missing_is_404(gw, workdir):
    assert gw.request("DELETE", workdir + "none").status == 404


def test_mkcol_creates_collection_with_201(gw, workdir, rods, irods_path):
    assert gw.request("MKCOL", workdir + "made").status == 201
    assert rods.collections.exists(irods_path(workdir + "made"))


def test_mkcol_on_existing_collection_is_405(gw, workdir):
    gw.request("MKCOL", workdir + "twice")
    assert gw.request("MKCOL", workdir + "twice").status == 405


def test_mkcol_on_existing_object_is_405(gw, workdir):
    gw.put(workdir + "file", b"x")
    assert gw.request("MKCOL", workdir + "file").status == 405


def test_mkcol_with_missing_parent_is_409(gw, workdir, rods, irods_path):
    assert gw.request("MKCOL", workdir + "no/such").status == 409
    assert not rods.collections.exists(irods_path(workdir + "no"))


# --- COPY ----------------------------------------------------------------------------------


def make_tree(gw, base: str) -> None:
    """base/ with a.txt and sub/b.txt."""
    assert gw.request("MKCOL", base).status == 201
    assert gw.request("MKCOL", base + "/sub").status == 201
    assert gw.put(base + "/a.txt", b"a").status == 201
    assert gw.put(base + "/sub/b.txt", b"b").status == 201


def test_copy_object_makes_an_independent_object(gw, workdir, rods, irods_path):
    gw.put(workdir + "src.bin", DATA)
    reply = gw.request("COPY", workdir + "src.bin", headers={"Destination": workdir + "dst.bin"})
    assert reply.status == 201
    src = rods.data_objects.get(irods_path(workdir + "src.bin"))
    dst = rods.data_objects.get(irods_path(workdir + "dst.bin"))
    assert dst.id != src.id
    assert read_object(rods, dst.path) == DATA
    assert read_object(rods, src.path) == DATA


def test_copy_collection_depth_infinity_copies_every_member(gw, workdir, rods, irods_path):
    make_tree(gw, workdir + "tree")
    headers = {"Destination": workdir + "copy", "Depth": "infinity"}
    assert gw.request("COPY", workdir + "tree", headers=headers).status == 201
    assert read_object(rods, irods_path(workdir + "copy/a.txt")) == b"a"
    assert read_object(rods, irods_path(workdir + "copy/sub/b.txt")) == b"b"
    assert rods.data_objects.exists(irods_path(workdir + "tree/sub/b.txt"))


def test_copy_collection_depth_0_copies_only_the_collection(gw, workdir, rods, irods_path):
    make_tree(gw, workdir + "tree")
    headers = {"Destination": workdir + "shallow", "Depth": "0"}
    assert gw.request("COPY", workdir + "tree", headers=headers).status == 201
    copied = rods.collections.get(irods_path(workdir + "shallow"))
    assert copied.data_objects == []
    assert copied.subcollections == []


def test_copy_onto_existing_with_overwrite_f_is_412_and_keeps_target(gw, workdir):
    gw.put(workdir + "src.bin", b"new")
    gw.put(workdir + "dst.bin", b"old")
    headers = {"Destination": workdir + "dst.bin", "Overwrite": "F"}
    assert gw.request("COPY", workdir + "src.bin", headers=headers).status == 412
    assert gw.get(workdir + "dst.bin").body == b"old"


def test_copy_onto_existing_with_overwrite_t_replaces_target(gw, workdir):
    gw.put(workdir + "src.bin", b"new")
    gw.put(workdir + "dst.bin", b"old")
    headers = {"Destination": workdir + "dst.bin", "Overwrite": "T"}
    assert gw.request("COPY", workdir + "src.bin", headers=headers).status == 204
    assert gw.get(workdir + "dst.bin").body == b"new"


def test_copy_into_missing_collection_is_409(gw, workdir):
    gw.put(workdir + "src.bin", b"x")
    headers = {"Destination": workdir + "no/such/dst.bin"}
    assert gw.request("COPY", workdir + "src.bin", headers=headers).status == 409


# --- MOVE ----------------------------------------------------------------------------------


def test_move_object_is_a_rename_keeping_the_data_object_id(gw, workdir, rods, irods_path):
    gw.put(workdir + "before.bin", DATA)
    old = rods.data_objects.get(irods_path(workdir + "before.bin"))
    reply = gw.request("MOVE", workdir + "before.bin", headers={"Destination": workdir + "after"})
    assert reply.status == 201
    moved = rods.data_objects.get(irods_path(workdir + "after"))
    assert moved.id == old.id
    assert not rods.data_objects.exists(old.path)
    assert gw.get(workdir + "after").body == DATA


def test_move_collection_is_a_rename_keeping_ids(gw, workdir, rods, irods_path):
    make_tree(gw, workdir + "tree")
    coll_id = rods.collections.get(irods_path(workdir + "tree")).id
    obj_id = rods.data_objects.get(irods_path(workdir + "tree/sub/b.txt")).id
    headers = {"Destination": workdir + "moved"}
    assert gw.request("MOVE", workdir + "tree/", headers=headers).status == 201
    assert rods.collections.get(irods_path(workdir + "moved")).id == coll_id
    assert rods.data_objects.get(irods_path(workdir + "moved/sub/b.txt")).id == obj_id
    assert not rods.collections.exists(irods_path(workdir + "tree"))


def test_move_onto_existing_with_overwrite_f_is_412_and_moves_nothing(gw, workdir):
    gw.put(workdir + "src.bin", b"new")
    gw.put(workdir + "dst.bin", b"old")
    headers = {"Destination": workdir + "dst.bin", "Overwrite": "F"}
    assert gw.request("MOVE", workdir + "src.bin", headers=headers).status == 412
    assert gw.get(workdir + "dst.bin").body == b"old"
    assert gw.get(workdir + "src.bin").body == b"new"


def test_move_onto_existing_with_overwrite_t_replaces_target(gw, workdir):
    gw.put(workdir + "src.bin", b"new")
    gw.put(workdir + "dst.bin", b"old")
    headers = {"Destination": workdir + "dst.bin", "Overwrite": "T"}
    assert gw.request("MOVE", workdir + "src.bin", headers=headers).status == 204
    assert gw.get(workdir + "dst.bin").body == b"new"
    assert gw.get(workdir + "src.bin").status == 404


# --- PROPFIND ------------------------------------------------------------------------------

LENGTH, MODIFIED, ETAG = "{DAV:}getcontentlength", "{DAV:}getlastmodified", "{DAV:}getetag"


def test_propfind_depth_0_describes_only_the_resource(gw, workdir):
    gw.put(workdir + "one.bin", DATA)
    reply = gw.request("PROPFIND", workdir + "one.bin", NAMED, headers={"Depth": "0"})
    assert reply.status == 207
    found = hrefs(reply.body)
    assert list(found) == [workdir + "one.bin"]
    props = found[workdir + "one.bin"]
    assert props[LENGTH] == str(len(DATA))
    assert props[MODIFIED] and props[ETAG]


def test_propfind_depth_1_lists_members_with_their_properties(gw, workdir):
    gw.put(workdir + "a.txt", b"a")
    gw.put(workdir + "b.bin", DATA)
    gw.request("MKCOL", workdir + "sub")
    reply = gw.request("PROPFIND", workdir, NAMED, headers={"Depth": "1"})
    assert reply.status == 207
    found = hrefs(reply.body)
    assert set(found) == {workdir, workdir + "a.txt", workdir + "b.bin", workdir + "sub/"}
    assert found[workdir + "a.txt"][LENGTH] == "1"
    assert found[workdir + "b.bin"][LENGTH] == str(len(DATA))
    assert found[workdir + "sub/"]["{DAV:}resourcetype"] == "{DAV:}collection"
    for name in ("a.txt", "b.bin"):
        assert found[workdir + name][MODIFIED], name
        assert found[workdir + name][ETAG], name
    assert found[workdir + "a.txt"][ETAG] != found[workdir + "b.bin"][ETAG]


def test_propfind_allprop_without_body_works_at_depth_1(gw, workdir):
    gw.put(workdir + "a.txt", b"abc")
    reply = gw.request("PROPFIND", workdir, headers={"Depth": "1"})
    assert reply.status == 207
    assert hrefs(reply.body)[workdir + "a.txt"][LENGTH] == "3"


def test_propfind_depth_infinity_is_refused_with_403(gw, workdir):
    reply = gw.request("PROPFIND", workdir, NAMED, headers={"Depth": "infinity"})
    assert reply.status == 403
    assert b"propfind-finite-depth" in reply.body


def test_propfind_without_depth_header_is_treated_as_infinity(gw, workdir):
    reply = gw.request("PROPFIND", workdir, NAMED)
    assert reply.status == 403
    assert b"propfind-finite-depth" in reply.body


# --- PROPPATCH -----------------------------------------------------------------------------


def dav_avus(rods, path: str) -> dict[str, str]:
    """The object's AVUs named ``dav:...`` (attribute name -> value), through PRC."""
    obj = rods.data_objects.get(path)
    return {avu.name: avu.value for avu in obj.metadata.items() if avu.name.startswith("dav:")}


def dead_props(gw, path: str) -> dict[str, str]:
    reply = gw.request("PROPFIND", path, GET_DEAD, headers={"Depth": "0"})
    assert reply.status == 207
    return next(iter(propstats(reply.body).values()))


def test_proppatch_dead_property_is_an_avu_visible_through_prc(gw, workdir, rods, irods_path):
    gw.put(workdir + "p.txt", b"x")
    reply = gw.request("PROPPATCH", workdir + "p.txt", PROPPATCH)
    assert reply.status == 207
    assert b"200 OK" in reply.body
    avus = dav_avus(rods, irods_path(workdir + "p.txt"))
    colour = [name for name in avus if "colour" in name]
    assert colour == ["dav:{urn:example}colour"]
    assert avus["dav:{urn:example}colour"] == "blue"
    assert dead_props(gw, workdir + "p.txt")["{urn:example}colour"] == "blue"


def test_dead_property_survives_move(gw, workdir, rods, irods_path):
    gw.put(workdir + "p.txt", b"x")
    gw.request("PROPPATCH", workdir + "p.txt", PROPPATCH)
    headers = {"Destination": workdir + "moved.txt"}
    assert gw.request("MOVE", workdir + "p.txt", headers=headers).status == 201
    assert dav_avus(rods, irods_path(workdir + "moved.txt"))["dav:{urn:example}colour"] == "blue"
    props = dead_props(gw, workdir + "moved.txt")
    assert props["{urn:example}colour"] == "blue"
    assert props["{urn:example}doc"] == "{urn:example}a"


def test_dead_property_is_copied_with_the_object(gw, workdir, rods, irods_path):
    gw.put(workdir + "p.txt", b"x")
    gw.request("PROPPATCH", workdir + "p.txt", PROPPATCH)
    headers = {"Destination": workdir + "copied.txt"}
    assert gw.request("COPY", workdir + "p.txt", headers=headers).status == 201
    assert dav_avus(rods, irods_path(workdir + "copied.txt"))["dav:{urn:example}colour"] == "blue"


def test_dead_property_survives_overwriting_put(gw, workdir, rods, irods_path):
    gw.put(workdir + "p.txt", b"x")
    gw.request("PROPPATCH", workdir + "p.txt", PROPPATCH)
    assert gw.put(workdir + "p.txt", b"new content").status == 204
    assert dav_avus(rods, irods_path(workdir + "p.txt"))["dav:{urn:example}colour"] == "blue"


# --- LOCK, UNLOCK --------------------------------------------------------------------------


def test_locked_object_refuses_put_without_token_and_accepts_it_with_if(gw, workdir):
    gw.put(workdir + "l.txt", b"1")
    lock = gw.request("LOCK", workdir + "l.txt", LOCKINFO, headers={"Depth": "0"})
    assert lock.status == 200
    token = lock.header("Lock-Token")
    assert token and token.startswith("<")
    assert gw.put(workdir + "l.txt", b"2").status == 423
    assert gw.request("DELETE", workdir + "l.txt").status == 423
    assert gw.put(workdir + "l.txt", b"3", headers={"If": f"({token})"}).status == 204
    assert gw.get(workdir + "l.txt").body == b"3"
    unlock = gw.request("UNLOCK", workdir + "l.txt", headers={"Lock-Token": token})
    assert unlock.status == 204
    assert gw.put(workdir + "l.txt", b"4").status == 204
    assert gw.get(workdir + "l.txt").body == b"4"


def test_lock_on_unmapped_url_creates_an_empty_object(gw, workdir, rods, irods_path):
    reply = gw.request("LOCK", workdir + "new.txt", LOCKINFO, headers={"Depth": "0"})
    assert reply.status == 201
    assert rods.data_objects.get(irods_path(workdir + "new.txt")).size == 0
    token = reply.header("Lock-Token")
    assert gw.request("UNLOCK", workdir + "new.txt", headers={"Lock-Token": token}).status == 204


# --- permissions on writes -----------------------------------------------------------------


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
