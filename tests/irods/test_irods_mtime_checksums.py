"""Modification times and checksum dialects on the iRODS share, checked in the catalog.

Each test works in its own collection under alice's home (``workdir``), as alice.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tests.helpers.client_sequences import (
    CHECKSUMS,
    OC,
    getlastmodified_proppatch,
    oc_checksum_text,
    rclone_proppatch,
)
from tests.helpers.davxml import hrefs
from tests.helpers.irods_gateway import read_object, write_object

DATA = bytes(range(256)) * 2000  # 512000 bytes
MD5 = hashlib.md5(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
ADLER32 = f"{zlib.adler32(DATA):08x}"
SHA2 = "sha2:" + base64.b64encode(bytes.fromhex(SHA256)).decode()


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def modify_time(rods, path: str) -> float:
    return rods.data_objects.get(path).modify_time.replace(tzinfo=UTC).timestamp()


def http_mtime(gw, path: str) -> float:
    return parsedate_to_datetime(gw.request("HEAD", path).header("Last-Modified")).timestamp()


# --- modification times -------------------------------------------------------------------


def test_put_with_x_oc_mtime_sets_the_data_object_modify_time(gw, workdir, rods, irods_path):
    reply = gw.put(workdir + "a.bin", DATA, headers={"X-OC-Mtime": "1500000000"})
    assert reply.status == 201
    assert reply.header("X-OC-Mtime") == "accepted"
    assert modify_time(rods, irods_path(workdir + "a.bin")) == 1500000000
    assert http_mtime(gw, workdir + "a.bin") == 1500000000
    listed = hrefs(gw.request("PROPFIND", workdir, headers={"Depth": "1"}).body)
    stamp = listed[workdir + "a.bin"]["{DAV:}getlastmodified"]
    assert parsedate_to_datetime(stamp).timestamp() == 1500000000


def test_overwrite_with_x_oc_mtime_is_accepted_too(gw, workdir, rods, irods_path):
    gw.put(workdir + "a.bin", b"old", headers={"X-OC-Mtime": "1400000000"})
    reply = gw.put(workdir + "a.bin", DATA, headers={"X-OC-Mtime": "1500000001"})
    assert reply.status == 204 and reply.header("X-OC-Mtime") == "accepted"
    assert modify_time(rods, irods_path(workdir + "a.bin")) == 1500000001
    assert read_object(rods, irods_path(workdir + "a.bin")) == DATA


def test_proppatch_of_rclone_lastmodified_sets_the_modify_time(gw, workdir, rods, irods_path):
    gw.put(workdir + "a.bin", DATA)
    reply = gw.request("PROPPATCH", workdir + "a.bin", rclone_proppatch(1600000000, "SHA1:" + SHA1))
    assert reply.status == 207 and b"403" not in reply.body and b"200 OK" in reply.body
    assert modify_time(rods, irods_path(workdir + "a.bin")) == 1600000000


def test_proppatch_of_getlastmodified_and_of_a_collection(gw, workdir, rods, irods_path):
    gw.put(workdir + "a.bin", DATA)
    stamp = "Wed, 27 Sep 2017 14:28:34 GMT"
    assert (
        gw.request("PROPPATCH", workdir + "a.bin", getlastmodified_proppatch(stamp)).status == 207
    )
    assert http_mtime(gw, workdir + "a.bin") == 1506522514
    gw.request("MKCOL", workdir + "d/")
    assert gw.request("PROPPATCH", workdir + "d/", rclone_proppatch(1234567890)).status == 207
    coll = rods.collections.get(irods_path(workdir + "d/"))
    assert coll.modify_time.replace(tzinfo=UTC) == datetime.fromtimestamp(1234567890, UTC)


def test_x_oc_mtime_on_move_sets_the_destination(gw, workdir, rods, irods_path):
    gw.put(workdir + "a.bin", DATA)
    headers = {"Destination": workdir + "b.bin", "X-OC-Mtime": "1300000000"}
    reply = gw.request("MOVE", workdir + "a.bin", headers=headers)
    assert reply.status == 201 and reply.header("X-OC-Mtime") == "accepted"
    assert modify_time(rods, irods_path(workdir + "b.bin")) == 1300000000


# --- checksums ----------------------------------------------------------------------------


def test_upload_registers_the_catalog_checksum_and_lists_every_digest(
    gw, workdir, rods, irods_path
):
    gw.put(workdir + "a.bin", DATA)
    assert rods.data_objects.get(irods_path(workdir + "a.bin")).checksum == SHA2
    reply = gw.request("PROPFIND", workdir, CHECKSUMS, headers={"Depth": "1"})
    text = oc_checksum_text(reply.body, workdir + "a.bin")
    assert text == f"SHA1:{SHA1} MD5:{MD5} ADLER32:{ADLER32} SHA256:{SHA256}"
    dcache = hrefs(reply.body)[workdir + "a.bin"]["{http://www.dcache.org/2013/webdav}Checksums"]
    assert dcache.startswith(f"adler32={ADLER32},md5={b64(MD5)},")


def test_object_written_without_checksum_gets_it_computed_once_and_registered(
    gw, workdir, rods, alice_prc, irods_path
):
    path = irods_path(workdir) + "/foreign.bin"
    write_object(alice_prc, path, DATA)
    assert not rods.data_objects.get(path).checksum
    listing = gw.request("PROPFIND", workdir, CHECKSUMS, headers={"Depth": "1"})
    assert f"{OC}checksums" not in hrefs(listing.body)[workdir + "foreign.bin"]  # not computed

    reply = gw.request("HEAD", workdir + "foreign.bin", headers={"Want-Digest": "md5,sha-256"})

    # iRODS registers SHA-256 (chksum): one asked digest known, nothing is read back
    assert reply.header("Digest") == f"sha-256={b64(SHA256)}"
    assert rods.data_objects.get(path).checksum == SHA2  # registered by iRODS chksum
    reply = gw.request("HEAD", workdir + "foreign.bin", headers={"Want-Digest": "md5"})
    assert reply.header("Digest") == f"md5={b64(MD5)}"  # none known: read back, then kept
    listing = gw.request("PROPFIND", workdir, CHECKSUMS, headers={"Depth": "1"})
    assert f"MD5:{MD5}" in oc_checksum_text(listing.body, workdir + "foreign.bin")


def test_overwrite_by_another_client_hides_the_stale_digests(gw, workdir, alice_prc, irods_path):
    gw.put(workdir + "a.bin", DATA)
    write_object(alice_prc, irods_path(workdir + "a.bin"), b"changed outside the gateway")
    listing = gw.request("PROPFIND", workdir, CHECKSUMS, headers={"Depth": "1"})
    assert f"{OC}checksums" not in hrefs(listing.body)[workdir + "a.bin"]
    reply = gw.request("HEAD", workdir + "a.bin", headers={"Want-Digest": "md5"})
    assert reply.header("Digest") == "md5=" + b64(
        hashlib.md5(b"changed outside the gateway").hexdigest()
    )


def test_quota_is_omitted_not_zero(gw, workdir):
    body = b"""<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>
    <D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"""
    reply = gw.request("PROPFIND", workdir, body, headers={"Depth": "0"})
    assert reply.status == 207
    assert b"404 Not Found" in reply.body and b"200 OK" not in reply.body
