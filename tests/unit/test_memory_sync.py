"""The memory backend passes the sync-client extensions of the contract."""

from __future__ import annotations

import pytest

from davprovider.backend import DIGEST_ALGORITHMS
from davprovider.memory import MemoryBackend
from davprovider.memory.tree import Tree
from tests.contract.backend_sync_contract import DATA, TRUE, SyncContract, put


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend(Tree())


class TestMemorySync(SyncContract):
    pass


def test_memory_computes_every_digest_itself(backend):
    put(backend, "/f", DATA)
    assert backend.digests("/f", backend.stat("/f"), DIGEST_ALGORITHMS) == TRUE


def test_memory_has_no_quota(backend):
    with pytest.raises(NotImplementedError):
        backend.quota("/")


def test_read_only_memory_backend_cannot_set_times(backend):
    put(backend, "/f", b"x")
    with pytest.raises(PermissionError):
        MemoryBackend(backend._tree, read_only=True).set_mtime("/f", 1)
