"""Every WebDAV verb through a real server on the memory backend."""

from __future__ import annotations

from xml.etree import ElementTree

from tests.helpers.davxml import GET_DEAD, LOCKINFO, NAMED, PROPPATCH, propstats


def test_options_advertises_class_2_and_methods(gateway):
    reply = gateway.request("OPTIONS", "/memory/")
    assert reply.status == 200
    assert reply.header("DAV") == "1,2"
    assert {"PROPFIND", "LOCK", "PROPPATCH"} <= set(
        reply.header("Allow").replace(" ", "").split(",")
    )


def test_put_new_file_is_created_then_get_returns_it(gateway):
    assert gateway.put("/memory/a.txt", b"hello").status == 201
    reply = gateway.get("/memory/a.txt")
    assert (reply.status, reply.body) == (200, b"hello")
    assert reply.header("ETag") and reply.header("Last-Modified")


def test_put_existing_file_answers_204_and_replaces_content(gateway):
    gateway.put("/memory/a.txt", b"old")
    assert gateway.put("/memory/a.txt", b"new content").status == 204
    assert gateway.get("/memory/a.txt").body == b"new content"


def test_head_gives_length_without_body(gateway):
    gateway.put("/memory/a.txt", b"12345")
    reply = gateway.request("HEAD", "/memory/a.txt")
    assert (reply.status, reply.header("Content-Length"), reply.body) == (200, "5", b"")


def test_get_missing_is_404(gateway):
    assert gateway.get("/memory/nothing").status == 404


def test_get_range_returns_partial_content(gateway):
    gateway.put("/memory/r.bin", bytes(range(256)))
    reply = gateway.get("/memory/r.bin", headers={"Range": "bytes=10-19"})
    assert reply.status == 206
    assert reply.body == bytes(range(10, 20))
    assert reply.header("Content-Range") == "bytes 10-19/256"


def test_put_into_missing_parent_is_409(gateway):
    assert gateway.put("/memory/no/such/file", b"x").status == 409


def test_put_onto_collection_is_405(gateway):
    gateway.request("MKCOL", "/memory/dir")
    assert gateway.put("/memory/dir", b"x").status == 405


def test_mkcol_creates_then_existing_is_405_and_missing_parent_409(gateway):
    assert gateway.request("MKCOL", "/memory/dir").status == 201
    assert gateway.request("MKCOL", "/memory/dir").status == 405
    assert gateway.request("MKCOL", "/memory/a/b").status == 409


def test_delete_collection_is_recursive(gateway):
    gateway.request("MKCOL", "/memory/d")
    gateway.request("MKCOL", "/memory/d/e")
    gateway.put("/memory/d/e/f.txt", b"x")
    assert gateway.request("DELETE", "/memory/d").status == 204
    assert gateway.get("/memory/d/e/f.txt").status == 404
    assert gateway.request("DELETE", "/memory/d").status == 404


def test_copy_file_to_new_is_201_then_existing_204(gateway):
    gateway.put("/memory/src.txt", b"data")
    dest = {"Destination": "/memory/dst.txt"}
    assert gateway.request("COPY", "/memory/src.txt", headers=dest).status == 201
    assert gateway.request("COPY", "/memory/src.txt", headers=dest).status == 204
    assert gateway.get("/memory/dst.txt").body == b"data"
    assert gateway.get("/memory/src.txt").body == b"data"


def test_copy_without_overwrite_onto_existing_is_412(gateway):
    gateway.put("/memory/src.txt", b"new")
    gateway.put("/memory/dst.txt", b"old")
    headers = {"Destination": "/memory/dst.txt", "Overwrite": "F"}
    assert gateway.request("COPY", "/memory/src.txt", headers=headers).status == 412
    assert gateway.get("/memory/dst.txt").body == b"old"


