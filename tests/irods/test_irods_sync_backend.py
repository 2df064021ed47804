"""The iRODS backend passes the storage contract and its sync-client extensions, over the
local zone, with what iRODS itself records checked through python-irodsclient."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from davprovider.backend import DIGEST_ALGORITHMS, Identity, Quota
from davprovider.irods import IrodsBackend, Options, create_factory
from davprovider.irods.avus import sha2
from localgrid.irods import LocalZone
from tests.contract.backend_contract import BackendContract, put
from tests.contract.backend_sync_contract import DATA, TRUE, SyncContract, put_with_digests
from tests.helpers.irods_gateway import HOME, write_object


@pytest.fixture
def root(alice_prc: Any) -> str:
    """A fresh collection in alice's home: the backend's share root."""
    path = f"{HOME}/alice/c-{uuid.uuid4().hex[:10]}"
    alice_prc.collections.create(path)
    return path


@pytest.fixture
def backend(seeded_zone: LocalZone, root: str) -> Iterator[IrodsBackend]:
    factory = create_factory(Options(port=seeded_zone.port, root=root))
    try:
        yield factory(Identity("alice", "basic", password="alice"))
    finally:
        factory.close()


class TestIrodsContract(BackendContract):
    pass


class TestIrodsSync(SyncContract):
    pass


def test_set_mtime_is_the_data_object_modify_time(backend, alice_prc, root):
    put(backend, "/f", b"x")
    backend.set_mtime("/f", 1500000000.7)
    assert alice_prc.data_objects.get(f"{root}/f").modify_time == datetime.fromtimestamp(
        1500000000, UTC
    )


def test_upload_registers_the_catalog_checksum_and_keeps_other_digests_as_avus(
    backend, alice_prc, root
):
    put_with_digests(backend, "/f", DATA, dict(TRUE))
    obj = alice_prc.data_objects.get(f"{root}/f")
    assert obj.checksum == sha2(TRUE["sha-256"])
    avus = {a.name: (a.value, a.units) for a in obj.metadata.items()}
    assert avus["davprovider:digest:md5"] == (TRUE["md5"], obj.checksum)
    assert backend.digests("/f", backend.stat("/f"), DIGEST_ALGORITHMS) == TRUE


def test_upload_whose_bytes_differ_from_the_gateway_digest_is_refused(backend, alice_prc, root):
    put(backend, "/f", b"old")
    upload = backend.open_write("/f", size=len(DATA))
    upload.write(DATA)
    upload.set_digests({"sha-256": "0" * 64})
    with pytest.raises(OSError) as caught:
        upload.commit()
    assert caught.value.errno == 5
    assert [o.name for o in alice_prc.collections.get(root).data_objects] == ["f"]
    assert alice_prc.data_objects.get(f"{root}/f").size == 3


def test_digests_of_a_foreign_overwrite_are_not_reported(backend, alice_prc, root):
    put_with_digests(backend, "/f", DATA, dict(TRUE))
    write_object(alice_prc, f"{root}/f", b"rewritten by iput")  # no checksum registered
    entry = backend.stat("/f")
    assert backend.digests("/f", entry, DIGEST_ALGORITHMS) == {}
    assert backend.list_digests("/", backend.list("/"), DIGEST_ALGORITHMS) == {"f": {}}


def test_missing_catalog_checksum_is_computed_once_and_registered(backend, alice_prc, root):
    write_object(alice_prc, f"{root}/f", DATA)
    entry = backend.stat("/f")
    assert entry.checksum is None
    assert backend.digests("/f", entry, ["sha-256"]) == {}
    assert backend.digests("/f", entry, ["sha-256"], compute=True) == {"sha-256": TRUE["sha-256"]}
    assert alice_prc.data_objects.get(f"{root}/f").checksum == sha2(TRUE["sha-256"])


def test_copy_keeps_the_digests_and_move_too(backend):
    put_with_digests(backend, "/f", DATA, dict(TRUE))
    backend.copy("/f", "/g")
    backend.move("/g", "/h")
    assert backend.digests("/h", backend.stat("/h"), DIGEST_ALGORITHMS) == TRUE


def test_irods_without_a_quota_reports_no_figures(backend):
    assert backend.quota("/") == Quota()
