"""ACLs with two users, alice and bob: denial, grants, recursion, inheritance, groups.

What real iRODS does, and so what these tests expect (iRODS ships with the STRICT ACL policy):
* GenQuery only returns objects and collections the caller may read. An object bob cannot read
  is invisible to him: `data_objects.get()` (a GenQuery) raises DataObjectDoesNotExist, and the
  object is missing from listings. PRC's own access tests rely on this filtering.
* APIs that name the path directly (DATA_OBJ_OPEN, UNLINK, MOD_AVU_METADATA, MOD_ACCESS_CONTROL)
  check the ACL on the server and answer CAT_NO_ACCESS_PERMISSION (-818000).
To keep the two cases apart, alice's private objects live in a collection bob may read, so the
collection lookup that precedes `data_objects.get()` succeeds and only the object is hidden.
"""

from __future__ import annotations

import pytest
from irods.access import iRODSAccess
from irods.exception import (
    CAT_NO_ACCESS_PERMISSION,
    CollectionDoesNotExist,
    DataObjectDoesNotExist,
)
from irods.models import Collection, DataObject

from tests.helpers.prc_io import ZONE, read_object, write_object


def _acls(session, path: str, collection: bool = False) -> set[tuple[str, str]]:
    target = session.collections.get(path) if collection else session.data_objects.get(path)
    return {(a.access_name, a.user_name) for a in session.acls.get(target)}


@pytest.fixture
def shared(alice, bob, login):
    """alice's collection that bob may list, holding alice's private object `secret.txt`."""
    alice_s = login(alice)
    coll = f"{alice.home}/shared"
    alice_s.collections.create(coll)
    alice_s.acls.set(iRODSAccess("read", coll, bob.name, ZONE))
    write_object(alice_s, f"{coll}/secret.txt", b"alice only")
    return coll


# --- defaults --------------------------------------------------------------------------------


def test_new_object_is_owned_by_its_creator_only(alice, login):
    alice_s = login(alice)
    write_object(alice_s, f"{alice.home}/mine.txt", b"x")

    assert _acls(alice_s, f"{alice.home}/mine.txt") == {("own", alice.name)}
    assert alice_s.data_objects.get(f"{alice.home}/mine.txt").owner_name == alice.name


def test_new_user_owns_home_collection(alice, login):
    alice_s = login(alice)

    home = alice_s.collections.get(alice.home)
    assert home.owner_name == alice.name
    assert ("own", alice.name) in _acls(alice_s, alice.home, collection=True)


def test_acls_entries_carry_user_zone_and_path(alice, login):
    alice_s = login(alice)
    obj = alice_s.data_objects.create(f"{alice.home}/zoned")

    assert alice_s.acls.get(obj) == [iRODSAccess("own", obj.path, alice.name, ZONE)]


# --- denial ----------------------------------------------------------------------------------


def test_get_of_private_object_by_other_user_raises_does_not_exist(bob, login, shared):
    with pytest.raises(DataObjectDoesNotExist):
        login(bob).data_objects.get(f"{shared}/secret.txt")


def test_open_of_private_object_by_other_user_raises_no_access(bob, login, shared):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.open(f"{shared}/secret.txt", "r")


def test_download_of_private_object_by_other_user_raises_no_access(bob, login, shared, tmp_path):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.get(f"{shared}/secret.txt", str(tmp_path / "stolen"))
    assert not (tmp_path / "stolen").exists()


def test_listing_hides_objects_the_user_cannot_read(alice, bob, login, shared):
    write_object(login(alice), f"{shared}/public.txt", b"for bob")
    login(alice).acls.set(iRODSAccess("read", f"{shared}/public.txt", bob.name, ZONE))

    names = [o.name for o in login(bob).collections.get(shared).data_objects]

    assert names == ["public.txt"]


def test_query_hides_objects_the_user_cannot_read(bob, login, shared):
    rows = login(bob).query(DataObject.name).filter(Collection.name == shared)

    assert list(rows) == []


def test_collection_without_access_is_invisible_to_other_user(alice, bob, login):
    with pytest.raises(CollectionDoesNotExist):
        login(bob).collections.get(alice.home)


def test_write_to_private_object_by_other_user_raises_no_access(alice, bob, login, shared):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.open(f"{shared}/secret.txt", "w")
    assert read_object(login(alice), f"{shared}/secret.txt") == b"alice only"


def test_unlink_without_permission_raises_no_access(alice, bob, login, shared):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.unlink(f"{shared}/secret.txt", force=True)
    assert read_object(login(alice), f"{shared}/secret.txt") == b"alice only"


