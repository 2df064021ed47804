"""User and group administration through GENERAL_ADMIN, as the tests and the gateway use it.

A rodsuser calling GENERAL_ADMIN gets SYS_NO_API_PRIV (-13000): real iRODS's API table lets
only LOCAL_PRIV_USER_AUTH (rodsadmin) clients call it, before the handler runs.
"""

from __future__ import annotations

import pytest
from irods.exception import (
    CAT_INVALID_AUTHENTICATION,
    CAT_INVALID_USER,
    SYS_NO_API_PRIV,
    GroupDoesNotExist,
    UserDoesNotExist,
)
from irods.models import User, UserAuth

from tests.helpers.prc_io import ZONE


def test_create_user_makes_rodsuser_with_home(rods, unique):
    name = unique("newbie")

    user = rods.users.create(name, "rodsuser")

    assert (user.name, user.type, user.zone) == (name, "rodsuser", ZONE)
    fetched = rods.users.get(name)
    assert (fetched.id, fetched.type) == (user.id, "rodsuser")
    home = rods.collections.get(f"/{ZONE}/home/{name}")
    assert home.owner_name == name


def test_get_unknown_user_raises_user_does_not_exist(rods, unique):
    with pytest.raises(UserDoesNotExist):
        rods.users.get(unique("nobody"))


def test_set_password_lets_user_log_in(rods, sessions, unique):
    name = unique("pw")
    rods.users.create(name, "rodsuser")

    rods.users.modify(name, "password", "first-password")

    session = sessions(user=name, password="first-password")
    assert session.collections.get(f"/{ZONE}/home/{name}").owner_name == name


def test_changed_password_replaces_old_one(alice, rods, sessions):
    rods.users.modify(alice.name, "password", "second-password")

    with pytest.raises(CAT_INVALID_AUTHENTICATION):
        sessions(user=alice.name, password=alice.password).collections.get(alice.home)
    assert sessions(user=alice.name, password="second-password").collections.get(alice.home)


def test_password_with_special_characters(rods, sessions, unique):
    name = unique("special")
    password = "p@ss w'rd\"&<>%#"
    rods.users.create(name, "rodsuser")

    rods.users.modify(name, "password", password)

    assert sessions(user=name, password=password).collections.get(f"/{ZONE}/home/{name}")


def test_modify_type_makes_rodsadmin(alice, rods):
    rods.users.modify(alice.name, "type", "rodsadmin")

    assert rods.users.get(alice.name).type == "rodsadmin"


def test_user_dns_are_added_listed_and_removed(alice, rods):
    first, second = "/O=Grid/CN=Alice Example", "/DC=org/DC=example/OU=People/CN=Alice, A. (42)"

    rods.users.modify(alice.name, "addAuth", first)
    rods.users.modify(alice.name, "addAuth", second)
    assert sorted(rods.users.get(alice.name).dn) == sorted([first, second])

    rods.users.modify(alice.name, "rmAuth", first)
    assert rods.users.get(alice.name).dn == [second]


def test_user_found_by_dn(alice, bob, rods, unique):
    dn = f"/O=Grid/OU=Test/CN={unique('Alice')}"
    rods.users.modify(alice.name, "addAuth", dn)
    rods.users.modify(bob.name, "addAuth", dn + "-not")

    rows = rods.query(User.name).filter(UserAuth.user_dn == dn)

    assert [r[User.name] for r in rows] == [alice.name]


def test_new_user_has_no_dns(alice, rods):
    assert rods.users.get(alice.name).dn == []


def test_remove_user_forbids_login(alice, rods, login, sessions):
    login(alice).collections.get(alice.home)

    rods.users.remove(alice.name)

    with pytest.raises(UserDoesNotExist):
        rods.users.get(alice.name)
    with pytest.raises((CAT_INVALID_USER, CAT_INVALID_AUTHENTICATION)):
        sessions(user=alice.name, password=alice.password).collections.get(alice.home)


def test_user_metadata(alice, rods):
    rods.users.get(alice.name).metadata.add("department", "physics")

    assert tuple(rods.users.get(alice.name).metadata.get_one("department")) == (
        "department",
        "physics",
    )


def test_group_create_get_and_members(alice, bob, rods, unique):
    name = unique("lab")

    group = rods.groups.create(name)
    rods.groups.addmember(name, alice.name)
    rods.groups.addmember(name, bob.name)

    assert rods.groups.get(name).id == group.id
    assert sorted(u.name for u in rods.groups.getmembers(name)) == sorted([alice.name, bob.name])
    assert rods.groups.get(name).hasmember(alice.name)


def test_new_group_has_no_members(rods, unique):
    name = unique("empty")
    rods.groups.create(name)

    assert rods.groups.getmembers(name) == []


def test_removed_member_leaves_group(alice, bob, rods, unique):
    name = unique("lab")
    rods.groups.create(name)
    rods.groups.addmember(name, alice.name)
    rods.groups.addmember(name, bob.name)

    rods.groups.removemember(name, alice.name)

    assert [u.name for u in rods.groups.getmembers(name)] == [bob.name]


def test_removed_group_is_gone(rods, unique):
    name = unique("temp")
    rods.groups.create(name)

    rods.groups.remove(name)

    with pytest.raises(GroupDoesNotExist):
        rods.groups.get(name)


def test_get_unknown_group_raises_group_does_not_exist(rods, unique):
    with pytest.raises(GroupDoesNotExist):
        rods.groups.get(unique("nogroup"))


def test_rodsuser_creating_user_raises_no_api_priv(alice, login, rods, unique):
    name = unique("sneaky")

    with pytest.raises(SYS_NO_API_PRIV):
        login(alice).users.create(name, "rodsadmin")
    with pytest.raises(UserDoesNotExist):
        rods.users.get(name)


def test_rodsuser_promoting_self_raises_no_api_priv(alice, login, rods):
    with pytest.raises(SYS_NO_API_PRIV):
        login(alice).users.modify(alice.name, "type", "rodsadmin")
    assert rods.users.get(alice.name).type == "rodsuser"


def test_user_listing_includes_rods_and_new_users(alice, rods):
    names = {r[User.name] for r in rods.query(User.name).filter(User.type != "rodsgroup")}

    assert {"rods", alice.name} <= names
