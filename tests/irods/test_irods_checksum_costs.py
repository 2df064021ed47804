"""What rclone's listing (with ``oc:checksums``) costs on the iRODS share: GenQuery pages,
one more for the digest AVUs of the whole collection, and never a read of the content.

Same in-process gateway and wire count as test_irods_backend_calls.py (tests/irods/conftest.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from davprovider.irods import Options, create_factory
from tests.helpers.client_sequences import CHECKSUMS
from tests.helpers.gateway import running_gateway
from tests.helpers.irods_gateway import ALICE, GENQUERY, LISTING, gateway_config

DATA_OBJ_READ = 675


@pytest.fixture(scope="module")
def uploaded(listed_zone: Any) -> str:
    """Ten objects uploaded through a gateway: each has a catalog checksum and digest AVUs."""
    factory = create_factory(Options(port=listed_zone.port, root="home"))
    with running_gateway(gateway_config(listed_zone.port), {"/irods": factory}) as gateway:
        gateway.user = ALICE
        assert gateway.request("MKCOL", "/irods/alice/sums/").status == 201
        for i in range(10):
            assert gateway.put(f"/irods/alice/sums/f{i:02}.bin", bytes([i]) * 1000).status == 201
    factory.close()
    return "/irods/alice/sums/"


def test_listing_with_checksums_costs_one_more_genquery(
    counted_gw: Any,
    api_calls: Counter[int],
    uploaded: str,
) -> None:
    named = counted_gw.request("PROPFIND", uploaded, LISTING, headers={"Depth": "1"})
    assert named.status == 207
    plain = api_calls[GENQUERY]
    api_calls.clear()

    fresh = {"Depth": "1", "Cache-Control": "no-cache"}  # not from the listing cache
    reply = counted_gw.request("PROPFIND", uploaded, CHECKSUMS, headers=fresh)

    assert reply.status == 207 and reply.body.count(b"MD5:") == 10
    assert api_calls[GENQUERY] == plain + 1, api_calls
    assert set(api_calls) == {GENQUERY}, api_calls  # no chksum, no read
    api_calls.clear()
    again = counted_gw.request("PROPFIND", uploaded, CHECKSUMS, headers={"Depth": "1"})
    assert again.body == reply.body
    assert api_calls == {GENQUERY: 1}, api_calls  # the listing is remembered, digests are not


def test_listing_1200_objects_without_checksums_reads_nothing(
    counted_gw: Any,
    api_calls: Counter[int],
) -> None:
    reply = counted_gw.request(
        "PROPFIND", "/irods/alice/many1200/", CHECKSUMS, headers={"Depth": "1"}
    )
    assert reply.status == 207
    assert api_calls[GENQUERY] <= 7, api_calls
    assert set(api_calls) == {GENQUERY}, api_calls
    assert DATA_OBJ_READ not in api_calls
