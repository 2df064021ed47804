"""PROPFIND Depth:1 of a large collection: complete, and one listing rather than a query
per member (across processes the backend calls cannot be counted, so: fast)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.helpers.davxml import NAMED, hrefs
from tests.helpers.irods_gateway import ALICE, HOME, SHARE, write_object

COUNT = 300
LIMIT = 2.0  # seconds; measured ~0.1 s, one listing (GenQuery pages) per collection


@pytest.fixture(scope="module")
def big_collection(seeded_zone) -> str:
    """Share path (ending in /) of a collection of COUNT objects, f000.txt has 0 bytes,
    f001.txt 1 byte, and so on; made through PRC as alice."""
    name = f"big-{uuid.uuid4().hex[:8]}"
    with seeded_zone.session(*ALICE) as alice:
        alice.collections.create(f"{HOME}/alice/{name}")
        for i in range(COUNT):
            write_object(alice, f"{HOME}/alice/{name}/f{i:03d}.txt", b"x" * i)
    return f"{SHARE}/alice/{name}/"


def timed_propfind(gw, path: str, body: bytes | None) -> tuple[dict[str, dict[str, str]], float]:
    started = time.monotonic()
    reply = gw.request("PROPFIND", path, body, headers={"Depth": "1"})
    elapsed = time.monotonic() - started
    assert reply.status == 207
    members = {href: props for href, props in hrefs(reply.body).items() if href != path}
    return members, elapsed


def test_propfind_depth_1_of_300_objects_lists_all_of_them_quickly(gw, big_collection):
    members, elapsed = timed_propfind(gw, big_collection, NAMED)
    assert len(members) == COUNT
    for i in range(COUNT):
        props = members[f"{big_collection}f{i:03d}.txt"]
        assert props["{DAV:}getcontentlength"] == str(i)
        assert props["{DAV:}getetag"] and props["{DAV:}getlastmodified"]
    assert elapsed < LIMIT, f"PROPFIND of {COUNT} objects took {elapsed:.1f}s"


def test_allprop_depth_1_of_300_objects_lists_all_of_them_quickly(gw, big_collection):
    """allprop includes dead properties: one metadata query for the whole collection."""
    members, elapsed = timed_propfind(gw, big_collection, None)
    assert len(members) == COUNT
    assert members[f"{big_collection}f299.txt"]["{DAV:}getcontentlength"] == "299"
    assert elapsed < LIMIT, f"allprop PROPFIND of {COUNT} objects took {elapsed:.1f}s"
