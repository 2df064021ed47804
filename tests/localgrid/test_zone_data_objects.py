"""Data objects: create, open modes, seek/read/write, copy, move, unlink."""

from __future__ import annotations

import io
import time
from datetime import datetime

import irods.keywords as kw
import pytest
from irods.exception import (
    CAT_NAME_EXISTS_AS_COLLECTION,
    CAT_NAME_EXISTS_AS_DATAOBJ,
    CAT_UNKNOWN_COLLECTION,
    OBJ_PATH_DOES_NOT_EXIST,
    OVERWRITE_WITHOUT_FORCE_FLAG,
    DataObjectDoesNotExist,
    iRODSException,
)

from tests.helpers.prc_io import read_object, write_object

# --- create / get ------------------------------------------------------------------------------


def test_create_makes_empty_object_owned_by_creator(rods, scratch):
    obj = rods.data_objects.create(f"{scratch}/empty")

    assert obj.name == "empty"
    assert obj.path == f"{scratch}/empty"
    assert obj.size == 0
    assert obj.owner_name == "rods"
    assert obj.owner_zone == "tempZone"
    assert obj.collection.path == scratch
    assert isinstance(obj.create_time, datetime)
    assert isinstance(obj.modify_time, datetime)
    assert len(obj.replicas) == 1
    assert obj.replicas[0].number == 0
    assert obj.replicas[0].status == "1"
    assert read_object(rods, f"{scratch}/empty") == b""


def test_create_on_existing_object_truncates_it(rods, scratch):
    write_object(rods, f"{scratch}/full", b"content")

    obj = rods.data_objects.create(f"{scratch}/full")

    assert obj.size == 0
    assert read_object(rods, f"{scratch}/full") == b""


def test_create_where_collection_exists_raises_name_exists_as_collection(rods, scratch):
    rods.collections.create(f"{scratch}/coll")

    with pytest.raises(CAT_NAME_EXISTS_AS_COLLECTION):
        rods.data_objects.create(f"{scratch}/coll")
    assert rods.collections.exists(f"{scratch}/coll")


def test_create_in_missing_collection_raises_unknown_collection(rods, scratch):
    with pytest.raises(CAT_UNKNOWN_COLLECTION):
        rods.data_objects.create(f"{scratch}/no-such-coll/obj")


def test_get_missing_object_raises_does_not_exist(rods, scratch):
    with pytest.raises(DataObjectDoesNotExist):
        rods.data_objects.get(f"{scratch}/absent")
    assert not rods.data_objects.exists(f"{scratch}/absent")


def test_object_metadata_fields_reflect_content(rods, scratch):
    write_object(rods, f"{scratch}/sized", b"x" * 12345)

    obj = rods.data_objects.get(f"{scratch}/sized")

    assert obj.size == 12345
    assert obj.replicas[0].size == 12345
    assert obj.replicas[0].resource_name
    assert obj.replicas[0].path  # physical path in the vault
    assert obj.type == "generic"


# --- open modes ------------------------------------------------------------------------------


def test_open_w_creates_and_r_reads_back(rods, scratch):
    write_object(rods, f"{scratch}/w.txt", b"hello world")

    assert read_object(rods, f"{scratch}/w.txt") == b"hello world"
    assert rods.data_objects.get(f"{scratch}/w.txt").size == 11


def test_open_w_on_existing_object_truncates(rods, scratch):
    write_object(rods, f"{scratch}/w.txt", b"a much longer first version")
    write_object(rods, f"{scratch}/w.txt", b"short")

    assert read_object(rods, f"{scratch}/w.txt") == b"short"
    assert rods.data_objects.get(f"{scratch}/w.txt").size == 5


def test_open_a_appends(rods, scratch):
    write_object(rods, f"{scratch}/a.txt", b"first,")
    write_object(rods, f"{scratch}/a.txt", b"second", mode="a")

    assert read_object(rods, f"{scratch}/a.txt") == b"first,second"
    assert rods.data_objects.get(f"{scratch}/a.txt").size == 12


def test_open_a_on_missing_object_creates_it(rods, scratch):
    write_object(rods, f"{scratch}/new-a.txt", b"created", mode="a")

    assert read_object(rods, f"{scratch}/new-a.txt") == b"created"


def test_open_r_plus_overwrites_in_place_without_truncating(rods, scratch):
    write_object(rods, f"{scratch}/rp.txt", b"hello world!")

    with rods.data_objects.open(f"{scratch}/rp.txt", "r+") as f:
        f.seek(6)
        f.write(b"WORLD")

    assert read_object(rods, f"{scratch}/rp.txt") == b"hello WORLD!"


