"""State survives a restart: files, metadata, ACLs, users, groups, DNs, checksums.

This module runs its own zone, since it stops and starts it.
"""

from __future__ import annotations

import pytest
from irods.access import iRODSAccess

from localgrid.irods import LocalZone
from tests.helpers.prc_io import ZONE

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    with LocalZone(tmp_path_factory.mktemp("restart-zone")) as local:
        yield local


@pytest.fixture(scope="module")
def before_restart(zone):
    """Writes a bit of everything, then restarts the zone on the same port and data folder."""
    with zone.session() as rods:
        for name, password in (("alice", "apass"), ("bob", "bpass")):
            rods.users.create(name, "rodsuser")
            rods.users.modify(name, "password", password)
        rods.users.modify("alice", "addAuth", "/O=Grid/CN=Alice")
        rods.groups.create("lab")
        rods.groups.addmember("lab", "bob")
    with zone.session(user="alice", password="apass") as alice:
        coll = alice.collections.create("/tempZone/home/alice/project")
        coll.metadata.add("kind", "project")
        alice.acls.set(iRODSAccess("inherit", coll.path))
        alice.acls.set(iRODSAccess("read", coll.path, "lab", ZONE))
        with alice.data_objects.open(f"{coll.path}/data.bin", "w") as f:
            f.write(PAYLOAD)
        obj = alice.data_objects.get(f"{coll.path}/data.bin")
        obj.metadata.add("color", "green", "hue")
        checksum = obj.chksum()
        alice.data_objects.create(f"{coll.path}/empty")
    port = zone.port
    zone.restart()
    return {"port": port, "checksum": checksum}


def test_restart_keeps_port(zone, before_restart):
    assert zone.port == before_restart["port"]


def test_restart_keeps_file_content_and_checksum(zone, before_restart):
    with zone.session(user="alice", password="apass") as alice:
        obj = alice.data_objects.get("/tempZone/home/alice/project/data.bin")
        assert obj.size == len(PAYLOAD)
        assert obj.checksum == before_restart["checksum"]
        with obj.open("r") as f:
            assert f.read() == PAYLOAD
        assert alice.data_objects.get("/tempZone/home/alice/project/empty").size == 0


def test_restart_keeps_metadata(zone, before_restart):
    with zone.session(user="alice", password="apass") as alice:
        coll = alice.collections.get("/tempZone/home/alice/project")
        assert tuple(coll.metadata.get_one("kind")) == ("kind", "project")
        obj = alice.data_objects.get(f"{coll.path}/data.bin")
        assert tuple(obj.metadata.get_one("color")) == ("color", "green", "hue")


def test_restart_keeps_acls_and_inheritance(zone, before_restart):
    with (
        zone.session(user="bob", password="bpass") as bob,
        bob.data_objects.open("/tempZone/home/alice/project/data.bin", "r") as f,
    ):
        assert f.read() == PAYLOAD
    with zone.session(user="alice", password="apass") as alice:
        coll = alice.collections.get("/tempZone/home/alice/project")
        assert coll.inheritance is True
        assert {(a.access_name, a.user_name) for a in alice.acls.get(coll)} == {
            ("own", "alice"),
            ("read_object", "lab"),
        }


def test_restart_keeps_users_groups_and_dns(zone, before_restart):
    with zone.session() as rods:
        assert rods.users.get("alice").type == "rodsuser"
        assert rods.users.get("alice").dn == ["/O=Grid/CN=Alice"]
        assert [u.name for u in rods.groups.getmembers("lab")] == ["bob"]


def test_restart_keeps_passwords(zone, before_restart):
    with zone.session(user="bob", password="bpass") as bob:
        assert bob.collections.get("/tempZone/home/bob").owner_name == "bob"


def test_zone_accepts_new_writes_after_restart(zone, before_restart):
    with zone.session(user="alice", password="apass") as alice:
        with alice.data_objects.open("/tempZone/home/alice/after.txt", "w") as f:
            f.write(b"after restart")
        names = sorted(o.name for o in alice.collections.get("/tempZone/home/alice").data_objects)
        assert names == ["after.txt"]
        ids = {
            alice.data_objects.get("/tempZone/home/alice/after.txt").id,
            alice.data_objects.get("/tempZone/home/alice/project/data.bin").id,
            alice.data_objects.get("/tempZone/home/alice/project/empty").id,
        }
        assert len(ids) == 3  # ids are not reused after a restart
