"""The digest names grid clients use in ``Want-Digest``: gfal2 and davix pass the user's
``SHA256``/``SHA512`` (no dash) and match the answer by that same name."""

from __future__ import annotations

import hashlib

from davprovider.digests import asked_names, digest_header, hex_to_b64, wanted_digests


def test_sha256_without_a_dash_is_sha_256_answered_under_that_name():
    environ = {"HTTP_WANT_DIGEST": "SHA256"}
    assert wanted_digests(environ) == ["sha-256"]
    value = hashlib.sha256(b"x").hexdigest()
    header = digest_header({"sha-256": value}, ["sha-256"], asked_names(environ))
    assert header == f"SHA256={hex_to_b64(value)}"


def test_sha512_without_a_dash_is_sha_512():
    assert wanted_digests({"HTTP_WANT_DIGEST": "sha512;q=0.5, ADLER32"}) == ["adler32", "sha-512"]
