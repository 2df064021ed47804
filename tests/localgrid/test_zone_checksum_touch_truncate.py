"""Data objects: checksum (sha2, stored in the catalog), touch and truncate."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from tests.helpers.prc_io import read_object, write_object


def _sha2(data: bytes) -> str:
    return "sha2:" + base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- checksum --------------------------------------------------------------------------------


def test_chksum_returns_sha256_and_stores_it(rods, scratch):
    data = b"checksum me\n" * 1000
    write_object(rods, f"{scratch}/sum", data)

    checksum = rods.data_objects.get(f"{scratch}/sum").chksum()

    assert checksum == _sha2(data)
    obj = rods.data_objects.get(f"{scratch}/sum")
    assert obj.checksum == _sha2(data)
    assert obj.replicas[0].checksum == _sha2(data)


def test_chksum_of_empty_object(rods, scratch):
    obj = rods.data_objects.create(f"{scratch}/empty")

    assert obj.chksum() == _sha2(b"")


def test_chksum_after_rewrite_reflects_new_content(rods, scratch):
    write_object(rods, f"{scratch}/sum", b"version one")
    rods.data_objects.chksum(f"{scratch}/sum")

    write_object(rods, f"{scratch}/sum", b"version two")

    # A write clears the stored checksum; computing it again gives the new content's.
    assert not rods.data_objects.get(f"{scratch}/sum").checksum
    assert rods.data_objects.chksum(f"{scratch}/sum") == _sha2(b"version two")


# --- touch / truncate (optional APIs in the issue: "truncate and touch if cheap") -----------


def test_touch_missing_path_creates_empty_object(rods, scratch):
    rods.data_objects.touch(f"{scratch}/touched")

    assert rods.data_objects.get(f"{scratch}/touched").size == 0


def test_touch_sets_modify_time(rods, scratch):
    write_object(rods, f"{scratch}/old", b"keep")

    rods.data_objects.touch(f"{scratch}/old", seconds_since_epoch=1_500_000_000)

    obj = rods.data_objects.get(f"{scratch}/old")
    assert obj.modify_time == datetime.fromtimestamp(1_500_000_000, UTC)
    assert read_object(rods, f"{scratch}/old") == b"keep"


def test_touch_with_no_create_leaves_missing_path_missing(rods, scratch):
    rods.data_objects.touch(f"{scratch}/not-created", no_create=True)

    assert not rods.data_objects.exists(f"{scratch}/not-created")


def test_truncate_shortens_object(rods, scratch):
    write_object(rods, f"{scratch}/long", b"0123456789")

    rods.data_objects.truncate(f"{scratch}/long", 4)

    assert read_object(rods, f"{scratch}/long") == b"0123"
    assert rods.data_objects.get(f"{scratch}/long").size == 4


def test_replica_truncate_shortens_object_and_answers_json(rods, scratch):
    write_object(rods, f"{scratch}/long", b"0123456789")

    reply = rods.data_objects.replica_truncate(f"{scratch}/long", 3)

    assert isinstance(reply, dict)
    assert read_object(rods, f"{scratch}/long") == b"012"
    assert rods.data_objects.get(f"{scratch}/long").size == 3
