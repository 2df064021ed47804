"""The gateway over multi-replica objects and zone quotas: a listing shows each object
once, with the size, time and checksum of its good replica; a write over a quota is 507."""

from __future__ import annotations

import uuid

import pytest
from irods import keywords as kw
from irods.access import iRODSAccess

from tests.helpers.davxml import NAMED, propstats


@pytest.fixture
def second_resource(rods):
    name = f"resc{uuid.uuid4().hex[:8]}"
    rods.resources.create(name, "unixfilesystem", "localhost", f"/tmp/{name}")
    yield name
    try:
        rods.resources.remove(name)
    except Exception:  # noqa: BLE001 - a test that failed half-way may leave a replica
        pass


def _write(session, path: str, content: bytes, **options) -> None:
    with session.data_objects.open(path, "w", **options) as f:
        f.write(content)


def test_a_listing_shows_a_multi_replica_object_once_with_its_good_replica(
    gw, workdir, rods, irods_path, second_resource
):
    path = irods_path(workdir + "twin.txt")
    _write(rods, path, b"first")
    rods.data_objects.replicate(path, resource=second_resource)
    _write(rods, path, b"second, longer", **{kw.DEST_RESC_NAME_KW: second_resource})
    rods.acls.set(iRODSAccess("own", path, "alice"))
    try:
        listing = gw.request("PROPFIND", workdir, NAMED, headers={"Depth": "1"})
        assert listing.status == 207
        members = {href: props for href, props in propstats(listing.body).items() if "twin" in href}
        assert len(members) == 1, members
        (props,) = members.values()
        assert props["{DAV:}getcontentlength"] == str(len(b"second, longer"))
        assert gw.get(workdir + "twin.txt").body == b"second, longer"
    finally:
        rods.data_objects.unlink(path, force=True)


def test_a_write_over_a_group_quota_is_507_and_keeps_the_old_content(gw, workdir, rods):
    path = workdir + "quota.bin"
    assert gw.put(path, b"old").status == 201
    group = rods.groups.create(f"tight{uuid.uuid4().hex[:8]}")
    group.addmember("alice")
    group.set_quota(1024)
    try:
        reply = gw.put(path, b"x" * 8192)
        assert reply.status == 507, (reply.status, reply.body)
        assert gw.get(path).body == b"old"
    finally:
        group.set_quota(0)
        group.removemember("alice")
        group.remove()


def test_a_group_quota_is_reported_as_rfc_4331_quota(gw, workdir, rods):
    assert gw.put(workdir + "counted.bin", b"q" * 3000).status == 201
    group = rods.groups.create(f"quota{uuid.uuid4().hex[:8]}")
    group.addmember("alice")
    group.set_quota(1 << 20)
    rods.groups.calculate_usage()
    body = (
        b'<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/>'
        b"<D:quota-available-bytes/></D:prop></D:propfind>"
    )
    try:
        reply = gw.request("PROPFIND", workdir, body, headers={"Depth": "0"})
        props = next(iter(propstats(reply.body).values()))
        used = int(props["{DAV:}quota-used-bytes"])
        assert used >= 3000
        assert int(props["{DAV:}quota-available-bytes"]) == (1 << 20) - used
    finally:
        group.set_quota(0)
        group.removemember("alice")
        group.remove()
