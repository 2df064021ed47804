"""Metadata (AVUs) on data objects and collections: add, set, get, remove, query, lifecycle."""

from __future__ import annotations

from datetime import datetime

import pytest
from irods.exception import CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME
from irods.meta import AVUOperation, iRODSMeta
from irods.models import Collection, CollectionMeta, DataObject, DataObjectMeta


@pytest.fixture(params=["data_object", "collection"])
def target(request, rods, scratch):
    """An object or a collection to hang AVUs on; both kinds take the same operations."""
    if request.param == "data_object":
        return rods.data_objects.create(f"{scratch}/avu-object")
    return rods.collections.create(f"{scratch}/avu-collection")


def _fresh(rods, target):
    """The same entity, looked up again, so its metadata comes from the catalog."""
    if hasattr(target, "replicas"):
        return rods.data_objects.get(target.path)
    return rods.collections.get(target.path)


def test_new_entity_has_no_metadata(rods, target):
    assert _fresh(rods, target).metadata.items() == []


def test_add_then_get_one(rods, target):
    target.metadata.add("color", "blue", "wavelength")

    avu = _fresh(rods, target).metadata.get_one("color")
    assert (avu.name, avu.value, avu.units) == ("color", "blue", "wavelength")
    assert avu.avu_id


def test_add_without_units_reads_back_without_units(rods, target):
    target.metadata.add("plain", "value")

    avu = _fresh(rods, target).metadata.get_one("plain")
    assert (avu.name, avu.value) == ("plain", "value")
    assert not avu.units


def test_add_duplicate_raises_already_has_item(rods, target):
    target.metadata.add("dup", "same", "u")

    with pytest.raises(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME):
        target.metadata.add("dup", "same", "u")
    assert len(_fresh(rods, target).metadata.get_all("dup")) == 1


def test_add_duplicate_without_units_raises_already_has_item(rods, target):
    target.metadata.add("dup", "same")

    with pytest.raises(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME):
        target.metadata.add("dup", "same")


def test_same_attribute_with_other_value_or_units_is_a_new_avu(rods, target):
    target.metadata.add("k", "v1")
    target.metadata.add("k", "v2")
    target.metadata.add("k", "v1", "units")

    avus = {tuple(m) for m in _fresh(rods, target).metadata.get_all("k")}
    assert avus == {("k", "v1"), ("k", "v2"), ("k", "v1", "units")}


def test_set_replaces_every_value_of_the_attribute(rods, target):
    target.metadata.add("k", "v1")
    target.metadata.add("k", "v2", "u")
    target.metadata.add("other", "stays")

    target.metadata.set("k", "only")

    meta = _fresh(rods, target).metadata
    assert [tuple(m) for m in meta.get_all("k")] == [("k", "only")]
    assert [tuple(m) for m in meta.get_all("other")] == [("other", "stays")]


def test_set_on_new_attribute_adds_it(rods, target):
    target.metadata.set("fresh", "1", "u")

    assert tuple(_fresh(rods, target).metadata.get_one("fresh")) == ("fresh", "1", "u")


def test_remove_deletes_exactly_that_avu(rods, target):
    target.metadata.add("k", "keep")
    target.metadata.add("k", "drop", "u")

    target.metadata.remove("k", "drop", "u")

    assert [tuple(m) for m in _fresh(rods, target).metadata.get_all("k")] == [("k", "keep")]


def test_delitem_removes_all_values_of_attribute(rods, target):
    target.metadata.add("gone", "1")
    target.metadata.add("gone", "2")
    target.metadata.add("kept", "3")

    del target.metadata["gone"]

    assert _fresh(rods, target).metadata.keys() == ["kept"]


def test_items_lists_every_avu(rods, target):
    for i in range(5):
        target.metadata.add(f"a{i}", str(i), "n")

    items = {tuple(m) for m in _fresh(rods, target).metadata.items()}
    assert items == {(f"a{i}", str(i), "n") for i in range(5)}


