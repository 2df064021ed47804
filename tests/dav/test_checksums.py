"""Checksum dialects on the memory share: PUT verification, Want-Digest, Repr-Digest,
oc:checksums and dcache:Checksums."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest

from tests.helpers.client_sequences import CHECKSUMS, OC, oc_checksum_text
from tests.helpers.davxml import propstats

DATA = b"the quick brown fox jumps over the lazy dog\n" * 1000
OTHER = b"something else entirely\n"
MD5 = hashlib.md5(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()
ADLER32 = f"{zlib.adler32(DATA):08x}"
DCACHE = "{http://www.dcache.org/2013/webdav}Checksums"


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


GOOD_HEADERS = [
    {"Content-MD5": b64(MD5)},
    {"Digest": f"SHA-256={b64(SHA256)}"},
    {"Digest": f"adler32={ADLER32}, md5={b64(MD5)}, UNIXsum=123"},
    {"Digest": f"sha={b64(SHA1)}"},
    {"Repr-Digest": f"sha-256=:{b64(SHA256)}:, sha-512=:{b64(SHA512)}:"},
    {"Content-Digest": f"sha-512=:{b64(SHA512)}:"},
    {"OC-Checksum": f"SHA1:{SHA1}"},
    {"OC-Checksum": f"MD5:{MD5.upper()}"},
    {"OC-Checksum": f"ADLER32:{ADLER32}"},
]


@pytest.mark.parametrize("headers", GOOD_HEADERS, ids=lambda h: next(iter(h.values()))[:14])
def test_put_with_a_matching_client_checksum_is_stored(gateway, headers):
    assert gateway.put("/memory/f.bin", DATA, headers=headers).status == 201
    assert gateway.get("/memory/f.bin").body == DATA


BAD_HEADERS = [
    ({"Content-MD5": b64(hashlib.md5(OTHER).hexdigest())}, "Content-MD5 md5"),
    ({"Digest": f"sha-256={b64(hashlib.sha256(OTHER).hexdigest())}"}, "Digest sha-256"),
    ({"Digest": f"adler32={zlib.adler32(OTHER):08x}"}, "Digest adler32"),
    ({"Repr-Digest": f"sha-512=:{b64(hashlib.sha512(OTHER).hexdigest())}:"}, "Repr-Digest sha-512"),
    ({"OC-Checksum": f"SHA1:{hashlib.sha1(OTHER).hexdigest()}"}, "OC-Checksum sha1"),
    ({"OC-Checksum": f"MD5:{hashlib.md5(OTHER).hexdigest()}"}, "OC-Checksum md5"),
    ({"Digest": f"md5={b64(MD5)}", "Content-MD5": b64(hashlib.md5(OTHER).hexdigest())}, "md5"),
]


@pytest.mark.parametrize(("headers", "named"), BAD_HEADERS, ids=lambda v: str(v)[:20])
def test_put_with_a_wrong_checksum_is_400_naming_it_and_keeps_old_content(gateway, headers, named):
    gateway.put("/memory/f.bin", OTHER + b"old")
    reply = gateway.put("/memory/f.bin", DATA, headers=headers)
    assert reply.status == 400
    assert named.encode() in reply.body and b"mismatch" in reply.body
    assert gateway.get("/memory/f.bin").body == OTHER + b"old"


def test_put_with_a_wrong_checksum_on_a_new_name_creates_nothing(gateway):
    reply = gateway.put("/memory/n.bin", DATA, headers={"OC-Checksum": "MD5:" + "0" * 32})
    assert reply.status == 400
    assert gateway.get("/memory/n.bin").status == 404
    assert gateway.factories["/memory"].tree.find("/").children == {}


@pytest.mark.parametrize(
    "headers",
    [{"Content-MD5": "not base64!"}, {"OC-Checksum": "SHA1:xyz"}, {"Repr-Digest": "sha-256=abc"}],
)
def test_put_with_a_malformed_checksum_is_400(gateway, headers):
    assert gateway.put("/memory/m.bin", DATA, headers=headers).status == 400
    assert gateway.get("/memory/m.bin").status == 404


def test_want_digest_is_answered_with_digest_on_get_and_head(gateway):
    gateway.put("/memory/f.bin", DATA)
    want = {"Want-Digest": "adler32;q=0.3, SHA-256;q=1, crc32c"}
    for method in ("GET", "HEAD"):
        reply = gateway.request(method, "/memory/f.bin", headers=want)
        assert reply.status == 200
        assert reply.header("Digest") == f"sha-256={b64(SHA256)},adler32={ADLER32}"


def test_want_digest_md5_and_sha_use_base64(gateway):
    gateway.put("/memory/f.bin", DATA)
    reply = gateway.request("HEAD", "/memory/f.bin", headers={"Want-Digest": "MD5, SHA"})
    assert reply.header("Digest") == f"md5={b64(MD5)},sha={b64(SHA1)}"


def test_want_digest_is_answered_on_a_range_request_too(gateway):
    gateway.put("/memory/f.bin", DATA)
    reply = gateway.get("/memory/f.bin", headers={"Range": "bytes=0-9", "Want-Digest": "md5"})
    assert reply.status == 206
    assert reply.header("Digest") == f"md5={b64(MD5)}"


def test_want_repr_digest_is_answered_with_structured_repr_digest(gateway):
    gateway.put("/memory/f.bin", DATA)
    reply = gateway.request(
        "HEAD", "/memory/f.bin", headers={"Want-Repr-Digest": "sha-512=3, sha-256=10"}
    )
    assert reply.header("Repr-Digest") == f"sha-256=:{b64(SHA256)}:, sha-512=:{b64(SHA512)}:"


def test_no_digest_header_without_want_or_for_a_folder(gateway):
    gateway.put("/memory/f.bin", DATA)
    assert gateway.request("HEAD", "/memory/f.bin").header("Digest") is None
    reply = gateway.request("GET", "/memory/", headers={"Want-Digest": "md5"})
    assert reply.status == 200 and reply.header("Digest") is None


def test_propfind_reports_owncloud_and_dcache_checksums_at_depth_0_and_1(gateway):
    gateway.request("MKCOL", "/memory/d/")
    gateway.put("/memory/d/f.bin", DATA)
    for depth in ("0", "1"):
        target = "/memory/d/f.bin" if depth == "0" else "/memory/d/"
        reply = gateway.request("PROPFIND", target, CHECKSUMS, headers={"Depth": depth})
        props = propstats(reply.body)["/memory/d/f.bin"]
        assert props[OC + "checksums"] == OC + "checksum"  # one <oc:checksum> child
        text = oc_checksum_text(reply.body, "/memory/d/f.bin")
        assert text == f"SHA1:{SHA1} MD5:{MD5} ADLER32:{ADLER32} SHA256:{SHA256}"
        assert props[DCACHE].startswith(f"adler32={ADLER32},md5={b64(MD5)},sha={b64(SHA1)},")


def test_propfind_checksums_of_a_folder_are_404_and_the_response_starts_with_200(gateway):
    gateway.request("MKCOL", "/memory/d/")
    reply = gateway.request("PROPFIND", "/memory/d/", CHECKSUMS, headers={"Depth": "0"})
    statuses = reply.body.split(b"<D:status>")[1:]
    assert statuses[0].startswith(b"HTTP/1.1 200")  # rclone reads the first propstat only
    assert OC + "checksums" not in propstats(reply.body)["/memory/d/"]


def test_allprop_does_not_include_computed_properties(gateway):
    gateway.put("/memory/f.bin", DATA)
    reply = gateway.request("PROPFIND", "/memory/f.bin", headers={"Depth": "0"})
    assert b"checksum" not in reply.body.lower() and b"quota" not in reply.body


def test_quota_properties_are_omitted_when_the_backend_cannot_tell(gateway):
    body = b"""<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>
    <D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"""
    reply = gateway.request("PROPFIND", "/memory/", body, headers={"Depth": "0"})
    assert reply.status == 207
    assert b"404 Not Found" in reply.body and b"200 OK" not in reply.body
