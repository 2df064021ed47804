"""The sync-client extensions of the storage contract as a test suite.

Subclass ``SyncContract`` with a ``backend`` fixture returning an empty, writable
backend (see tests/unit/test_memory_sync.py; the iRODS backend runs it in
tests/irods/test_irods_sync_backend.py). A backend that keeps the contract's
default ``set_mtime`` (``NotImplementedError``) skips the mtime tests.
"""

from __future__ import annotations

import hashlib
import zlib

import pytest

from davprovider.backend import DIGEST_ALGORITHMS, Backend, Quota
from tests.contract.backend_contract import put, read

DATA = b"sync me " * 5000
TRUE = {
    "md5": hashlib.md5(DATA).hexdigest(),
    "sha1": hashlib.sha1(DATA).hexdigest(),
    "sha-256": hashlib.sha256(DATA).hexdigest(),
    "sha-512": hashlib.sha512(DATA).hexdigest(),
    "adler32": f"{zlib.adler32(DATA):08x}",
}


def put_with_digests(backend: Backend, path: str, data: bytes, digests: dict[str, str]) -> None:
    upload = backend.open_write(path, size=len(data))
    upload.write(data)
    try:
        upload.set_digests(digests)
    except NotImplementedError:
        pass  # optional: such a backend knows its digests by its own means
    upload.commit()


def set_mtime_or_skip(backend: Backend, path: str, mtime: float) -> None:
    try:
        backend.set_mtime(path, mtime)
    except NotImplementedError:
        pytest.skip("backend keeps the default set_mtime")


class SyncContract:
    def test_set_mtime_shows_in_stat_and_in_the_listing(self, backend):
        put(backend, "/f", b"x")
        set_mtime_or_skip(backend, "/f", 1500000000)
        assert backend.stat("/f").modified == 1500000000
        (entry,) = backend.list("/")
        assert entry.modified == 1500000000

    def test_set_mtime_keeps_content_and_dead_properties(self, backend):
        put(backend, "/f", b"content")
        backend.set_meta("/f", {"{urn:z}k": "v"})
        set_mtime_or_skip(backend, "/f", 1400000000.0)
        assert read(backend, "/f") == b"content"
        assert backend.get_meta("/f") == {"{urn:z}k": "v"}

    def test_set_mtime_of_a_collection_shows_in_its_stat(self, backend):
        backend.mkdir("/d")
        set_mtime_or_skip(backend, "/d", 1300000000)
        assert backend.stat("/d").modified == 1300000000

    def test_set_mtime_of_a_missing_path_is_file_not_found(self, backend):
        with pytest.raises((FileNotFoundError, NotImplementedError)):
            backend.set_mtime("/missing", 1300000000)

    def test_digests_handed_to_the_upload_are_known_and_true(self, backend):
        put_with_digests(backend, "/f", DATA, dict(TRUE))
        entry = backend.stat("/f")
        known = backend.digests("/f", entry, DIGEST_ALGORITHMS)
        assert known and all(TRUE[a] == v for a, v in known.items())
        listed = backend.list_digests("/", backend.list("/"), DIGEST_ALGORITHMS)
        # a listing may know fewer (Swift's carries the ETag's MD5 only), never others
        assert listed["f"] and listed["f"].items() <= known.items()

    def test_digests_answer_only_the_algorithms_asked(self, backend):
        put_with_digests(backend, "/f", DATA, dict(TRUE))
        entry = backend.stat("/f")
        assert set(backend.digests("/f", entry, ["md5"])) <= {"md5"}
        assert set(backend.list_digests("/", [entry], ["adler32"])["f"]) <= {"adler32"}

    def test_digests_of_new_content_are_never_the_old_ones(self, backend):
        put_with_digests(backend, "/f", b"old", {"md5": hashlib.md5(b"old").hexdigest()})
        put(backend, "/f", DATA)
        entry = backend.stat("/f")
        for found in (
            backend.digests("/f", entry, DIGEST_ALGORITHMS, compute=True),
            backend.list_digests("/", backend.list("/"), DIGEST_ALGORITHMS)["f"],
        ):
            assert all(TRUE[a] == v for a, v in found.items()), found

    def test_stored_digests_are_remembered_for_that_content(self, backend):
        put(backend, "/f", DATA)
        try:
            backend.store_digests("/f", dict(TRUE))
        except NotImplementedError:
            pass  # optional: such a backend knows its digests by its own means
        entry = backend.stat("/f")
        known = backend.digests("/f", entry, DIGEST_ALGORITHMS, compute=True)
        assert all(TRUE[a] == v for a, v in known.items())

    def test_list_digests_skips_collections(self, backend):
        backend.mkdir("/d")
        put(backend, "/f", DATA)
        listed = backend.list_digests("/", backend.list("/"), DIGEST_ALGORITHMS)
        assert "d" not in listed

    def test_quota_is_figures_or_not_supported(self, backend):
        try:
            quota = backend.quota("/")
        except NotImplementedError:
            return  # optional: the properties are then omitted
        assert isinstance(quota, Quota)
