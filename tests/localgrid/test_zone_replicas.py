"""Resources, hierarchies and replicas: one GenQuery row per replica, staleness, trimming."""

from __future__ import annotations

import pytest
from irods import keywords as kw
from irods.exception import CAT_RESOURCE_NOT_EMPTY, DIRECT_CHILD_ACCESS
from irods.models import DataObject


@pytest.fixture
def resource(rods, unique):
    """A second unixfilesystem resource (its bytes stay in the zone's own folder)."""
    name = unique("resc")
    rods.resources.create(name, "unixfilesystem", "localhost", f"/tmp/{name}")
    yield name
    rods.resources.remove(name)


def _write(session, path: str, content: bytes, **options) -> None:
    with session.data_objects.open(path, "w", **options) as f:
        f.write(content)


def test_replicate_adds_a_good_replica_on_the_other_resource(rods, scratch, resource):
    path = f"{scratch}/twin"
    _write(rods, path, b"twin content")

    rods.data_objects.replicate(path, resource=resource)

    replicas = rods.data_objects.get(path).replicas
    assert [(r.number, r.resource_name, r.status) for r in replicas] == [
        (0, "demoResc", "1"), (1, resource, "1"),
    ]  # fmt: skip
    with rods.data_objects.open(path, "r", **{kw.RESC_NAME_KW: resource}) as f:
        assert f.read() == b"twin content"
    rods.data_objects.unlink(path, force=True)


def test_genquery_returns_one_row_per_replica(rods, scratch, resource):
    path = f"{scratch}/rows"
    _write(rods, path, b"x")
    rods.data_objects.replicate(path, resource=resource)

    rows = rods.query(DataObject.replica_number, DataObject.resource_name).filter(
        DataObject.name == "rows"
    )

    assert sorted((r[DataObject.replica_number], r[DataObject.resource_name]) for r in rows) == [
        (0, "demoResc"), (1, resource),
    ]  # fmt: skip
    rods.data_objects.unlink(path, force=True)


def test_write_to_one_replica_makes_the_other_stale(rods, scratch, resource):
    path = f"{scratch}/stale"
    _write(rods, path, b"first")
    rods.data_objects.replicate(path, resource=resource)

    _write(rods, path, b"second!", **{kw.DEST_RESC_NAME_KW: resource})

    by_resource = {r.resource_name: r for r in rods.data_objects.get(path).replicas}
    assert (by_resource["demoResc"].status, by_resource[resource].status) == ("0", "1")
    assert by_resource[resource].size == len(b"second!")
    rods.data_objects.unlink(path, force=True)


def test_checksum_is_kept_per_replica(rods, scratch, resource):
    path = f"{scratch}/summed"
    _write(rods, path, b"sum me")
    rods.data_objects.replicate(path, resource=resource)

    rods.data_objects.chksum(path, **{kw.RESC_NAME_KW: resource})

    sums = {r.resource_name: r.checksum for r in rods.data_objects.get(path).replicas}
    assert sums[resource].startswith("sha2:")
    assert not sums["demoResc"]
    rods.data_objects.unlink(path, force=True)


def test_trim_removes_the_named_replica(rods, scratch, resource):
    path = f"{scratch}/trimmed"
    _write(rods, path, b"trim")
    rods.data_objects.replicate(path, resource=resource)

    rods.data_objects.trim(path, **{kw.REPL_NUM_KW: "0", kw.COPIES_KW: 1})

    assert [r.resource_name for r in rods.data_objects.get(path).replicas] == [resource]
    rods.data_objects.unlink(path, force=True)


def test_resource_with_replicas_cannot_be_removed(rods, scratch, resource):
    path = f"{scratch}/pinned"
    _write(rods, path, b"pin", **{kw.DEST_RESC_NAME_KW: resource})

    with pytest.raises(CAT_RESOURCE_NOT_EMPTY):
        rods.resources.remove(resource)
    rods.data_objects.unlink(path, force=True)


def test_replication_resource_writes_every_child(rods, scratch, unique):
    root, leaves = unique("repl"), [unique("leaf"), unique("leaf")]
    rods.resources.create(root, "replication")
    for leaf in leaves:
        rods.resources.create(leaf, "unixfilesystem", "localhost", f"/tmp/{leaf}")
        rods.resources.add_child(root, leaf)
    path = f"{scratch}/mirrored"

    _write(rods, path, b"both", **{kw.DEST_RESC_NAME_KW: root})

    replicas = rods.data_objects.get(path).replicas
    assert sorted(r.resource_name for r in replicas) == sorted(leaves)
    assert {(r.status, r.size, r.resc_hier.split(";")[0]) for r in replicas} == {("1", 4, root)}
    rods.data_objects.unlink(path, force=True)
    for leaf in leaves:
        rods.resources.remove_child(root, leaf)
        rods.resources.remove(leaf)
    rods.resources.remove(root)


def test_opening_on_a_child_resource_is_refused(rods, scratch, unique):
    root, leaf = unique("pt"), unique("leaf")
    rods.resources.create(root, "passthru")
    rods.resources.create(leaf, "unixfilesystem", "localhost", f"/tmp/{leaf}")
    rods.resources.add_child(root, leaf)

    with pytest.raises(DIRECT_CHILD_ACCESS):
        rods.data_objects.open(f"{scratch}/direct", "w", **{kw.RESC_NAME_KW: leaf})
    rods.resources.remove_child(root, leaf)
    rods.resources.remove(leaf)
    rods.resources.remove(root)