def test_timestamps_are_reported_when_asked(rods, target):
    target.metadata.add("when", "now")

    avu = _fresh(rods, target).metadata(timestamps=True).get_one("when")
    assert isinstance(avu.create_time, datetime)
    assert isinstance(avu.modify_time, datetime)


def test_atomic_operations_apply_together(rods, target):
    target.metadata.add("old", "1")

    target.metadata.apply_atomic_operations(
        AVUOperation(operation="remove", avu=iRODSMeta("old", "1")),
        AVUOperation(operation="add", avu=iRODSMeta("new", "2", "u")),
        AVUOperation(operation="add", avu=iRODSMeta("new", "3")),
    )

    items = {tuple(m) for m in _fresh(rods, target).metadata.items()}
    assert items == {("new", "2", "u"), ("new", "3")}


def test_long_and_unicode_values_round_trip(rods, target):
    value = "ünïcødé ☃ " * 100

    target.metadata.add("long", value, "µm")

    avu = _fresh(rods, target).metadata.get_one("long")
    assert (avu.value, avu.units) == (value, "µm")


def test_query_finds_object_by_avu(rods, scratch):
    wanted = rods.data_objects.create(f"{scratch}/wanted")
    rods.data_objects.create(f"{scratch}/unwanted").metadata.add("project", "other")
    wanted.metadata.add("project", "apollo", "mission")

    rows = rods.query(Collection.name, DataObject.name).filter(
        DataObjectMeta.name == "project", DataObjectMeta.value == "apollo"
    )

    assert [(r[Collection.name], r[DataObject.name]) for r in rows] == [(scratch, "wanted")]


def test_query_finds_collection_by_avu(rods, scratch):
    rods.collections.create(f"{scratch}/tagged").metadata.add("tag", scratch)
    rods.collections.create(f"{scratch}/untagged")

    rows = rods.query(Collection.name).filter(
        CollectionMeta.name == "tag", CollectionMeta.value == scratch
    )

    assert [r[Collection.name] for r in rows] == [f"{scratch}/tagged"]


def test_metadata_follows_object_rename(rods, scratch):
    rods.data_objects.create(f"{scratch}/before").metadata.add("k", "v")

    rods.data_objects.move(f"{scratch}/before", f"{scratch}/after")

    assert tuple(rods.data_objects.get(f"{scratch}/after").metadata.get_one("k")) == ("k", "v")


def test_metadata_follows_collection_rename(rods, scratch):
    rods.collections.create(f"{scratch}/c-before").metadata.add("k", "v")
    rods.data_objects.create(f"{scratch}/c-before/obj").metadata.add("inner", "1")

    rods.collections.move(f"{scratch}/c-before", f"{scratch}/c-after")

    assert tuple(rods.collections.get(f"{scratch}/c-after").metadata.get_one("k")) == ("k", "v")
    inner = rods.data_objects.get(f"{scratch}/c-after/obj").metadata.get_one("inner")
    assert tuple(inner) == ("inner", "1")


def test_metadata_of_unlinked_object_is_gone(rods, scratch, unique):
    value = unique("gone")
    rods.data_objects.create(f"{scratch}/short-lived").metadata.add("k", value)

    rods.data_objects.unlink(f"{scratch}/short-lived", force=True)

    assert list(rods.query(DataObject.name).filter(DataObjectMeta.value == value)) == []
    rods.data_objects.create(f"{scratch}/short-lived")
    assert rods.data_objects.get(f"{scratch}/short-lived").metadata.items() == []


def test_copy_metadata_between_objects(rods, scratch):
    src = rods.data_objects.create(f"{scratch}/meta-src")
    rods.data_objects.create(f"{scratch}/meta-dst")
    src.metadata.add("a", "1")
    src.metadata.add("b", "2", "u")

    rods.metadata.copy(DataObject, DataObject, f"{scratch}/meta-src", f"{scratch}/meta-dst")

    items = {tuple(m) for m in rods.data_objects.get(f"{scratch}/meta-dst").metadata.items()}
    assert items == {("a", "1"), ("b", "2", "u")}
