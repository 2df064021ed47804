"""Sync clients on the swift share: modification times (X-OC-Mtime, PROPPATCH), checksum
dialects from Swift's MD5, the Windows and Finder request sequences, and RFC 4331 quota,
checked over HTTP and in Swift itself."""

from __future__ import annotations

import base64
import hashlib
import os
from email.utils import parsedate_to_datetime

from tests.helpers.client_sequences import (
    CHECKSUMS,
    WIN32_PATCH,
    finder_copy,
    getlastmodified_proppatch,
    oc_checksum_text,
    rclone_proppatch,
    windows_copy,
)
from tests.helpers.davxml import propstats
from tests.helpers.gateway import Gateway
from tests.helpers.swift_gateway import connect, container_of
from tests.helpers.swift_helpers import MiB

DATA = bytes(range(256)) * 1200  # 307200 bytes
MD5 = hashlib.md5(DATA).hexdigest()
MODIFIED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:getcontenttype/></D:prop></D:propfind>"""
QUOTA = b"""<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>
<D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"""
WINDOWS_TIME = "Thu, 28 Feb 2008 19:15:10 GMT"


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def seconds(stamp: str) -> float:
    return parsedate_to_datetime(stamp).timestamp()


def listed(gw: Gateway, folder: str) -> dict[str, dict[str, str]]:
    reply = gw.request("PROPFIND", folder, MODIFIED, headers={"Depth": "1"})
    assert reply.status == 207
    return propstats(reply.body)


# --- modification times -------------------------------------------------------------------


def test_put_with_x_oc_mtime_is_listed_at_depth_1_and_kept_as_rclone_metadata(gw, box, alice):
    reply = gw.put(box + "a.txt", b"abc", headers={"X-OC-Mtime": "1500000000.25"})
    assert (reply.status, reply.header("X-OC-Mtime")) == (201, "accepted")
    props = listed(gw, box)[box + "a.txt"]
    assert seconds(props["{DAV:}getlastmodified"]) == 1500000000
    assert props["{DAV:}getcontenttype"] == "text/plain"  # the mtime parameter stays inside
    head = alice.head_object(container_of(box), "a.txt")
    assert head["x-object-meta-mtime"] == "1500000000.250000000"
    get = gw.get(box + "a.txt")
    assert seconds(get.header("Last-Modified")) == 1500000000
    assert get.header("Content-Type") == "text/plain" and get.body == b"abc"


def test_x_oc_mtime_travels_with_a_large_object_s_manifest(gw, box, alice):
    """Above the spool (4 MiB) a body that keeps digests is a one-segment SLO: the
    pinned mtime goes with its manifest, beside the digests (no POST afterwards)."""
    body = os.urandom((4 << 20) + 1000)
    reply = gw.put(box + "big.bin", body, headers={"X-OC-Mtime": "1500000000"})
    assert (reply.status, reply.header("X-OC-Mtime")) == (201, "accepted")
    head = alice.head_object(container_of(box), "big.bin")
    assert "x-static-large-object" in head
    assert head["x-object-meta-mtime"] == "1500000000.000000000"
    props = listed(gw, box)[box + "big.bin"]
    assert seconds(props["{DAV:}getlastmodified"]) == 1500000000
    assert props["{DAV:}getcontenttype"] == "application/octet-stream"
    assert gw.get(box + "big.bin").body == body


def test_proppatch_of_rclone_lastmodified_and_of_getlastmodified(gw, box, alice):
    gw.put(box + "a.bin", DATA)
    reply = gw.request("PROPPATCH", box + "a.bin", rclone_proppatch(1600000000, "MD5:" + MD5))
    assert reply.status == 207 and b"200 OK" in reply.body and b"403" not in reply.body
    assert seconds(listed(gw, box)[box + "a.bin"]["{DAV:}getlastmodified"]) == 1600000000
    patch = getlastmodified_proppatch("Wed, 27 Sep 2017 14:28:34 GMT")
    assert gw.request("PROPPATCH", box + "a.bin", patch).status == 207
    assert seconds(gw.request("HEAD", box + "a.bin").header("Last-Modified")) == 1506522514
    assert alice.head_object(container_of(box), "a.bin")["x-object-meta-mtime"].startswith(
        "1506522514."
    )


def test_dead_property_changes_keep_the_mtime_and_other_headers(gw, box, alice):
    gw.put(box + "a.bin", b"x", headers={"X-OC-Mtime": "1500000000"})
    alice.post_object(  # Swift's POST replaces these: the gateway must re-send them
        container_of(box), "a.bin",
        {"Content-Disposition": "attachment", "X-Object-Meta-Mtime": "1500000000"},
    )  # fmt: skip
    patch = b"""<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">
    <D:set><D:prop><Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"""
    assert gw.request("PROPPATCH", box + "a.bin", patch).status == 207
    assert seconds(listed(gw, box)[box + "a.bin"]["{DAV:}getlastmodified"]) == 1500000000
    head = alice.head_object(container_of(box), "a.bin")
    assert head["content-disposition"] == "attachment"


def test_folder_mtime_shows_at_depth_0_and_a_container_keeps_win32_as_a_property(gw, box):
    assert gw.request("MKCOL", box + "d/").status == 201
    assert gw.request("PROPPATCH", box + "d/", rclone_proppatch(1234567890)).status == 207
    reply = gw.request("PROPFIND", box + "d/", MODIFIED, headers={"Depth": "0"})
    assert seconds(propstats(reply.body)[box + "d/"]["{DAV:}getlastmodified"]) == 1234567890
    win32 = gw.request("PROPPATCH", box, WIN32_PATCH)
    assert win32.status == 207 and b"200 OK" in win32.body
    refused = gw.request("PROPPATCH", box, getlastmodified_proppatch(WINDOWS_TIME))
    assert b"403 Forbidden" in refused.body


def test_copy_gets_a_new_mtime_and_move_keeps_it(gw, box):
    gw.put(box + "a.bin", b"x", headers={"X-OC-Mtime": "1500000000"})
    assert gw.request("COPY", box + "a.bin", headers={"Destination": box + "b.bin"}).status == 201
    assert gw.request("MOVE", box + "a.bin", headers={"Destination": box + "c.bin"}).status == 201
    times = {h: seconds(p["{DAV:}getlastmodified"]) for h, p in listed(gw, box).items() if p}
    assert times[box + "c.bin"] == 1500000000 and times[box + "b.bin"] > 1600000000


# --- checksums ----------------------------------------------------------------------------


def test_want_digest_md5_and_oc_checksums_come_from_swifts_etag(gw, box):
    gw.put(box + "a.bin", DATA)
    reply = gw.request("HEAD", box + "a.bin", headers={"Want-Digest": "md5"})
    assert reply.header("Digest") == f"md5={b64(MD5)}"
    listing = gw.request("PROPFIND", box, CHECKSUMS, headers={"Depth": "1"})
    assert oc_checksum_text(listing.body, box + "a.bin") == f"MD5:{MD5}"
    sha = gw.request("GET", box + "a.bin", headers={"Want-Repr-Digest": "sha-256=5"})
    assert sha.header("Repr-Digest") == f"sha-256=:{b64(hashlib.sha256(DATA).hexdigest())}:"


def test_a_large_object_reports_the_md5_of_its_content_not_its_etag(gw, box, alice):
    body = os.urandom(2 * MiB + 5)
    assert gw.put(box + "big.bin", body).status == 201
    head = alice.head_object(container_of(box), "big.bin")
    assert head["x-static-large-object"] == "True"
    md5 = hashlib.md5(body).hexdigest()
    assert head["etag"].strip('"') != md5
    reply = gw.request("HEAD", box + "big.bin", headers={"Want-Digest": "md5"})
    assert reply.header("Digest") == f"md5={b64(md5)}"  # kept by the upload
    listing = gw.request("PROPFIND", box, CHECKSUMS, headers={"Depth": "1"})
    # from its listing row (``dav_md5``), no HEAD per child; the type shows no parameter
    assert oc_checksum_text(listing.body, box + "big.bin") == f"MD5:{md5}"
    assert "dav_md5" not in (gw.request("HEAD", box + "big.bin").header("Content-Type") or "")


# --- desktop clients ----------------------------------------------------------------------


def test_windows_copy_keeps_the_explorer_mtime_as_object_metadata(gw, box, alice):
    seen = windows_copy(gw, box, "report.docx", DATA, WINDOWS_TIME)

    assert seen == {
        "propfind": 404, "create": 201, "lock": 200, "proppatch": 207, "head": 200,
        "put": 204, "proppatch2": 207, "unlock": 204,
    }  # fmt: skip
    assert gw.get(box + "report.docx").body == DATA
    props = listed(gw, box)[box + "report.docx"]
    assert seconds(props["{DAV:}getlastmodified"]) == seconds(WINDOWS_TIME)
    head = alice.head_object(container_of(box), "report.docx")
    assert head["x-object-meta-mtime"] == "1204226110.000000000"
    reply = gw.request("PROPFIND", box + "report.docx", headers={"Depth": "0"})
    stored = propstats(reply.body)[box + "report.docx"]
    assert stored["{urn:schemas-microsoft-com:}Win32FileAttributes"] == "00000020"


def test_finder_copy_stores_the_object_and_its_side_files_in_the_container(gw, box, alice):
    assert gw.request("MKCOL", box + "mac/").status == 201

    seen = finder_copy(gw, box + "mac/", "photo.jpg", DATA)

    assert seen == {
        "propfind": 404, "propfind_twin": 404, "create": 201, "lock": 200, "put": 204,
        "put_twin": 201, "unlock": 204, "ds_store": 201, "listing": 207,
    }  # fmt: skip
    assert gw.get(box + "mac/photo.jpg").body == DATA
    _, rows = alice.get_container(container_of(box), prefix="mac/")
    assert sorted(r["name"] for r in rows) == [
        "mac/",
        "mac/.DS_Store",
        "mac/._photo.jpg",
        "mac/photo.jpg",
    ]


# --- quota --------------------------------------------------------------------------------


def quota(gw: Gateway, path: str) -> dict[str, str]:
    reply = gw.request("PROPFIND", path, QUOTA, headers={"Depth": "0"})
    assert reply.status == 207
    return next(iter(propstats(reply.body).values()))


def test_quota_used_is_the_accounts_and_available_is_omitted_without_a_quota(gw, box, alice):
    found = quota(gw, box)
    assert found == {"{DAV:}quota-used-bytes": alice.head_account()["x-account-bytes-used"]}


def test_quota_of_a_container_with_a_quota(gw, box, alice):
    gw.put(box + "a.bin", DATA)
    alice.post_container(container_of(box), {"X-Container-Meta-Quota-Bytes": "1000000"})
    found = quota(gw, box)  # a collection: files report no quota
    assert found["{DAV:}quota-used-bytes"] == str(len(DATA))
    assert found["{DAV:}quota-available-bytes"] == str(1000000 - len(DATA))


def test_quota_set_by_the_reseller_admin_on_the_account(gw, box, alice, swift_store):
    url = alice.get_auth()[0]
    admin = connect(swift_store, ("admin", "admin"), os_options={"object_storage_url": url})
    admin.post_account({"X-Account-Meta-Quota-Bytes": str(50 * MiB)})
    try:
        used = int(alice.head_account()["x-account-bytes-used"])
        found = quota(gw, "/swift/")
        assert found["{DAV:}quota-available-bytes"] == str(50 * MiB - used)
        assert found["{DAV:}quota-used-bytes"] == str(used)
    finally:
        admin.post_account({"X-Remove-Account-Meta-Quota-Bytes": "x"})
        admin.close()
