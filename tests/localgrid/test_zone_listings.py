"""Listings of 2,500 entries: complete, in order, across GenQuery pages (500 rows by default).

The collections are made once per module, through PRC, in a plain loop of creates.
"""

from __future__ import annotations

import pytest
from irods import client_configuration
from irods.models import Collection, DataObject

COUNT = 2500
OBJECT_NAMES = [f"obj_{i:05d}.dat" for i in range(COUNT)]
COLLECTION_NAMES = [f"sub_{i:05d}" for i in range(COUNT)]


@pytest.fixture(scope="module")
def big(irods_zone):
    """Paths of a collection with 2,500 data objects and one with 2,500 subcollections."""
    base = "/tempZone/home/rods/listings"
    with irods_zone.session() as session:
        session.collections.create(f"{base}/objects")
        session.collections.create(f"{base}/collections")
        for name in reversed(OBJECT_NAMES):  # created out of order on purpose
            session.data_objects.create(f"{base}/objects/{name}")
        for name in reversed(COLLECTION_NAMES):
            session.collections.create(f"{base}/collections/{name}")
    return {"objects": f"{base}/objects", "collections": f"{base}/collections"}


@pytest.fixture
def small_pages():
    """Makes PRC ask for GenQuery pages of 7 rows; restored afterwards."""
    saved = client_configuration.genquery1.irods_query_limit
    client_configuration.genquery1.irods_query_limit = 7
    yield 7
    client_configuration.genquery1.irods_query_limit = saved


def test_data_objects_listing_of_2500_is_complete_and_sorted(rods, big):
    objects = rods.collections.get(big["objects"]).data_objects

    assert [o.name for o in objects] == OBJECT_NAMES
    assert len({o.id for o in objects}) == COUNT
    assert all(o.size == 0 for o in objects)


def test_subcollections_listing_of_2500_is_complete_and_sorted(rods, big):
    subs = rods.collections.get(big["collections"]).subcollections

    assert [c.name for c in subs] == COLLECTION_NAMES
    assert len({c.id for c in subs}) == COUNT


def test_query_iteration_over_2500_rows_pages_through_all(rods, big):
    rows = rods.query(DataObject.name).filter(Collection.name == big["objects"])

    assert sorted(r[DataObject.name] for r in rows) == OBJECT_NAMES


def test_query_all_returns_only_first_page_and_closes_cursor(rods, big):
    first_page = rods.query(DataObject.name).filter(Collection.name == big["objects"]).all()

    assert len(first_page) == 500
    # The cursor was closed (maxRows 0); the connection still answers the next query.
    assert rods.collections.get(big["objects"]).path == big["objects"]


def test_listing_with_small_pages_is_complete_and_sorted(rods, big, small_pages):
    assert [o.name for o in rods.collections.get(big["objects"]).data_objects] == OBJECT_NAMES


def test_abandoned_paged_query_leaves_connection_usable(rods, big, small_pages):
    batches = rods.query(DataObject.name).filter(Collection.name == big["objects"]).get_batches()
    first = next(batches)
    assert len(first) == small_pages
    batches.close()  # PRC closes the server-side cursor on GeneratorExit

    assert [c.name for c in rods.collections.get(big["collections"]).subcollections][:3] == (
        COLLECTION_NAMES[:3]
    )


def test_listing_of_empty_collection(rods, scratch):
    coll = rods.collections.get(scratch)

    assert coll.data_objects == []
    assert coll.subcollections == []