def test_create_in_collection_without_write_raises_no_access(alice, bob, login, shared):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.create(f"{shared}/intruder.txt")
    assert [o.name for o in login(alice).collections.get(shared).data_objects] == ["secret.txt"]


def test_remove_of_others_collection_raises_no_access(alice, bob, login, shared):
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).collections.remove(shared, recurse=True, force=True)
    assert login(alice).collections.exists(shared)


# --- grants ----------------------------------------------------------------------------------


def test_read_grant_lets_other_user_read(alice, bob, login, shared):
    path = f"{shared}/secret.txt"

    login(alice).acls.set(iRODSAccess("read", path, bob.name, ZONE))

    bob_s = login(bob)
    assert bob_s.data_objects.get(path).name == "secret.txt"
    assert read_object(bob_s, path) == b"alice only"
    assert _acls(login(alice), path) == {("own", alice.name), ("read_object", bob.name)}


def test_read_grant_does_not_allow_writing(alice, bob, login, shared):
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("read", path, bob.name, ZONE))

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.open(path, "w")
    assert read_object(login(alice), path) == b"alice only"


def test_read_grant_does_not_allow_adding_metadata(alice, bob, login, shared):
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("read", path, bob.name, ZONE))

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.get(path).metadata.add("by", "bob")
    assert login(alice).data_objects.get(path).metadata.items() == []


def test_write_grant_lets_other_user_overwrite(alice, bob, login, shared):
    path = f"{shared}/secret.txt"

    login(alice).acls.set(iRODSAccess("write", path, bob.name, ZONE))
    write_object(login(bob), path, b"bob was here")

    assert read_object(login(alice), path) == b"bob was here"
    assert ("modify_object", bob.name) in _acls(login(alice), path)
    assert login(alice).data_objects.get(path).owner_name == alice.name


def test_own_grant_lets_other_user_set_acls(alice, bob, login, shared, make_user):
    carol = make_user("carol")
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("own", path, bob.name, ZONE))

    login(bob).acls.set(iRODSAccess("read", path, carol.name, ZONE))

    assert ("read_object", carol.name) in _acls(login(alice), path)


def test_non_owner_setting_acl_raises_no_access(alice, bob, login, shared):
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("read", path, bob.name, ZONE))

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).acls.set(iRODSAccess("write", path, bob.name, ZONE))
    assert ("modify_object", bob.name) not in _acls(login(alice), path)


def test_null_grant_revokes_access(alice, bob, login, shared):
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("read", path, bob.name, ZONE))
    assert read_object(login(bob), path) == b"alice only"

    login(alice).acls.set(iRODSAccess("null", path, bob.name, ZONE))

    assert _acls(login(alice), path) == {("own", alice.name)}
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.open(path, "r")


def test_regrant_replaces_previous_level(alice, bob, login, shared):
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("write", path, bob.name, ZONE))

    login(alice).acls.set(iRODSAccess("read", path, bob.name, ZONE))

    assert _acls(login(alice), path) == {("own", alice.name), ("read_object", bob.name)}


def test_acls_get_on_collection_lists_grants(alice, bob, login, shared):
    assert _acls(login(alice), shared, collection=True) == {
        ("own", alice.name),
        ("read_object", bob.name),
    }


def test_write_grant_on_collection_lets_other_user_create_objects(alice, bob, login, rods, shared):
    login(alice).acls.set(iRODSAccess("write", shared, bob.name, ZONE))

    write_object(login(bob), f"{shared}/from-bob.txt", b"hi")

    assert rods.data_objects.get(f"{shared}/from-bob.txt").owner_name == bob.name
    assert read_object(login(bob), f"{shared}/from-bob.txt") == b"hi"


def test_object_created_by_other_user_is_private_to_its_creator(alice, bob, login, shared):
    # Without inheritance, the collection owner gets no ACL on what others put in it.
    login(alice).acls.set(iRODSAccess("write", shared, bob.name, ZONE))
    write_object(login(bob), f"{shared}/from-bob.txt", b"hi")

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(alice).data_objects.open(f"{shared}/from-bob.txt", "r")


# --- recursion and inheritance ---------------------------------------------------------------


def test_recursive_grant_reaches_existing_objects_at_every_depth(alice, bob, login):
    alice_s = login(alice)
    top = f"{alice.home}/tree"
    alice_s.collections.create(f"{top}/a/b")
    paths = [f"{top}/t.txt", f"{top}/a/a.txt", f"{top}/a/b/b.txt"]
    for path in paths:
        write_object(alice_s, path, path.encode())

    alice_s.acls.set(iRODSAccess("read", top, bob.name, ZONE), recursive=True)

    bob_s = login(bob)
    for path in paths:
        assert read_object(bob_s, path) == path.encode()
    assert ("read_object", bob.name) in _acls(alice_s, f"{top}/a/b", collection=True)
    assert [c.name for c in bob_s.collections.get(f"{top}/a").subcollections] == ["b"]


