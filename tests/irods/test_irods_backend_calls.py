"""How many iRODS requests a PROPFIND costs: listings grow with GenQuery pages, not entries.

The gateway runs in-process (so the wire can be counted) over the local zone; the count
wraps python-irodsclient's own message sending and changes nothing it sends.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from davprovider.backend import Identity
from davprovider.irods import Options, create_factory
from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import GENQUERY, LISTING


@pytest.mark.parametrize(("count", "most"), [(10, 5), (1200, 7)])
def test_propfind_depth_1_costs_genquery_pages_not_entries(
    counted_gw: Any, api_calls: Counter[int], count: int, most: int
) -> None:
    reply = counted_gw.request(
        "PROPFIND", f"/irods/alice/many{count}/", LISTING, headers={"Depth": "1"}
    )

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
