"""How many iRODS requests a PROPFIND costs: listings grow with GenQuery pages, not entries.

The gateway runs in-process (so the wire can be counted) over the local zone; the count
wraps python-irodsclient's own message sending and changes nothing it sends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from dav.conftest import running_gateway
from irods.connection import Connection
from irods_gateway import ALICE, HOME, gateway_config, seed

from davprovider.backend import Identity
from davprovider.irods import Options, create_factory
from localgrid.irods import LocalZone

NAMED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/>
</D:prop></D:propfind>"""
GENQUERY = 702


@pytest.fixture(scope="module")
def listed_zone(irods_zone: LocalZone) -> LocalZone:
    seed(irods_zone)
    with irods_zone.session(*ALICE) as alice:
        for count in (10, 1200):
            coll = f"{HOME}/alice/many{count}"
            alice.collections.create(coll)
            for i in range(count):
                alice.data_objects.create(f"{coll}/f{i:05}.txt")
    return irods_zone


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    calls: Counter[int] = Counter()
    original = Connection.send

    def counting_send(self: Any, message: Any) -> Any:
        if message.msg_type == "RODS_API_REQ":
            calls[int(message.int_info)] += 1
        return original(self, message)

    monkeypatch.setattr(Connection, "send", counting_send)
    return calls


@pytest.fixture
def gw(listed_zone: LocalZone) -> Iterator[Any]:
    config = gateway_config(listed_zone.port)
    factory = create_factory(Options(port=listed_zone.port, root="home"))
    with running_gateway(config, {"/irods": factory}) as gateway:
        gateway.user = ALICE
        gateway.request("OPTIONS", "/irods/alice/")  # log in once; the pool keeps the session
        yield gateway
    factory.close()


@pytest.mark.parametrize(("count", "most"), [(10, 5), (1200, 7)])
def test_propfind_depth_1_costs_genquery_pages_not_entries(
    gw: Any, api_calls: Counter[int], count: int, most: int
) -> None:
    reply = gw.request("PROPFIND", f"/irods/alice/many{count}/", NAMED, headers={"Depth": "1"})

    assert reply.status == 207
    assert reply.body.count(b"f0") == count
    assert api_calls[GENQUERY] <= most, api_calls
    assert set(api_calls) == {GENQUERY}, api_calls


def test_listing_is_complete_when_the_session_holds_several_idle_connections(
    listed_zone: LocalZone,
) -> None:
    factory = create_factory(Options(port=listed_zone.port, root="home"))
    try:
        backend = factory(Identity(user="alice", method="basic", password="alice"))
        pool = backend.session.pool
        held = [pool.get_connection() for _ in range(4)]  # as overlapping requests leave it
        for conn in held:
            conn.release()
        assert len(pool.idle) == 4

        names = [entry.name for entry in backend.list("/alice/many1200")]

        assert len(names) == 1200
        assert len(backend.list_meta("/alice/many1200", names)) == 1200
    finally:
        factory.close()
