"""Quotas: stored, answered through GenQuery (2000-2004), enforced on writes."""

from __future__ import annotations

import pytest
from irods.exception import SYS_RESC_QUOTA_EXCEEDED
from irods.models import Quota


def test_group_quota_usage_is_reported_after_calculation(rods, alice, login, unique):
    group = rods.groups.create(unique("quota"))
    group.addmember(alice.name)
    group.set_quota(10000)
    with login(alice).data_objects.open(f"{alice.home}/some.bin", "w") as f:
        f.write(b"_" * 1400)

    rods.groups.calculate_usage()

    rows = list(rods.query(Quota).filter(Quota.user_id == group.id))
    assert [(r[Quota.limit], r[Quota.over]) for r in rows] == [(10000, 1400 - 10000)]


def test_write_beyond_group_quota_is_refused(rods, alice, login, unique):
    group = rods.groups.create(unique("tight"))
    group.addmember(alice.name)
    group.set_quota(1000)
    session = login(alice)

    with (
        pytest.raises(SYS_RESC_QUOTA_EXCEEDED),
        session.data_objects.open(f"{alice.home}/big.bin", "w") as f,
    ):
        f.write(b"x" * 5000)


def test_removed_quota_no_longer_limits(rods, alice, login, unique):
    group = rods.groups.create(unique("lifted"))
    group.addmember(alice.name)
    group.set_quota(10)
    group.set_quota(0)

    with login(alice).data_objects.open(f"{alice.home}/free.bin", "w") as f:
        f.write(b"y" * 100)

    assert login(alice).data_objects.get(f"{alice.home}/free.bin").size == 100


def test_rewriting_an_object_counts_only_its_growth(rods, alice, login, unique):
    group = rods.groups.create(unique("rewrite"))
    group.addmember(alice.name)
    session = login(alice)
    path = f"{alice.home}/steady.bin"
    with session.data_objects.open(path, "w") as f:
        f.write(b"z" * 600)
    group.set_quota(1000)

    with session.data_objects.open(path, "a") as f:
        f.write(b"z" * 300)

    assert session.data_objects.get(path).size == 900
