"""The memory share beyond the shared verb suite (tests/contract/dav_verbs.py, joined in
test_memory_dav_verbs.py): share options, other users, where dead properties are kept."""

from __future__ import annotations

from tests.helpers.davxml import LOCKINFO, NAMED, PROPPATCH, propstats


def test_propfind_depth_infinity_is_answered_when_the_share_allows_it(start_gateway, config):
    gw = start_gateway(config(propfind_infinity=True))
    gw.request("MKCOL", "/memory/x")
    gw.put("/memory/x/deep.txt", b"1")
    reply = gw.request("PROPFIND", "/memory/", NAMED)
    assert reply.status == 207
    assert "/memory/x/deep.txt" in propstats(reply.body)


def test_proppatch_stores_dead_properties_in_the_backend_metadata(gateway):
    gateway.put("/memory/d.txt", b"x")
    assert gateway.request("PROPPATCH", "/memory/d.txt", PROPPATCH).status == 207
    meta = gateway.factories["/memory"].tree.find("/d.txt").meta
    assert meta["{urn:example}colour"] == "blue"


def test_lock_blocks_another_user_until_unlock(gateway):
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


def test_writes_by_a_read_only_user_are_403(gateway):
    reader = ("reader", "reader-pw")
    gateway.put("/memory/r.txt", b"x")
    assert gateway.get("/memory/r.txt", user=reader).status == 200
    assert gateway.put("/memory/r.txt", b"y", user=reader).status == 403
    assert gateway.request("MKCOL", "/memory/rr", user=reader).status == 403
    assert gateway.request("DELETE", "/memory/r.txt", user=reader).status == 403


def test_writes_on_a_read_only_share_are_405(start_gateway, config):
    gw = start_gateway(config(share={"read_only": True}))
    assert gw.put("/memory/x", b"x").status == 405
    assert gw.request("PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207


def test_xml_body_over_max_xml_body_is_413(start_gateway, config):
    gw = start_gateway(config(max_xml_body=100))
    reply = gw.request("PROPFIND", "/memory/", NAMED, headers={"Depth": "0"})
    assert reply.status == 413