def test_non_recursive_grant_on_collection_leaves_contents_private(alice, bob, login):
    alice_s = login(alice)
    top = f"{alice.home}/flat"
    alice_s.collections.create(top)
    write_object(alice_s, f"{top}/inside.txt", b"private")

    alice_s.acls.set(iRODSAccess("read", top, bob.name, ZONE))

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.open(f"{top}/inside.txt", "r")


def test_new_object_in_inheriting_collection_gets_collection_acls(alice, bob, login):
    alice_s = login(alice)
    coll = f"{alice.home}/inherits"
    alice_s.collections.create(coll)
    write_object(alice_s, f"{coll}/before.txt", b"older")
    alice_s.acls.set(iRODSAccess("inherit", coll))
    alice_s.acls.set(iRODSAccess("read", coll, bob.name, ZONE))

    write_object(alice_s, f"{coll}/after.txt", b"newer")

    assert alice_s.collections.get(coll).inheritance is True
    assert _acls(alice_s, f"{coll}/after.txt") == {("own", alice.name), ("read_object", bob.name)}
    bob_s = login(bob)
    assert read_object(bob_s, f"{coll}/after.txt") == b"newer"
    assert [o.name for o in bob_s.collections.get(coll).data_objects] == ["after.txt"]
    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        bob_s.data_objects.open(f"{coll}/before.txt", "r")


def test_new_subcollection_of_inheriting_collection_inherits_acls_and_flag(alice, bob, login):
    alice_s = login(alice)
    coll = f"{alice.home}/inherits-deep"
    alice_s.collections.create(coll)
    alice_s.acls.set(iRODSAccess("inherit", coll))
    alice_s.acls.set(iRODSAccess("write", coll, bob.name, ZONE))

    alice_s.collections.create(f"{coll}/child")

    child = alice_s.collections.get(f"{coll}/child")
    assert child.inheritance is True
    assert ("modify_object", bob.name) in _acls(alice_s, child.path, collection=True)
    write_object(login(bob), f"{coll}/child/by-bob.txt", b"ok")


def test_noinherit_turns_inheritance_off(alice, login):
    alice_s = login(alice)
    coll = alice_s.collections.create(f"{alice.home}/toggle").path
    alice_s.acls.set(iRODSAccess("inherit", coll))

    alice_s.acls.set(iRODSAccess("noinherit", coll))

    assert alice_s.collections.get(coll).inheritance is False


def test_recursive_inherit_sets_flag_on_whole_subtree(alice, login):
    alice_s = login(alice)
    top = f"{alice.home}/inherit-tree"
    alice_s.collections.create(f"{top}/a/b")

    alice_s.acls.set(iRODSAccess("inherit", top), recursive=True)

    for path in (top, f"{top}/a", f"{top}/a/b"):
        assert alice_s.collections.get(path).inheritance is True


def test_non_recursive_inherit_sets_flag_on_top_only(alice, login):
    alice_s = login(alice)
    top = f"{alice.home}/inherit-top"
    alice_s.collections.create(f"{top}/a")

    alice_s.acls.set(iRODSAccess("inherit", top))

    assert alice_s.collections.get(top).inheritance is True
    assert alice_s.collections.get(f"{top}/a").inheritance is False


# --- groups ----------------------------------------------------------------------------------


def test_grant_to_group_reaches_its_members(alice, bob, login, rods, unique, shared):
    group = unique("lab")
    rods.groups.create(group)
    rods.groups.addmember(group, bob.name)
    path = f"{shared}/secret.txt"

    login(alice).acls.set(iRODSAccess("read", path, group, ZONE))

    assert read_object(login(bob), path) == b"alice only"
    alice_s = login(alice)
    entries = alice_s.acls.get(alice_s.data_objects.get(path))
    assert ("read_object", group, "rodsgroup") in {
        (a.access_name, a.user_name, a.user_type) for a in entries
    }


def test_removed_group_member_loses_access(alice, bob, login, rods, unique, shared):
    group = unique("lab")
    rods.groups.create(group)
    rods.groups.addmember(group, bob.name)
    path = f"{shared}/secret.txt"
    login(alice).acls.set(iRODSAccess("read", path, group, ZONE))

    rods.groups.removemember(group, bob.name)

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        login(bob).data_objects.open(path, "r")
