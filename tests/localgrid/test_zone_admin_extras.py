"""Smaller APIs: unused AVUs, library features, client hints, temporary passwords for others,
remote zones and their users, specific queries, registration in place, replica fields."""

from __future__ import annotations

import pytest
from irods import keywords as kw
from irods.exception import CAT_INVALID_ARGUMENT, CAT_UNKNOWN_SPECIFIC_QUERY
from irods.manager.data_object_manager import Server_Checksum_Warning
from irods.message import GeneralAdminRequest, RErrorStack, iRODSMessage
from irods.models import Collection, DataObject, User
from irods.query import SpecificQuery

from tests.helpers.prc_io import ZONE


def _admin(session, *args: str) -> int:
    request = iRODSMessage("RODS_API_REQ", msg=GeneralAdminRequest(*args), int_info=701)
    with session.pool.get_connection() as conn:
        conn.send(request)
        return int(conn.recv().int_info)


def test_rm_unused_avus_answers_success(rods):
    assert _admin(rods, "rm", "unusedAVUs", "", "", "", "") == 0


def test_library_features_is_a_non_empty_dict(rods):
    features = rods.library_features()

    assert isinstance(features, dict)
    assert features


def test_client_hints_name_hash_scheme(rods):
    hints = rods.client_hints

    assert hints["hash_scheme"] == "SHA256"
    assert {"specific_queries", "rules", "plugins", "match_hash_policy"} <= set(hints)


def test_rodsadmin_gets_temporary_password_for_another_user(rods, sessions, unique):
    name = unique("temp")
    user = rods.users.create(name, "rodsuser")

    password = user.temp_password()

    session = sessions(user=name, password=password)
    assert session.users.get(name).name == name


def test_remote_zone_user_gets_home_and_trash_named_with_zone(rods, unique):
    zone = rods.zones.create(unique("otherzone"), "remote")
    user = rods.users.create(unique("visitor"), "rodsuser", user_zone=zone.name)

    names = {r[Collection.name] for r in rods.query(Collection.name)}
    assert f"/{ZONE}/home/{user.name}#{zone.name}" in names
    assert f"/{ZONE}/trash/home/{user.name}#{zone.name}" in names
    user.remove()
    zone.remove()
    remaining = {r[Collection.name] for r in rods.query(Collection.name)}
    assert not any(f"{user.name}#{zone.name}" in n for n in remaining)


def test_same_user_name_in_two_zones_is_two_users(rods, unique):
    zone = rods.zones.create(unique("twin"), "remote")
    name = unique("common")
    users = [rods.users.create(name, "rodsuser", user_zone=zone.name)]
    users.append(rods.users.create(name, "rodsuser"))

    assert len(list(rods.query(User).filter(User.name == name))) == 2
    for user in users:
        user.remove()
    zone.remove()


def test_specific_query_runs_registered_sql_with_arguments(rods, scratch, unique):
    for n in range(3):
        rods.data_objects.create(f"{scratch}/sq-{n}")
    alias = unique("names_in")
    query = SpecificQuery(
        rods,
        "select data_name, data_id from R_DATA_MAIN join R_COLL_MAIN using (coll_id)"
        " where coll_name = ? order by data_name",
        alias,
        columns=[DataObject.name, DataObject.id],
        args=[scratch],
    )
    query.register()

    rows = list(
        SpecificQuery(rods, alias=alias, columns=[DataObject.name, DataObject.id], args=[scratch])
    )

    assert [r[DataObject.name] for r in rows] == ["sq-0", "sq-1", "sq-2"]
    query.remove()


def test_specific_query_alias_must_be_unique(rods, unique):
    query = SpecificQuery(rods, "select data_name from R_DATA_MAIN", unique("twice"))
    query.register()

    with pytest.raises(CAT_INVALID_ARGUMENT, match="Alias is not unique"):
        query.register()
    query.remove()


def test_unknown_specific_query_is_refused(rods, unique):
    with pytest.raises(CAT_UNKNOWN_SPECIFIC_QUERY):
        next(iter(SpecificQuery(rods, alias=unique("nothing"))))


def test_specific_queries_read_passwords_as_null(rods, unique):
    alias = unique("pw")
    SpecificQuery(
        rods, "select user_name, password from users where user_name = 'rods'", alias
    ).register()

    rows = list(SpecificQuery(rods, alias=alias))

    assert [(r[0], r[1]) for r in rows] == [("rods", None)]
    SpecificQuery(rods, alias=alias).remove()


def test_specific_queries_may_not_write(rods, unique):
    alias = unique("writer")
    SpecificQuery(rods, "select 1 from R_DATA_MAIN; delete from data", alias).register()

    with pytest.raises(CAT_INVALID_ARGUMENT):
        list(SpecificQuery(rods, alias=alias))
    SpecificQuery(rods, alias=alias).remove()


def test_builtin_ls_lists_registered_queries(rods):
    rows = list(SpecificQuery(rods, alias="ls"))

    assert "ls" in [r[0] for r in rows]


def test_register_catalogues_a_file_in_place(rods, scratch, tmp_path):
    local = tmp_path / "in-place.txt"
    local.write_bytes(b"registered")

    rods.data_objects.register(str(local), f"{scratch}/in-place.txt")

    obj = rods.data_objects.get(f"{scratch}/in-place.txt")
    assert (obj.replicas[0].path, obj.size) == (str(local), len(b"registered"))
    rods.data_objects.unlink(obj.path, force=True)
    assert local.read_bytes() == b"registered"  # the zone never deletes a registered file


def test_data_comments_are_set_on_one_replica(rods, scratch):
    obj = rods.data_objects.create(f"{scratch}/commented")

    rods.data_objects.modDataObjMeta(
        {"objPath": obj.path, "rescHier": "demoResc"}, {"dataComments": "a remark"}
    )

    assert rods.data_objects.get(obj.path).replicas[0].comments == "a remark"


def test_checksum_verification_reports_replicas_without_checksum(rods, scratch, unique):
    name = unique("other")
    rods.resources.create(name, "unixfilesystem", "localhost", f"/tmp/{name}")
    path = f"{scratch}/verify"
    with rods.data_objects.open(path, "w") as f:
        f.write(b"verify me")
    rods.data_objects.replicate(path, resource=name)
    rods.data_objects.chksum(path, **{kw.RESC_NAME_KW: "demoResc"})

    stack = RErrorStack()

    with pytest.raises(Server_Checksum_Warning):
        rods.data_objects.chksum(path, r_error=stack, **{kw.VERIFY_CHKSUM_KW: ""})
    assert [e.raw_msg_ for e in stack if "No Checksum" in e.raw_msg_] == [
        "No Checksum Available for Replica [1]."
    ]
    rods.data_objects.unlink(path, force=True)
    rods.resources.remove(name)
