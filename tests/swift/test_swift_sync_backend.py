"""The Swift backend passes the sync-client extensions of the storage contract, against
the real Swift; what Swift itself stores is checked through swiftclient."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from davprovider.backend import DIGEST_ALGORITHMS
from davprovider.swift.entries import mtime_text, split_mtime, with_mtime
from tests.contract.backend_contract import put, read
from tests.contract.backend_sync_contract import DATA, TRUE, SyncContract, put_with_digests
from tests.helpers.swift_helpers import MiB, as_tester, count_requests


class TestSwiftSync(SyncContract):
    """Share root = one fresh container per test."""


def test_mtime_text_is_rclones_format_and_reads_back_exactly():
    assert mtime_text(1500000000) == "1500000000.000000000"
    assert mtime_text(1500000000.7) == "1500000000.700000000"
    assert float(mtime_text(1700000000.123456)) == 1700000000.123456
    assert split_mtime(with_mtime("text/plain; charset=utf-8", 1.5)) == (
        "text/plain;charset=utf-8",
        1.5,
    )
    assert split_mtime("application/octet-stream") == ("application/octet-stream", None)


def test_a_listing_reports_set_mtimes_with_one_container_request(backend, swift_conn, container):
    for i in range(5):
        put(backend, f"/f{i}", b"x")
        backend.set_mtime(f"/f{i}", 1500000000 + i)
    head = swift_conn.head_object(container, "f3")
    assert head["x-object-meta-mtime"] == "1500000003.000000000"
    calls = count_requests(backend.conn)
    entries = backend.list("/")
    assert [e.modified for e in entries] == [1500000000 + i for i in range(5)]
    assert all(e.content_type == "application/octet-stream" for e in entries)
    assert dict(calls) == {"get_container": 1}


def test_set_mtime_of_an_object_costs_a_head_and_a_post(backend):
    put(backend, "/f", b"x")
    calls = count_requests(backend.conn)
    backend.set_mtime("/f", 1500000000)
    assert dict(calls) == {"head_object": 1, "post_object": 1}


def test_set_mtime_keeps_headers_that_a_post_would_drop(backend, swift_conn, container):
    swift_conn.put_object(
        container, "f", b"x", content_type="text/csv",
        headers={"Content-Disposition": "inline", "X-Object-Meta-Owner": "lab"},
    )  # fmt: skip
    backend.set_mtime("/f", 1400000000)
    head = swift_conn.head_object(container, "f")
    assert head["content-disposition"] == "inline" and head["x-object-meta-owner"] == "lab"
    assert head["content-type"].startswith("text/csv;")
    assert backend.stat("/f").content_type == "text/csv"


def test_a_container_has_no_settable_mtime(account, swift_conn, container):
    with pytest.raises(NotImplementedError):
        account.set_mtime(f"/{container}", 1500000000)


def test_set_mtime_of_a_folder_without_marker_creates_one(backend, swift_conn, container):
    swift_conn.put_object(container, "implicit/f", b"x")
    backend.set_mtime("/implicit", 1300000000)
    assert backend.stat("/implicit").modified == 1300000000
    assert backend.stat("/implicit").is_dir


def test_a_large_object_keeps_the_upload_digests(make_factory, swift_conn, container):
    backend = make_factory(container=container, segment_size=MiB)(as_tester())
    body = os.urandom(2 * MiB + 1)
    digests = {"md5": hashlib.md5(body).hexdigest(), "sha-256": hashlib.sha256(body).hexdigest()}
    put_with_digests(backend, "/big", body, digests)
    entry = backend.stat("/big")
    # the ETag of an SLO is not an MD5 of its content: the listing row carries it
    assert entry.checksum == f"md5:{digests['md5']}" and entry.etag != digests["md5"]
    assert backend.digests("/big", entry, DIGEST_ALGORITHMS) == digests
    listed = backend.list_digests("/", backend.list("/"), DIGEST_ALGORITHMS)
    assert listed == {"big": {"md5": digests["md5"]}}
    put(backend, "/big", body[::-1])  # an overwrite drops them
    assert backend.digests("/big", backend.stat("/big"), ["sha-256"]) == {}


def test_stored_digests_need_one_head_and_md5_is_never_stored(backend, swift_conn, container):
    put(backend, "/f", DATA)
    backend.store_digests("/f", dict(TRUE))
    head = swift_conn.head_object(container, "f")
    assert "x-object-meta-digest-md5" not in head
    assert head["x-object-meta-digest-sha-256"] == TRUE["sha-256"]
    entry = backend.stat("/f")
    calls = count_requests(backend.conn)
    assert backend.digests("/f", entry, ["md5"]) == {"md5": TRUE["md5"]}
    assert not calls
    assert backend.digests("/f", entry, DIGEST_ALGORITHMS) == TRUE
    assert dict(calls) == {"head_object": 1}
    assert backend.stat("/f").modified == entry.modified  # the POST kept the mtime


def test_an_upload_whose_bytes_differ_from_the_gateway_md5_is_refused(backend):
    put(backend, "/f", b"old")
    upload = backend.open_write("/f", size=len(DATA))
    upload.write(DATA)
    upload.set_digests({"md5": hashlib.md5(b"something else").hexdigest()})
    with pytest.raises(OSError) as caught:
        upload.commit()
    assert caught.value.errno == errno.EIO
    assert read(backend, "/f") == b"old"


def test_quota_without_quotas_is_the_accounts_bytes_used(backend, swift_conn):
    quota = backend.quota("/")
    assert quota is not None and quota.available is None
    assert quota.used == int(swift_conn.head_account()["x-account-bytes-used"])