def test_open_r_plus_reads_and_writes_same_handle(rods, scratch):
    write_object(rods, f"{scratch}/rp2.txt", b"0123456789")

    with rods.data_objects.open(f"{scratch}/rp2.txt", "r+") as f:
        assert f.read(4) == b"0123"
        f.seek(0, io.SEEK_END)
        f.write(b"AB")
        f.seek(0)
        assert f.read() == b"0123456789AB"


def test_open_w_plus_truncates_and_reads_back(rods, scratch):
    write_object(rods, f"{scratch}/wp.txt", b"old old old")

    with rods.data_objects.open(f"{scratch}/wp.txt", "w+") as f:
        f.write(b"new")
        f.seek(0)
        assert f.read() == b"new"


def test_open_r_on_missing_object_raises_path_does_not_exist(rods, scratch):
    with pytest.raises(OBJ_PATH_DOES_NOT_EXIST):
        rods.data_objects.open(f"{scratch}/missing", "r")


def test_open_without_create_on_missing_object_raises_path_does_not_exist(rods, scratch):
    with pytest.raises(OBJ_PATH_DOES_NOT_EXIST):
        rods.data_objects.open(f"{scratch}/missing", "w", create=False)
    assert not rods.data_objects.exists(f"{scratch}/missing")


def test_open_w_in_missing_collection_raises_unknown_collection(rods, scratch):
    with pytest.raises(CAT_UNKNOWN_COLLECTION):
        rods.data_objects.open(f"{scratch}/nope/obj", "w")


# --- seek / read / write ---------------------------------------------------------------------


def test_seek_and_read_at_offsets(rods, scratch):
    data = bytes(range(256)) * 100
    write_object(rods, f"{scratch}/seek.bin", data)

    with rods.data_objects.open(f"{scratch}/seek.bin", "r") as f:
        f.seek(1000)
        assert f.read(10) == data[1000:1010]
        assert f.tell() == 1010
        f.seek(-5, io.SEEK_END)
        assert f.read() == data[-5:]
        f.seek(100, io.SEEK_SET)
        f.seek(50, io.SEEK_CUR)
        assert f.read(3) == data[150:153]
        f.seek(len(data) + 100)
        assert f.read(10) == b""


def test_read_in_small_pieces_returns_whole_content(rods, scratch):
    data = bytes(range(256)) * 1000
    write_object(rods, f"{scratch}/pieces.bin", data)

    pieces = []
    with rods.data_objects.open(f"{scratch}/pieces.bin", "r") as f:
        while chunk := f.read(7777):
            pieces.append(chunk)

    assert b"".join(pieces) == data


def test_write_past_end_fills_gap_with_zeros(rods, scratch):
    write_object(rods, f"{scratch}/sparse.bin", b"head")

    with rods.data_objects.open(f"{scratch}/sparse.bin", "r+") as f:
        f.seek(10)
        f.write(b"tail")

    assert read_object(rods, f"{scratch}/sparse.bin") == b"head" + b"\0" * 6 + b"tail"
    assert rods.data_objects.get(f"{scratch}/sparse.bin").size == 14


def test_many_small_writes_are_concatenated(rods, scratch):
    with rods.data_objects.open(f"{scratch}/many.txt", "w") as f:
        for i in range(2000):
            f.write(b"%05d," % i)

    assert read_object(rods, f"{scratch}/many.txt") == b"".join(b"%05d," % i for i in range(2000))


def test_object_open_for_write_is_visible_to_other_clients(rods, sessions, scratch):
    other = sessions()
    path = f"{scratch}/in-progress"

    with rods.data_objects.open(path, "w") as f:
        f.write(b"partial")
        f.flush()
        during = other.data_objects.get(path)
        # Real iRODS registers the replica at open, marked intermediate (2) until the final close.
        assert during.replicas[0].status == "2"

    after = other.data_objects.get(path)
    assert after.replicas[0].status == "1"
    assert after.size == 7


def test_modify_time_advances_on_write(rods, scratch):
    before = rods.data_objects.create(f"{scratch}/mtime").modify_time
    time.sleep(1.1)  # catalog times have one-second resolution

    write_object(rods, f"{scratch}/mtime", b"changed")

    assert rods.data_objects.get(f"{scratch}/mtime").modify_time > before


# --- copy ------------------------------------------------------------------------------------


def test_copy_duplicates_content_and_keeps_source(rods, scratch):
    write_object(rods, f"{scratch}/src", b"copy me")

    rods.data_objects.copy(f"{scratch}/src", f"{scratch}/dst")

    assert read_object(rods, f"{scratch}/dst") == b"copy me"
    assert read_object(rods, f"{scratch}/src") == b"copy me"
    src, dst = rods.data_objects.get(f"{scratch}/src"), rods.data_objects.get(f"{scratch}/dst")
    assert dst.id != src.id
    assert dst.size == src.size == 7