def test_copy_collection_depth_0_copies_no_members(gateway):
    gateway.request("MKCOL", "/memory/c")
    gateway.put("/memory/c/f", b"x")
    headers = {"Destination": "/memory/c0", "Depth": "0"}
    assert gateway.request("COPY", "/memory/c", headers=headers).status == 201
    assert gateway.get("/memory/c0/f").status == 404
    headers = {"Destination": "/memory/cinf", "Depth": "infinity"}
    assert gateway.request("COPY", "/memory/c", headers=headers).status == 201
    assert gateway.get("/memory/cinf/f").body == b"x"


def test_move_collection_renames_it(gateway):
    gateway.request("MKCOL", "/memory/m")
    gateway.put("/memory/m/f", b"x")
    assert gateway.request("MOVE", "/memory/m", headers={"Destination": "/memory/n"}).status == 201
    assert gateway.get("/memory/n/f").body == b"x"
    assert gateway.get("/memory/m/f").status == 404


def test_move_onto_existing_with_overwrite_is_204(gateway):
    gateway.put("/memory/a", b"a")
    gateway.put("/memory/b", b"b")
    assert gateway.request("MOVE", "/memory/a", headers={"Destination": "/memory/b"}).status == 204
    assert gateway.get("/memory/b").body == b"a"


def test_propfind_depth_1_reports_live_properties(gateway):
    gateway.put("/memory/p.txt", b"12345", headers={"Content-Type": "text/x-test"})
    reply = gateway.request("PROPFIND", "/memory/", NAMED, headers={"Depth": "1"})
    assert reply.status == 207
    props = propstats(reply.body)["/memory/p.txt"]
    assert props["{DAV:}getcontentlength"] == "5"
    assert props["{DAV:}getcontenttype"] == "text/x-test"
    for name in ("getetag", "getlastmodified", "creationdate"):
        assert props["{DAV:}" + name]
    assert propstats(reply.body)["/memory/"]["{DAV:}resourcetype"] == "{DAV:}collection"


def test_propfind_depth_infinity_or_missing_is_403_by_default(gateway):
    assert gateway.request("PROPFIND", "/memory/", headers={"Depth": "infinity"}).status == 403
    assert gateway.request("PROPFIND", "/memory/").status == 403


def test_propfind_depth_infinity_allowed_when_configured(start_gateway, config):
    gw = start_gateway(config(propfind_infinity=True))
    gw.request("MKCOL", "/memory/x")
    gw.put("/memory/x/deep.txt", b"1")
    reply = gw.request("PROPFIND", "/memory/", NAMED)
    assert reply.status == 207
    assert "/memory/x/deep.txt" in propstats(reply.body)


def test_propfind_missing_is_404(gateway):
    assert gateway.request("PROPFIND", "/memory/none", headers={"Depth": "0"}).status == 404


def dead_props(gateway, path: str) -> dict[str, str]:
    reply = gateway.request("PROPFIND", path, GET_DEAD, headers={"Depth": "0"})
    assert reply.status == 207
    return next(iter(propstats(reply.body).values()))


def test_proppatch_stores_dead_properties_in_backend_metadata(gateway):
    gateway.put("/memory/d.txt", b"x")
    assert gateway.request("PROPPATCH", "/memory/d.txt", PROPPATCH).status == 207
    props = dead_props(gateway, "/memory/d.txt")
    assert props["{urn:example}colour"] == "blue"
    assert props["{urn:example}doc"] == "{urn:example}a"
    meta = gateway.factories["/memory"].tree.find("/d.txt").meta
    assert meta["{urn:example}colour"] == "blue"


def test_propfind_propname_lists_live_and_dead_property_names(gateway):
    gateway.put("/memory/d.txt", b"x")
    gateway.request("PROPPATCH", "/memory/d.txt", PROPPATCH)
    body = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'

    reply = gateway.request("PROPFIND", "/memory/d.txt", body, headers={"Depth": "0"})

    assert reply.status == 207
    root = ElementTree.fromstring(reply.body)
    names = {el.tag for el in root.iter() if el.tag.startswith("{urn:example}")}
    assert names == {"{urn:example}colour", "{urn:example}doc"}
    assert root.find(".//{DAV:}getcontentlength") is not None
    assert not (root.find(".//{urn:example}colour").text or "").strip()


