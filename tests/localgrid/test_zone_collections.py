"""Collections: create, get, remove (recursive, force), move, listings and error codes."""

from __future__ import annotations

from datetime import datetime

import pytest
from irods.collection import iRODSCollection
from irods.exception import (
    CAT_COLLECTION_NOT_EMPTY,
    CAT_NAME_EXISTS_AS_DATAOBJ,
    CAT_UNKNOWN_COLLECTION,
    CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    CollectionDoesNotExist,
)
from irods.models import Collection

from tests.helpers.prc_io import ZONE, read_object, write_object


def test_create_returns_collection_owned_by_creator(rods, scratch):
    coll = rods.collections.create(f"{scratch}/new")

    assert isinstance(coll, iRODSCollection)
    assert coll.path == f"{scratch}/new"
    assert coll.name == "new"
    assert coll.owner_name == "rods"
    assert coll.owner_zone == ZONE
    assert isinstance(coll.create_time, datetime)
    assert isinstance(coll.modify_time, datetime)
    assert rods.collections.get(f"{scratch}/new").id == coll.id


def test_create_makes_missing_parents(rods, scratch):
    rods.collections.create(f"{scratch}/a/b/c")

    for path in (f"{scratch}/a", f"{scratch}/a/b", f"{scratch}/a/b/c"):
        assert rods.collections.exists(path)
    assert [c.name for c in rods.collections.get(f"{scratch}/a").subcollections] == ["b"]


def test_create_existing_collection_with_recurse_returns_it(rods, scratch):
    first = rods.collections.create(f"{scratch}/twice")
    second = rods.collections.create(f"{scratch}/twice")

    assert second.id == first.id


def test_create_existing_collection_without_recurse_raises_already_exists(rods, scratch):
    rods.collections.create(f"{scratch}/once")

    with pytest.raises(CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME):
        rods.collections.create(f"{scratch}/once", recurse=False)


def test_create_without_recurse_under_missing_parent_raises_unknown_collection(rods, scratch):
    with pytest.raises(CAT_UNKNOWN_COLLECTION):
        rods.collections.create(f"{scratch}/missing/child", recurse=False)
    assert not rods.collections.exists(f"{scratch}/missing")


def test_create_where_data_object_exists_raises_name_exists_as_dataobj(rods, scratch):
    rods.data_objects.create(f"{scratch}/taken")

    with pytest.raises(CAT_NAME_EXISTS_AS_DATAOBJ):
        rods.collections.create(f"{scratch}/taken")
    assert rods.data_objects.exists(f"{scratch}/taken")


def test_get_missing_collection_raises_does_not_exist(rods, scratch):
    with pytest.raises(CollectionDoesNotExist):
        rods.collections.get(f"{scratch}/nothing-here")
    assert not rods.collections.exists(f"{scratch}/nothing-here")


def test_get_normalizes_trailing_slash(rods, scratch):
    assert rods.collections.get(scratch + "/").path == scratch


def test_zone_and_home_collections_exist(rods):
    home = rods.collections.get(f"/{ZONE}/home")

    assert f"/{ZONE}/home/rods" in [c.path for c in home.subcollections]
    assert f"/{ZONE}/home" in [c.path for c in rods.collections.get(f"/{ZONE}").subcollections]


def test_new_collection_lists_no_children(rods, scratch):
    coll = rods.collections.get(scratch)

    assert coll.subcollections == []
    assert coll.data_objects == []


def test_listing_returns_children_of_this_collection_only(rods, scratch):
    for name in ("b", "a", "c"):
        rods.collections.create(f"{scratch}/{name}")
    rods.collections.create(f"{scratch}/a/deeper")
    for name in ("y.txt", "x.txt"):
        write_object(rods, f"{scratch}/{name}", b"x")
    write_object(rods, f"{scratch}/a/inner.txt", b"x")

    coll = rods.collections.get(scratch)

    assert [c.name for c in coll.subcollections] == ["a", "b", "c"]
    assert [o.name for o in coll.data_objects] == ["x.txt", "y.txt"]
    assert all(o.collection.path == scratch for o in coll.data_objects)


def test_walk_visits_the_whole_tree(rods, scratch):
    rods.collections.create(f"{scratch}/a/b")
    write_object(rods, f"{scratch}/top.txt", b"1")
    write_object(rods, f"{scratch}/a/b/leaf.txt", b"2")

    walked = {
        coll.path: ([c.name for c in subs], [o.name for o in objs])
        for coll, subs, objs in rods.collections.get(scratch).walk()
    }

    assert walked == {
        scratch: (["a"], ["top.txt"]),
        f"{scratch}/a": (["b"], []),
        f"{scratch}/a/b": ([], ["leaf.txt"]),
    }


