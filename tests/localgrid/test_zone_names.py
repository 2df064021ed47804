"""Names that stress the XML protocol and GenQuery: spaces, quotes, & < >, %, #, unicode.

PRC escapes only & < > in what it sends and passes quotes raw, also inside GenQuery conditions
(`= 'it's'`); the zone must take the name back exactly as given, in listings and lookups.
"""

from __future__ import annotations

import pytest
from irods.models import Collection, DataObject, DataObjectMeta

NAMES = [
    "with space.txt",
    "single'quote.txt",
    'double"quote.txt',
    "amp & lt < gt >.txt",
    "percent%20sign%.txt",
    "hash#tag.txt",
    "données ünïcødé ☃.txt",
    "emoji 😀 four bytes.txt",
    "mixed '\"&<>%# all.txt",
    "semi;colon,comma=eq+plus(paren)[br]{br}.txt",
]


@pytest.mark.parametrize("name", NAMES)
def test_data_object_name_round_trips(rods, scratch, name):
    path = f"{scratch}/{name}"
    content = name.encode("utf-8") * 3

    with rods.data_objects.open(path, "w") as f:
        f.write(content)

    obj = rods.data_objects.get(path)
    assert obj.name == name
    assert obj.path == path
    assert obj.size == len(content)
    assert [o.name for o in rods.collections.get(scratch).data_objects] == [name]
    with rods.data_objects.open(path, "r") as f:
        assert f.read() == content


@pytest.mark.parametrize("name", NAMES)
def test_collection_name_round_trips(rods, scratch, name):
    path = f"{scratch}/{name}"

    coll = rods.collections.create(path)
    rods.data_objects.create(f"{path}/inside")

    assert coll.name == name
    assert rods.collections.get(path).path == path
    assert [c.name for c in rods.collections.get(scratch).subcollections] == [name]
    assert [o.name for o in rods.collections.get(path).data_objects] == ["inside"]
    rods.collections.remove(path, recurse=True, force=True)
    assert not rods.collections.exists(path)


@pytest.mark.parametrize("name", NAMES)
def test_special_name_in_query_condition_matches_exactly(rods, scratch, name):
    rods.data_objects.create(f"{scratch}/{name}")
    rods.data_objects.create(f"{scratch}/other")

    rows = rods.query(DataObject.name).filter(Collection.name == scratch, DataObject.name == name)

    assert [r[DataObject.name] for r in rows] == [name]


@pytest.mark.parametrize("name", NAMES)
def test_special_name_survives_rename_and_copy(rods, scratch, name):
    rods.collections.create(f"{scratch}/from")
    rods.collections.create(f"{scratch}/to")
    with rods.data_objects.open(f"{scratch}/from/{name}", "w") as f:
        f.write(b"payload")

    rods.data_objects.copy(f"{scratch}/from/{name}", f"{scratch}/to/{name} copy")
    rods.data_objects.move(f"{scratch}/from/{name}", f"{scratch}/to/{name}")

    assert rods.collections.get(f"{scratch}/from").data_objects == []
    assert sorted(o.name for o in rods.collections.get(f"{scratch}/to").data_objects) == sorted(
        [name, f"{name} copy"]
    )
    with rods.data_objects.open(f"{scratch}/to/{name} copy", "r") as f:
        assert f.read() == b"payload"


@pytest.mark.parametrize("text", NAMES)
def test_special_text_in_metadata_round_trips(rods, scratch, text):
    obj = rods.data_objects.create(f"{scratch}/meta-target")

    obj.metadata.add(text, text, text)

    avu = rods.data_objects.get(f"{scratch}/meta-target").metadata.get_one(text)
    assert (avu.name, avu.value, avu.units) == (text, text, text)
    rows = rods.query(DataObject.name).filter(
        Collection.name == scratch, DataObjectMeta.name == text, DataObjectMeta.value == text
    )
    assert [r[DataObject.name] for r in rows] == ["meta-target"]
