"""What a groupadmin may do: create groups and rodsusers, manage members; not remove groups."""

from __future__ import annotations

import pytest
from irods.exception import CAT_INSUFFICIENT_PRIVILEGE_LEVEL, SYS_NO_API_PRIV
from irods.session import iRODSSession

from tests.helpers.prc_io import ZONE


@pytest.fixture
def groupadmin(make_user, login):
    return login(make_user("gadmin", "groupadmin"))


def test_groupadmin_creates_group_and_manages_members(groupadmin, alice, unique):
    name = unique("lab")

    group = groupadmin.groups.create(name, group_admin=True)
    groupadmin.groups.addmember(name, alice.name, group_admin=True)

    assert alice.name in [m.name for m in groupadmin.groups.get(name).members]
    assert group.name == name


def test_groupadmin_creates_rodsuser_with_password(groupadmin, irods_zone, unique):
    name = unique("hired")

    user = groupadmin.users.create_with_password(name, "their-password")

    assert user.type == "rodsuser"
    with iRODSSession(
        host=irods_zone.host, port=irods_zone.port, zone=ZONE, user=name, password="their-password"
    ) as session:
        assert session.collections.get(f"/{ZONE}/home/{name}").owner_name == name


def test_groupadmin_cannot_remove_group(groupadmin, rods, unique):
    name = unique("kept")
    groupadmin.groups.create(name, group_admin=True)

    with pytest.raises(SYS_NO_API_PRIV):
        groupadmin.groups.remove(name)
    assert rods.groups.get(name).name == name


def test_rodsuser_cannot_create_group(alice, login, unique):
    with pytest.raises(CAT_INSUFFICIENT_PRIVILEGE_LEVEL):
        login(alice).groups.create(unique("nope"), group_admin=True)
