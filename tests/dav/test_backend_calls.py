"""How many backend calls a request makes, and how backend failures surface."""

from __future__ import annotations

from collections import Counter

from tests.helpers.recording import RecordingFactory, fill

NAMED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/><D:getcontenttype/>
</D:prop></D:propfind>"""

DEAD = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:tag/><D:getetag/></D:prop></D:propfind>"""


def test_propfind_depth_1_lists_200_entries_with_one_backend_call(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 200)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("PROPFIND", "/memory/many/", NAMED, headers={"Depth": "1"})
    assert reply.status == 207
    assert reply.body.count(b"<D:response>") == 201
    assert factory.calls == Counter({"stat": 1, "list": 1})


def test_propfind_depth_1_dead_properties_cost_one_metadata_call(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 200)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("PROPFIND", "/memory/many/", DEAD, headers={"Depth": "1"})
    assert reply.status == 207
    assert b"seven" in reply.body
    assert factory.calls == Counter({"stat": 1, "list": 1, "list_meta": 1, "get_meta": 1})


def test_allprop_depth_1_costs_one_listing_and_one_metadata_call(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 50)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("PROPFIND", "/memory/many/", headers={"Depth": "1"})
    assert reply.status == 207
    assert b"seven" in reply.body
    assert factory.calls["list"] == 1 and factory.calls["list_meta"] == 1
    assert factory.calls["stat"] == 1


def test_backend_unreachable_is_502(start_gateway, config):
    factory = RecordingFactory(fail=ConnectionError("zone down"))
    gw = start_gateway(config(), {"/memory": factory})
    assert gw.get("/memory/x").status == 502


def test_backend_timeout_is_504(start_gateway, config):
    factory = RecordingFactory(fail=TimeoutError("too slow"))
    gw = start_gateway(config(), {"/memory": factory})
    assert gw.request("PROPFIND", "/memory/", headers={"Depth": "0"}).status == 504


def test_backend_permission_error_is_403(start_gateway, config):
    factory = RecordingFactory(fail=PermissionError("no access"))
    gw = start_gateway(config(), {"/memory": factory})
    assert gw.get("/memory/x").status == 403