def test_copy_into_collection_appends_basename(rods, scratch):
    rods.collections.create(f"{scratch}/into")
    write_object(rods, f"{scratch}/file.txt", b"abc")

    rods.data_objects.copy(f"{scratch}/file.txt", f"{scratch}/into")

    assert read_object(rods, f"{scratch}/into/file.txt") == b"abc"


def test_copy_onto_existing_object_without_force_raises_overwrite_without_force(rods, scratch):
    write_object(rods, f"{scratch}/src", b"new")
    write_object(rods, f"{scratch}/dst", b"old")

    with pytest.raises(OVERWRITE_WITHOUT_FORCE_FLAG):
        rods.data_objects.copy(f"{scratch}/src", f"{scratch}/dst")
    assert read_object(rods, f"{scratch}/dst") == b"old"


def test_copy_onto_existing_object_with_force_overwrites(rods, scratch):
    write_object(rods, f"{scratch}/src", b"new content")
    write_object(rods, f"{scratch}/dst", b"old")

    rods.data_objects.copy(f"{scratch}/src", f"{scratch}/dst", **{kw.FORCE_FLAG_KW: ""})

    assert read_object(rods, f"{scratch}/dst") == b"new content"
    assert rods.data_objects.get(f"{scratch}/dst").size == 11


# --- move ------------------------------------------------------------------------------------


def test_move_renames_and_keeps_identity(rods, scratch):
    write_object(rods, f"{scratch}/old-name", b"moving")
    before = rods.data_objects.get(f"{scratch}/old-name").id

    rods.data_objects.move(f"{scratch}/old-name", f"{scratch}/new-name")

    assert not rods.data_objects.exists(f"{scratch}/old-name")
    moved = rods.data_objects.get(f"{scratch}/new-name")
    assert moved.id == before
    assert read_object(rods, f"{scratch}/new-name") == b"moving"


def test_move_into_collection_appends_basename(rods, scratch):
    rods.collections.create(f"{scratch}/dir")
    write_object(rods, f"{scratch}/f.txt", b"f")

    rods.data_objects.move(f"{scratch}/f.txt", f"{scratch}/dir")

    assert read_object(rods, f"{scratch}/dir/f.txt") == b"f"
    assert not rods.data_objects.exists(f"{scratch}/f.txt")
    assert [o.name for o in rods.collections.get(f"{scratch}/dir").data_objects] == ["f.txt"]


def test_move_to_other_collection_with_new_name(rods, scratch):
    rods.collections.create(f"{scratch}/there")
    write_object(rods, f"{scratch}/here.txt", b"x")

    rods.data_objects.move(f"{scratch}/here.txt", f"{scratch}/there/renamed.txt")

    assert rods.data_objects.get(f"{scratch}/there/renamed.txt").collection.path == (
        f"{scratch}/there"
    )


def test_move_onto_existing_object_raises_name_exists_as_dataobj(rods, scratch):
    write_object(rods, f"{scratch}/one", b"one")
    write_object(rods, f"{scratch}/two", b"two")

    with pytest.raises(CAT_NAME_EXISTS_AS_DATAOBJ):
        rods.data_objects.move(f"{scratch}/one", f"{scratch}/two")
    assert read_object(rods, f"{scratch}/one") == b"one"
    assert read_object(rods, f"{scratch}/two") == b"two"


# --- unlink ----------------------------------------------------------------------------------


@pytest.mark.parametrize("force", [False, True], ids=["to-trash", "force"])
def test_unlink_removes_object_from_its_collection(rods, scratch, force):
    write_object(rods, f"{scratch}/doomed", b"bye")

    rods.data_objects.unlink(f"{scratch}/doomed", force=force)

    assert not rods.data_objects.exists(f"{scratch}/doomed")
    assert rods.collections.get(scratch).data_objects == []
    with pytest.raises(OBJ_PATH_DOES_NOT_EXIST):
        rods.data_objects.open(f"{scratch}/doomed", "r")


def test_unlink_then_recreate_starts_empty(rods, scratch):
    write_object(rods, f"{scratch}/phoenix", b"old life")
    rods.data_objects.unlink(f"{scratch}/phoenix", force=True)

    obj = rods.data_objects.create(f"{scratch}/phoenix")

    assert obj.size == 0
    assert read_object(rods, f"{scratch}/phoenix") == b""


def test_unlink_missing_object_raises(rods, scratch):
    # The exact code real iRODS returns here is not pinned down (its lookup fails with
    # CAT_NO_ROWS_FOUND, CAT_UNKNOWN_FILE or OBJ_PATH_DOES_NOT_EXIST depending on the code path);
    # what matters is that the server refuses with an iRODS error PRC knows.
    with pytest.raises(iRODSException):
        rods.data_objects.unlink(f"{scratch}/never-was", force=True)