def test_remove_empty_collection_non_recursively(rods, scratch):
    rods.collections.create(f"{scratch}/empty")

    rods.collections.remove(f"{scratch}/empty", recurse=False)

    assert not rods.collections.exists(f"{scratch}/empty")


def test_remove_non_empty_collection_non_recursively_raises_not_empty(rods, scratch):
    rods.collections.create(f"{scratch}/full")
    write_object(rods, f"{scratch}/full/keep.txt", b"keep")

    with pytest.raises(CAT_COLLECTION_NOT_EMPTY):
        rods.collections.remove(f"{scratch}/full", recurse=False)
    assert read_object(rods, f"{scratch}/full/keep.txt") == b"keep"


def test_remove_collection_with_subcollection_non_recursively_raises_not_empty(rods, scratch):
    rods.collections.create(f"{scratch}/parent/child")

    with pytest.raises(CAT_COLLECTION_NOT_EMPTY):
        rods.collections.remove(f"{scratch}/parent", recurse=False)
    assert rods.collections.exists(f"{scratch}/parent/child")


@pytest.mark.parametrize("force", [False, True], ids=["to-trash", "force"])
def test_remove_recursive_removes_whole_tree(rods, scratch, force):
    rods.collections.create(f"{scratch}/tree/sub/subsub")
    for path in (f"{scratch}/tree/a.txt", f"{scratch}/tree/sub/subsub/b.txt"):
        write_object(rods, path, b"data")

    rods.collections.remove(f"{scratch}/tree", recurse=True, force=force)

    for path in (f"{scratch}/tree", f"{scratch}/tree/sub", f"{scratch}/tree/sub/subsub"):
        assert not rods.collections.exists(path)
    assert not rods.data_objects.exists(f"{scratch}/tree/a.txt")
    assert not rods.data_objects.exists(f"{scratch}/tree/sub/subsub/b.txt")
    assert rods.collections.get(scratch).subcollections == []


def test_remove_then_recreate_gives_empty_collection(rods, scratch):
    rods.collections.create(f"{scratch}/again")
    write_object(rods, f"{scratch}/again/old.txt", b"old")
    rods.collections.remove(f"{scratch}/again", recurse=True, force=True)

    coll = rods.collections.create(f"{scratch}/again")

    assert coll.data_objects == []


def test_move_to_new_name_renames_whole_subtree(rods, scratch):
    rods.collections.create(f"{scratch}/src/sub")
    write_object(rods, f"{scratch}/src/top.txt", b"top")
    write_object(rods, f"{scratch}/src/sub/deep.txt", b"deep")
    before = rods.collections.get(f"{scratch}/src").id

    rods.collections.move(f"{scratch}/src", f"{scratch}/dst")

    assert not rods.collections.exists(f"{scratch}/src")
    assert not rods.collections.exists(f"{scratch}/src/sub")
    moved = rods.collections.get(f"{scratch}/dst")
    assert moved.id == before
    assert [c.path for c in moved.subcollections] == [f"{scratch}/dst/sub"]
    sub = rods.query(Collection.parent_name).filter(Collection.name == f"{scratch}/dst/sub").one()
    assert sub[Collection.parent_name] == f"{scratch}/dst"
    assert read_object(rods, f"{scratch}/dst/top.txt") == b"top"
    assert read_object(rods, f"{scratch}/dst/sub/deep.txt") == b"deep"
    assert not rods.data_objects.exists(f"{scratch}/src/sub/deep.txt")


def test_move_into_existing_collection_appends_basename(rods, scratch):
    rods.collections.create(f"{scratch}/mover")
    rods.collections.create(f"{scratch}/target")
    write_object(rods, f"{scratch}/mover/f.txt", b"f")

    rods.collections.move(f"{scratch}/mover", f"{scratch}/target")

    assert rods.collections.exists(f"{scratch}/target/mover")
    assert read_object(rods, f"{scratch}/target/mover/f.txt") == b"f"
    assert not rods.collections.exists(f"{scratch}/mover")


def test_move_of_collection_leaves_sibling_with_common_prefix_alone(rods, scratch):
    rods.collections.create(f"{scratch}/ab")
    rods.collections.create(f"{scratch}/abc")
    write_object(rods, f"{scratch}/abc/stay.txt", b"stay")

    rods.collections.move(f"{scratch}/ab", f"{scratch}/zz")

    assert rods.collections.exists(f"{scratch}/abc")
    assert read_object(rods, f"{scratch}/abc/stay.txt") == b"stay"
    assert sorted(c.name for c in rods.collections.get(scratch).subcollections) == ["abc", "zz"]