def test_dead_properties_follow_copy_and_move(gateway):
    gateway.put("/memory/d.txt", b"x")
    gateway.request("PROPPATCH", "/memory/d.txt", PROPPATCH)
    gateway.request("COPY", "/memory/d.txt", headers={"Destination": "/memory/c.txt"})
    gateway.request("MOVE", "/memory/d.txt", headers={"Destination": "/memory/m.txt"})
    assert dead_props(gateway, "/memory/c.txt")["{urn:example}colour"] == "blue"
    assert dead_props(gateway, "/memory/m.txt")["{urn:example}colour"] == "blue"


def test_proppatch_remove_deletes_property(gateway):
    gateway.put("/memory/d.txt", b"x")
    gateway.request("PROPPATCH", "/memory/d.txt", PROPPATCH)
    remove = PROPPATCH.replace(b"<D:set>", b"<D:remove>").replace(b"</D:set>", b"</D:remove>")
    remove = remove.replace(b">blue<", b"><").replace(b'<Z:a x="1">t</Z:a>', b"")
    assert gateway.request("PROPPATCH", "/memory/d.txt", remove).status == 207
    assert "{urn:example}colour" not in dead_props(gateway, "/memory/d.txt")


def test_if_match_with_stale_etag_is_412(gateway):
    gateway.put("/memory/e.txt", b"1")
    stale = gateway.get("/memory/e.txt").header("ETag")
    gateway.put("/memory/e.txt", b"2")
    reply = gateway.put("/memory/e.txt", b"3", headers={"If-Match": stale})
    assert reply.status == 412
    assert gateway.get("/memory/e.txt").body == b"2"


def test_lock_blocks_other_user_until_unlock(gateway):
    gateway.put("/memory/l.txt", b"1")
    lock = gateway.request("LOCK", "/memory/l.txt", LOCKINFO, headers={"Depth": "0"})
    assert lock.status == 200
    token = lock.header("Lock-Token")
    bob = ("bob", "bob-pw")
    assert gateway.put("/memory/l.txt", b"2", user=bob).status == 423
    assert gateway.request("DELETE", "/memory/l.txt", user=bob).status == 423
    assert gateway.put("/memory/l.txt", b"3", headers={"If": f"({token})"}).status == 204
    assert gateway.request("UNLOCK", "/memory/l.txt", headers={"Lock-Token": token}).status == 204
    assert gateway.put("/memory/l.txt", b"4", user=bob).status == 204


def test_lock_on_unmapped_url_creates_empty_file(gateway):
    reply = gateway.request("LOCK", "/memory/new.txt", LOCKINFO, headers={"Depth": "0"})
    assert reply.status == 201
    assert gateway.get("/memory/new.txt").body == b""


def test_html_directory_listing_shows_members(gateway):
    gateway.put("/memory/listed.txt", b"x")
    reply = gateway.get("/memory/")
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("text/html")
    assert b"listed.txt" in reply.body


def test_read_only_user_gets_403_on_write(gateway):
    reader = ("reader", "reader-pw")
    gateway.put("/memory/r.txt", b"x")
    assert gateway.get("/memory/r.txt", user=reader).status == 200
    assert gateway.put("/memory/r.txt", b"y", user=reader).status == 403
    assert gateway.request("MKCOL", "/memory/rr", user=reader).status == 403
    assert gateway.request("DELETE", "/memory/r.txt", user=reader).status == 403


def test_read_only_share_refuses_writes_with_405(start_gateway, config):
    gw = start_gateway(config(share={"read_only": True}))
    assert gw.put("/memory/x", b"x").status == 405
    assert gw.request("PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207


def test_oversized_xml_body_is_413(start_gateway, config):
    gw = start_gateway(config(max_xml_body=100))
    reply = gw.request("PROPFIND", "/memory/", NAMED, headers={"Depth": "0"})
    assert reply.status == 413
