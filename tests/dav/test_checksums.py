"""Checksums on the memory share beyond the shared sync suite (tests/contract/dav_sync.py):
which digests oc:checksums and dcache:Checksums list, and quota."""

from __future__ import annotations

import base64
import hashlib
import zlib

from tests.helpers.client_sequences import CHECKSUMS, OC, oc_checksum_text
from tests.helpers.davxml import propstats

DATA = b"the quick brown fox jumps over the lazy dog\n" * 1000
MD5 = hashlib.md5(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
ADLER32 = f"{zlib.adler32(DATA):08x}"
DCACHE = "{http://www.dcache.org/2013/webdav}Checksums"


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


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


def test_quota_properties_are_omitted_when_the_backend_cannot_tell(gateway):
    body = b"""<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>
    <D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"""
    reply = gateway.request("PROPFIND", "/memory/", body, headers={"Depth": "0"})
    assert reply.status == 207
    assert b"404 Not Found" in reply.body and b"200 OK" not in reply.body
