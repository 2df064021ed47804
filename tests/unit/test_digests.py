"""Digest computation and the HTTP dialects naming digests (davprovider/digests.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import zlib

import pytest

from davprovider import digests
from davprovider.digests import (
    Hasher,
    checksum_digests,
    compute_digests,
    dcache_text,
    digest_header,
    expected_digests,
    mismatches,
    owncloud_text,
    repr_digest_header,
    wanted_digests,
    wanted_repr_digests,
)

DATA = b"hello world\n"
MD5 = hashlib.md5(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
ADLER = f"{zlib.adler32(DATA):08x}"


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def env(**headers: str) -> dict[str, str]:
    return {"HTTP_" + k.upper(): v for k, v in headers.items()}


def test_hasher_gives_every_algorithm_in_hex():
    hasher = Hasher(["md5", "sha1", "sha-256", "sha-512", "adler32"])
    hasher.update(DATA[:5])
    hasher.update(DATA[5:])
    assert hasher.hexdigests() == {
        "md5": MD5, "sha1": SHA1, "sha-256": SHA256,
        "sha-512": hashlib.sha512(DATA).hexdigest(), "adler32": ADLER,
    }  # fmt: skip


def test_hasher_switches_to_threads_for_large_streams_with_the_same_result(monkeypatch):
    monkeypatch.setattr(digests, "THREAD_AFTER", 10)
    block = bytes(range(256)) * 64
    hasher = Hasher(["md5", "adler32"])
    for _ in range(50):
        hasher.update(block)
    assert hasher._workers
    result = hasher.hexdigests()
    assert result["md5"] == hashlib.md5(block * 50).hexdigest()
    assert result["adler32"] == f"{zlib.adler32(block * 50):08x}"
    assert not hasher._workers


def test_compute_digests_reads_a_stream_to_its_end():
    assert compute_digests(io.BytesIO(DATA), ["md5"], block_size=3) == {"md5": MD5}


@pytest.mark.parametrize(
    ("checksum", "expected"),
    [
        (f"md5:{MD5}", {"md5": MD5}),
        (MD5, {"md5": MD5}),
        ("sha2:" + b64(SHA256), {"sha-256": SHA256}),
        (f"adler32:{ADLER}", {"adler32": ADLER}),
        (None, {}),
        ("crc32:1234", {}),
        ("sha2:garbage!", {}),
    ],
)
def test_backend_checksums_become_digests(checksum, expected):
    assert checksum_digests(checksum) == expected


def test_expected_digests_are_read_from_every_put_header_dialect():
    found = expected_digests(
        env(
            Content_MD5=b64(MD5),
            Digest=f"SHA-256={b64(SHA256)}, adler32={ADLER}, unixsum=12",
            Repr_Digest=f"sha=:{b64(SHA1)}:",
            OC_Checksum=f"MD5:{MD5.upper()} SHA3-256:abc",
        )
    )
    assert found == [
        ("Content-MD5", "md5", MD5),
        ("Digest", "sha-256", SHA256),
        ("Digest", "adler32", ADLER),
        ("Repr-Digest", "sha1", SHA1),
        ("OC-Checksum", "md5", MD5),
    ]
    assert mismatches(found, {"md5": MD5, "sha-256": SHA256, "adler32": ADLER, "sha1": SHA1}) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content_MD5": "abc"},
        {"Digest": "adler32=xyz"},
        {"Repr_Digest": f"sha-256={b64(SHA256)}"},
        {"OC_Checksum": "SHA1:1234"},
    ],
)
def test_malformed_values_name_their_header(headers):
    with pytest.raises(ValueError) as caught:
        expected_digests(env(**headers))
    assert next(iter(headers)).replace("_", "-") in str(caught.value)


def test_mismatch_names_header_algorithm_and_both_values():
    (line,) = mismatches([("OC-Checksum", "sha1", "0" * 40)], {"sha1": SHA1})
    assert line == f"OC-Checksum sha1 mismatch: client sent {'0' * 40}, body has {SHA1}"


def test_want_digest_orders_by_q_and_drops_zero_and_unknown():
    environ = env(Want_Digest="adler32;q=0.5, SHA-256, MD5;q=0, crc32c;q=1")
    assert wanted_digests(environ) == ["sha-256", "adler32"]


def test_want_repr_digest_reads_the_structured_dictionary():
    environ = env(Want_Repr_Digest="sha-512=3, sha-256=10, md5=0, adler=1")
    assert wanted_repr_digests(environ) == ["sha-256", "sha-512", "adler32"]


def test_known_digests_are_rendered_in_each_answer_dialect():
    known = {"md5": MD5, "sha1": SHA1, "sha-256": SHA256, "adler32": ADLER}
    assert digest_header(known, ["adler32", "md5"]) == f"adler32={ADLER},md5={b64(MD5)}"
    assert repr_digest_header(known, ["sha-256", "sha-512"]) == f"sha-256=:{b64(SHA256)}:"
    assert owncloud_text(known) == f"SHA1:{SHA1} MD5:{MD5} ADLER32:{ADLER} SHA256:{SHA256}"
    assert dcache_text(known) == (
        f"adler32={ADLER},md5={b64(MD5)},sha={b64(SHA1)},sha-256={b64(SHA256)}"
    )
    assert owncloud_text({}) == "" and digest_header({}, ["md5"]) == ""
