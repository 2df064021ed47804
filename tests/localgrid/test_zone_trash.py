"""The trash, per user, as iRODS keeps it; and what removing a user does to home and trash."""

from __future__ import annotations

import pytest
from irods.exception import CollectionDoesNotExist, DataObjectDoesNotExist
from irods.models import Collection

from tests.helpers.prc_io import ZONE


def _write(session, path: str, content: bytes = b"payload") -> None:
    with session.data_objects.open(path, "w") as f:
        f.write(content)


def test_new_user_gets_home_and_trash_collections(rods, alice):
    assert rods.collections.get(alice.home).owner_name == alice.name
    trash = rods.collections.get(f"/{ZONE}/trash/home/{alice.name}")
    assert trash.owner_name == alice.name


def test_removed_user_home_and_trash_are_gone(rods, unique):
    name = unique("leaving")
    rods.users.create(name, "rodsuser")

    rods.users.remove(name)

    names = [r[Collection.name] for r in rods.query(Collection.name)]
    assert f"/{ZONE}/home/{name}" not in names
    assert f"/{ZONE}/trash/home/{name}" not in names


def test_recreated_user_owns_and_writes_a_fresh_home(rods, sessions, unique):
    name = unique("again")
    rods.users.create(name, "rodsuser")
    rods.users.modify(name, "password", "first")
    first = sessions(user=name, password="first")
    _write(first, f"/{ZONE}/home/{name}/old.txt")
    first.cleanup()
    rods.users.remove(name)

    rods.users.create(name, "rodsuser")
    rods.users.modify(name, "password", "second")

    again = sessions(user=name, password="second")
    home = again.collections.get(f"/{ZONE}/home/{name}")
    assert home.data_objects == []
    _write(again, f"{home.path}/new.txt", b"new")
    assert again.data_objects.get(f"{home.path}/new.txt").size == 3


def test_unlink_without_force_moves_object_to_trash(alice, login):
    session = login(alice)
    _write(session, f"{alice.home}/doomed.txt", b"keep me")

    session.data_objects.unlink(f"{alice.home}/doomed.txt")

    with pytest.raises(DataObjectDoesNotExist):
        session.data_objects.get(f"{alice.home}/doomed.txt")
    trashed = session.data_objects.get(f"/{ZONE}/trash/home/{alice.name}/doomed.txt")
    assert trashed.size == len(b"keep me")


def test_unlink_with_force_deletes_object(alice, login):
    session = login(alice)
    _write(session, f"{alice.home}/gone.txt")

    session.data_objects.unlink(f"{alice.home}/gone.txt", force=True)

    with pytest.raises(DataObjectDoesNotExist):
        session.data_objects.get(f"/{ZONE}/trash/home/{alice.name}/gone.txt")


def test_collection_removal_without_force_keeps_tree_in_trash(alice, login):
    session = login(alice)
    session.collections.create(f"{alice.home}/proj/sub")
    _write(session, f"{alice.home}/proj/sub/a.txt")

    session.collections.remove(f"{alice.home}/proj")

    with pytest.raises(CollectionDoesNotExist):
        session.collections.get(f"{alice.home}/proj")
    moved = session.data_objects.get(f"/{ZONE}/trash/home/{alice.name}/proj/sub/a.txt")
    assert moved.name == "a.txt"


def test_collection_removal_with_force_deletes_tree(alice, login):
    session = login(alice)
    session.collections.create(f"{alice.home}/tmp")

    session.collections.remove(f"{alice.home}/tmp", force=True)

    with pytest.raises(CollectionDoesNotExist):
        session.collections.get(f"/{ZONE}/trash/home/{alice.name}/tmp")


def test_same_name_trashed_twice_keeps_both(alice, login):
    session = login(alice)
    for content in (b"one", b"two"):
        _write(session, f"{alice.home}/twice.txt", content)
        session.data_objects.unlink(f"{alice.home}/twice.txt")

    trash = session.collections.get(f"/{ZONE}/trash/home/{alice.name}")
    names = sorted(o.name for o in trash.data_objects)
    assert len(names) == 2
    assert names[0] == "twice.txt"
    assert names[1].startswith("twice.txt.")


def test_unlink_of_trashed_object_deletes_it(alice, login):
    session = login(alice)
    _write(session, f"{alice.home}/twice-gone.txt")
    session.data_objects.unlink(f"{alice.home}/twice-gone.txt")
    trashed = f"/{ZONE}/trash/home/{alice.name}/twice-gone.txt"

    session.data_objects.unlink(trashed)

    with pytest.raises(DataObjectDoesNotExist):
        session.data_objects.get(trashed)
