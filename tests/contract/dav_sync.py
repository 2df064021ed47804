"""What sync and desktop clients rely on, as a test suite every share must pass: modification
times (X-OC-Mtime, PROPPATCH), client checksums on PUT, Want-Digest, and the Windows
Explorer and macOS Finder request sequences.

Subclass ``DavSyncSuite`` (one line) next to ``DavVerbSuite``: it uses the same
``dav_target`` fixture (tests/contract/dav_verbs.py). How each backend stores times,
digests and side files is checked in that backend's own folder.
"""

from __future__ import annotations

import base64
import hashlib
import time
import zlib
from email.utils import parsedate_to_datetime

import pytest

from tests.contract.dav_verbs import DavTarget
from tests.helpers.client_sequences import (
    CHECKSUMS,
    OC,
    WIN32_PATCH,
    finder_copy,
    getlastmodified_proppatch,
    rclone_proppatch,
    windows_copy,
)
from tests.helpers.davxml import LOCKINFO, hrefs, propstats
from tests.helpers.gateway import Gateway

DATA = b"the quick brown fox jumps over the lazy dog\n" * 1000
OTHER = b"something else entirely\n"
MD5 = hashlib.md5(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA512 = hashlib.sha512(DATA).hexdigest()
ADLER32 = f"{zlib.adler32(DATA):08x}"
EXPLORER_TIME = "Thu, 28 Feb 2008 19:15:10 GMT"
WIN32 = "{urn:schemas-microsoft-com:}"
MODIFIED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/></D:prop></D:propfind>"""


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def seconds(stamp: str | None) -> float:
    assert stamp
    return parsedate_to_datetime(stamp).timestamp()


def listed_mtime(gw: Gateway, folder: str, name: str) -> float:
    """The getlastmodified of ``name`` in a Depth 1 listing of ``folder``."""
    reply = gw.request("PROPFIND", folder, MODIFIED, headers={"Depth": "1"})
    assert reply.status == 207
    for href, props in hrefs(reply.body).items():
        if href.rstrip("/") == folder + name.rstrip("/"):
            return seconds(props["{DAV:}getlastmodified"])
    raise AssertionError(f"{name} not listed in {folder}")


def header_mtime(gw: Gateway, path: str) -> float:
    return seconds(gw.request("HEAD", path).header("Last-Modified"))


def only_member(dav_target: DavTarget) -> set[str]:
    reply = dav_target.client.request("PROPFIND", dav_target.base, headers={"Depth": "1"})
    assert reply.status == 207
    return set(hrefs(reply.body)) - {dav_target.base}


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
    {"OC-Checksum": f"SHA1:{SHA1}", "Digest": f"sha-256={b64(SHA256)}"},
]

BAD_HEADERS = [
    ({"Content-MD5": b64(hashlib.md5(OTHER).hexdigest())}, "Content-MD5 md5"),
    ({"Digest": f"sha-256={b64(hashlib.sha256(OTHER).hexdigest())}"}, "Digest sha-256"),
    ({"Digest": f"adler32={zlib.adler32(OTHER):08x}"}, "Digest adler32"),
    ({"Repr-Digest": f"sha-512=:{b64(hashlib.sha512(OTHER).hexdigest())}:"}, "Repr-Digest sha-512"),
    ({"OC-Checksum": f"SHA1:{hashlib.sha1(OTHER).hexdigest()}"}, "OC-Checksum sha1"),
    ({"OC-Checksum": f"MD5:{hashlib.md5(OTHER).hexdigest()}"}, "OC-Checksum md5"),
    ({"Digest": f"md5={b64(MD5)}", "Content-MD5": b64(hashlib.md5(OTHER).hexdigest())}, "md5"),
]


class DavSyncSuite:
    """Sync and desktop clients, as they see a share; ``dav_target`` as for DavVerbSuite."""

    #: False where a Depth 1 listing carries no folder times (Swift's pseudo-folders are
    #: listed without their marker's metadata): the time then shows at Depth 0 only.
    lists_folder_mtime = True

    # --- modification times ----------------------------------------------------------------

    def test_put_with_x_oc_mtime_is_accepted_listed_and_served(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        reply = gw.put(base + "a.txt", b"abc", headers={"X-OC-Mtime": "1500000000"})
        assert (reply.status, reply.header("X-OC-Mtime")) == (201, "accepted")
        assert listed_mtime(gw, base, "a.txt") == 1500000000
        assert header_mtime(gw, base + "a.txt") == 1500000000

    def test_overwrite_with_x_oc_mtime_is_accepted_too(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.bin", b"old", headers={"X-OC-Mtime": "1400000000"})
        reply = gw.put(base + "a.bin", DATA, headers={"X-OC-Mtime": "1500000001"})
        assert (reply.status, reply.header("X-OC-Mtime")) == (204, "accepted")
        assert header_mtime(gw, base + "a.bin") == 1500000001
        assert dav_target.stored("a.bin") == DATA

    def test_overwrite_without_x_oc_mtime_gets_the_time_of_the_upload(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.bin", b"old", headers={"X-OC-Mtime": "1400000000"})
        reply = gw.put(base + "a.bin", b"new")
        assert reply.header("X-OC-Mtime") is None
        assert abs(listed_mtime(gw, base, "a.bin") - time.time()) < 120

    @pytest.mark.parametrize("value", ["yesterday", "-5", "1e400", ""])
    def test_malformed_x_oc_mtime_is_400_and_stores_nothing(self, dav_target, value):
        reply = dav_target.client.put(
            dav_target.base + "a.txt", b"abc", headers={"X-OC-Mtime": value}
        )
        assert reply.status == 400
        assert dav_target.stored("a.txt") is None

    def test_put_without_x_oc_mtime_has_no_accepted_header(self, dav_target):
        reply = dav_target.client.put(dav_target.base + "a.txt", b"abc")
        assert reply.status == 201 and reply.header("X-OC-Mtime") is None

    @pytest.mark.parametrize("method", ["COPY", "MOVE"])
    def test_x_oc_mtime_on_copy_and_move_sets_the_destination(self, dav_target, method):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.bin", DATA, headers={"X-OC-Mtime": "1400000000"})
        headers = {"Destination": base + "b.bin", "X-OC-Mtime": "1300000000"}
        reply = gw.request(method, base + "a.bin", headers=headers)
        assert (reply.status, reply.header("X-OC-Mtime")) == (201, "accepted")
        assert header_mtime(gw, base + "b.bin") == 1300000000
        if method == "COPY":
            assert header_mtime(gw, base + "a.bin") == 1400000000

    def test_proppatch_of_rclone_lastmodified_with_checksum_sets_the_mtime(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.bin", DATA)
        reply = gw.request("PROPPATCH", base + "a.bin", rclone_proppatch(1600000000, "MD5:" + MD5))
        assert reply.status == 207
        assert reply.body.count(b"200 OK") == 1 and b"403" not in reply.body
        assert listed_mtime(gw, base, "a.bin") == 1600000000

    def test_proppatch_of_getlastmodified_sets_the_mtime(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.txt", b"abc")
        patch = getlastmodified_proppatch("Wed, 27 Sep 2017 14:28:34 GMT")
        reply = gw.request("PROPPATCH", base + "a.txt", patch)
        assert reply.status == 207 and b"200 OK" in reply.body
        assert header_mtime(gw, base + "a.txt") == 1506522514

    def test_proppatch_of_a_folder_mtime_shows_at_depth_0_and_in_listings(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("MKCOL", base + "d/").status == 201
        reply = gw.request("PROPPATCH", base + "d/", rclone_proppatch(1234567890))
        assert reply.status == 207 and b"200 OK" in reply.body
        if self.lists_folder_mtime:
            assert listed_mtime(gw, base, "d/") == 1234567890
        depth0 = gw.request("PROPFIND", base + "d/", MODIFIED, headers={"Depth": "0"})
        assert seconds(propstats(depth0.body)[base + "d/"]["{DAV:}getlastmodified"]) == 1234567890

    def test_proppatch_with_a_bad_time_is_409_and_changes_nothing(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.txt", b"abc", headers={"X-OC-Mtime": "1500000000"})
        reply = gw.request("PROPPATCH", base + "a.txt", getlastmodified_proppatch("soon"))
        assert reply.status == 207 and b"409 Conflict" in reply.body
        assert header_mtime(gw, base + "a.txt") == 1500000000

    def test_removing_getlastmodified_is_forbidden(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.txt", b"abc")
        remove = getlastmodified_proppatch("x").replace(b"D:set>", b"D:remove>")
        remove = remove.replace(b">x<", b"><")
        reply = gw.request("PROPPATCH", base + "a.txt", remove)
        assert reply.status == 207 and b"403 Forbidden" in reply.body

    # --- client checksums on PUT -----------------------------------------------------------

    @pytest.mark.parametrize("headers", GOOD_HEADERS, ids=lambda h: str(h)[2:26])
    def test_put_with_matching_client_checksums_is_stored(self, dav_target, headers):
        assert dav_target.client.put(dav_target.base + "f.bin", DATA, headers=headers).status == 201
        assert dav_target.stored("f.bin") == DATA

    @pytest.mark.parametrize(("headers", "named"), BAD_HEADERS, ids=lambda v: str(v)[:20])
    def test_put_with_a_wrong_checksum_is_400_naming_it_and_keeps_old_content(
        self, dav_target, headers, named
    ):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "f.bin", OTHER + b"old")
        reply = gw.put(base + "f.bin", DATA, headers=headers)
        assert reply.status == 400
        assert named.encode() in reply.body and b"mismatch" in reply.body
        assert dav_target.stored("f.bin") == OTHER + b"old"
        assert gw.get(base + "f.bin").body == OTHER + b"old"

    def test_put_with_a_wrong_checksum_on_a_new_name_creates_nothing(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        reply = gw.put(base + "n.bin", DATA, headers={"OC-Checksum": "MD5:" + "0" * 32})
        assert reply.status == 400
        assert dav_target.stored("n.bin") is None
        assert only_member(dav_target) == set()

    @pytest.mark.parametrize(
        "headers",
        [
            {"Content-MD5": "not base64!"},
            {"OC-Checksum": "SHA1:xyz"},
            {"Repr-Digest": "sha-256=abc"},
        ],
    )
    def test_put_with_a_malformed_checksum_is_400_and_stores_nothing(self, dav_target, headers):
        assert dav_target.client.put(dav_target.base + "m.bin", DATA, headers=headers).status == 400
        assert dav_target.stored("m.bin") is None

    # --- Want-Digest -----------------------------------------------------------------------

    def test_want_digest_is_answered_with_digest_on_get_and_head(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        want = {"Want-Digest": "adler32;q=0.3, SHA-256;q=1, crc32c"}
        for method in ("GET", "HEAD"):
            reply = gw.request(method, target, headers=want)
            assert reply.status == 200
            assert reply.header("Digest") == f"SHA-256={b64(SHA256)},adler32={ADLER32}"

    def test_want_digest_md5_and_sha_use_base64(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        reply = gw.request("HEAD", target, headers={"Want-Digest": "MD5, SHA"})
        assert reply.header("Digest") == f"MD5={b64(MD5)},SHA={b64(SHA1)}"

    def test_want_digest_is_answered_under_the_names_grid_clients_ask_for(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        reply = gw.request("HEAD", target, headers={"Want-Digest": "ADLER32"})
        assert reply.header("Digest") == f"ADLER32={ADLER32}"  # gfal2
        reply = gw.request("HEAD", target, headers={"Want-Digest": "SHA1"})
        assert reply.header("Digest") == f"SHA1={b64(SHA1)}"  # davix

    def test_quota_properties_are_not_reported_on_files(self, dav_target):
        """davix and gfal-ls take a file's quota-used-bytes for its size."""
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        body = (
            b'<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/>'
            b"<D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>"
        )
        reply = gw.request("PROPFIND", target, body, headers={"Depth": "0"})
        props = next(iter(propstats(reply.body).values()))
        assert props["{DAV:}getcontentlength"] == str(len(DATA))
        assert "{DAV:}quota-used-bytes" not in props

    def test_want_digest_is_answered_on_a_range_request_too(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        reply = gw.get(target, headers={"Range": "bytes=0-9", "Want-Digest": "md5"})
        assert reply.status == 206
        assert reply.header("Digest") == f"md5={b64(MD5)}"

    def test_want_repr_digest_is_answered_with_structured_repr_digest(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        reply = gw.request("GET", target, headers={"Want-Repr-Digest": "sha-512=3, sha-256=10"})
        # best first; a backend that kept SHA-256 at upload answers it alone (nothing read)
        sha256, sha512 = f"sha-256=:{b64(SHA256)}:", f"sha-512=:{b64(SHA512)}:"
        assert reply.header("Repr-Digest") in (sha256, f"{sha256}, {sha512}")
        assert reply.body == DATA
        reply = gw.request("GET", target, headers={"Want-Repr-Digest": "sha-512=3"})
        assert reply.header("Repr-Digest") == sha512  # kept by none: computed by reading

    def test_want_digest_of_a_file_seeded_behind_the_gateway_is_computed(self, dav_target):
        dav_target.seed("foreign.bin", DATA)
        reply = dav_target.client.request(
            "HEAD", dav_target.base + "foreign.bin", headers={"Want-Digest": "md5,sha-256"}
        )
        # any asked digest the backend knows answers; none known: computed by reading
        parts = (reply.header("Digest") or "").split(",")
        assert set(parts) <= {f"md5={b64(MD5)}", f"sha-256={b64(SHA256)}"} and parts[0]
        reply = dav_target.client.request(
            "HEAD", dav_target.base + "foreign.bin", headers={"Want-Digest": "sha-512"}
        )
        assert reply.header("Digest") == f"sha-512={b64(SHA512)}"

    def test_no_digest_header_without_want_or_for_a_folder(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "f.bin", DATA)
        assert gw.request("HEAD", base + "f.bin").header("Digest") is None
        reply = gw.request("GET", base, headers={"Want-Digest": "md5"})
        assert reply.status == 200 and reply.header("Digest") is None

    def test_propfind_checksums_of_a_folder_are_404_and_the_response_starts_with_200(
        self, dav_target
    ):
        gw, folder = dav_target.client, dav_target.base + "d/"
        assert gw.request("MKCOL", folder).status == 201
        reply = gw.request("PROPFIND", folder, CHECKSUMS, headers={"Depth": "0"})
        statuses = reply.body.split(b"<D:status>")[1:]
        assert statuses[0].startswith(b"HTTP/1.1 200")  # rclone reads the first propstat only
        assert b"HTTP/1.1 404" in reply.body
        assert OC + "checksums" not in propstats(reply.body)[folder]

    def test_allprop_does_not_include_computed_properties(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "f.bin"
        gw.put(target, DATA)
        reply = gw.request("PROPFIND", target, headers={"Depth": "0"})
        assert reply.status == 207
        assert b"checksum" not in reply.body.lower() and b"quota" not in reply.body

    # --- desktop clients -------------------------------------------------------------------

    def test_windows_copy_ends_with_the_content_and_the_explorer_mtime(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        seen = windows_copy(gw, base, "report.docx", DATA, EXPLORER_TIME)

        assert seen == {
            "propfind": 404, "create": 201, "lock": 200, "proppatch": 207, "head": 200,
            "put": 204, "proppatch2": 207, "unlock": 204,
        }  # fmt: skip
        assert dav_target.stored("report.docx") == DATA
        assert header_mtime(gw, base + "report.docx") == seconds(EXPLORER_TIME)
        assert listed_mtime(gw, base, "report.docx") == seconds(EXPLORER_TIME)

    def test_windows_proppatch_answers_200_for_every_win32_property(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        windows_copy(gw, base, "a.txt", b"x", EXPLORER_TIME)
        reply = gw.request("PROPFIND", base + "a.txt", headers={"Depth": "0"})
        props = propstats(reply.body)[base + "a.txt"]
        assert props[WIN32 + "Win32FileAttributes"] == "00000020"
        assert props[WIN32 + "Win32CreationTime"] == EXPLORER_TIME
        assert props["{DAV:}getlastmodified"] == EXPLORER_TIME

    def test_windows_proppatch_on_a_locked_file_without_the_token_is_423(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "b.txt"
        dav_target.seed("b.txt", b"x")
        lock = gw.request("LOCK", target, LOCKINFO, headers={"Depth": "0"})
        assert lock.status == 200
        assert gw.request("PROPPATCH", target, WIN32_PATCH).status == 423

    def test_finder_copy_stores_the_data_and_its_side_files_by_default(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("MKCOL", base + "mac/").status == 201
        before = time.time()

        seen = finder_copy(gw, base + "mac/", "photo.jpg", DATA)

        assert seen == {
            "propfind": 404, "propfind_twin": 404, "create": 201, "lock": 200, "put": 204,
            "put_twin": 201, "unlock": 204, "ds_store": 201, "listing": 207,
        }  # fmt: skip
        assert dav_target.stored("mac/photo.jpg") == DATA
        assert before - 2 <= header_mtime(gw, base + "mac/photo.jpg") <= time.time() + 2
        assert dav_target.stored("mac/._photo.jpg") is not None
        assert dav_target.stored("mac/.DS_Store") is not None
