"""Answers the zone once got wrong, now as real iRODS 4.3 gives them (issue 12's list)."""

from __future__ import annotations

import time

import pytest
from irods.exception import (
    CAT_UNKNOWN_FILE,
    SYS_INVALID_FILE_PATH,
    USER_INPUT_PATH_ERR,
    iRODSException,
)
from irods.meta import AVUOperation, iRODSMeta
from irods.models import Collection, DataObject, DataObjectMeta

from tests.helpers.prc_io import ZONE


def test_public_home_is_owned_by_group_public(rods):
    home = rods.collections.get(f"/{ZONE}/home/public")

    assert home.owner_name == "public"
    acls = {(a.user_name, a.access_name) for a in rods.acls.get(home)}
    assert ("public", "own") in acls


def test_any_user_may_create_in_public_home(alice, login, unique):
    path = f"/{ZONE}/home/public/{unique('shared')}"

    created = login(alice).data_objects.create(path)

    assert created.path == path


def test_repeated_meta_conditions_each_join_their_own_avu(rods, scratch):
    for n in range(3, 9):
        obj = rods.data_objects.create(f"{scratch}/joined-{n}")
        obj.metadata.add("A_meta", f"1{n}")
        obj.metadata.add("B_meta", f"2{n}")
        rods.data_objects.create(f"{scratch}/decoy-{n}")

    query = (
        rods.query(DataObject.name)
        .filter(Collection.name == scratch)
        .filter(DataObjectMeta.name == "A_meta", DataObjectMeta.value < "20")
        .filter(DataObjectMeta.name == "B_meta", DataObjectMeta.value >= "20")
    )

    assert sorted(r[DataObject.name] for r in query) == [f"joined-{n}" for n in range(3, 9)]


def test_two_values_of_one_attribute_match_through_two_joins(rods, scratch):
    obj = rods.data_objects.create(f"{scratch}/twice")
    obj.metadata.add("B_meta", "28")
    obj.metadata.add("B_meta", "29")

    query = (
        rods.query(DataObject.name)
        .filter(Collection.name == scratch)
        .filter(DataObjectMeta.name == "B_meta", DataObjectMeta.value == "28")
        .filter(DataObjectMeta.name == "B_meta", DataObjectMeta.value == "29")
    )

    assert [r[DataObject.name] for r in query] == ["twice"]


def test_atomic_metadata_error_carries_json_message(rods, scratch):
    obj = rods.data_objects.create(f"{scratch}/vanishing")
    obj.unlink(force=True)

    with pytest.raises(iRODSException) as caught:
        obj.metadata.apply_atomic_operations(
            AVUOperation(operation="add", avu=iRODSMeta("a", "b", "c"))
        )

    body = caught.value.server_msg.get_json_encoded_struct()
    assert f"Entity does not exist [entity_name={obj.path}]" in body["error_message"]


def test_setting_existing_avu_keeps_its_creation_time(rods, scratch):
    obj = rods.data_objects.create(f"{scratch}/stamped")
    meta = obj.metadata(timestamps=True)
    meta.set(iRODSMeta("when", "first", "u1"))
    before = meta.get_one("when")
    time.sleep(1.1)  # catalog times have a resolution of one second

    rods.data_objects.get(obj.path).metadata(timestamps=True).set(iRODSMeta("when", "2nd", "u2"))

    after = rods.data_objects.get(obj.path).metadata(timestamps=True).get_one("when")
    assert (after.value, after.units) == ("2nd", "u2")
    assert after.create_time == before.create_time
    assert after.modify_time > before.modify_time


def test_create_with_relative_path_is_invalid_file_path(rods):
    with pytest.raises(SYS_INVALID_FILE_PATH):
        rods.data_objects.create("t")


def test_copy_from_unknown_zone_is_input_path_error(rods):
    with pytest.raises(USER_INPUT_PATH_ERR):
        rods.data_objects.copy("/this_zone_absent/x.src", "/this_zone_absent/x.dst")


def test_copy_from_missing_object_in_zone_is_unknown_file(rods, scratch):
    with pytest.raises(CAT_UNKNOWN_FILE):
        rods.data_objects.copy(f"{scratch}/absent", f"{scratch}/copy")
