"""Checksums of every size on ``/irods``: ADLER32 (and MD5 where configured) computed while
a PUT streams, kept as AVUs beside the catalog's SHA-256, answered to ``Want-Digest`` under
the client's name, and read from the catalog afterwards, never from the object."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from localgrid.irods import LocalZone
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.irods_gateway import ALICE, HOME, SHARE, gateway_config

BIG = os.urandom((64 << 20) + 4321)  # above 64 MiB: above compute_limit too
DIGEST_AVU = "davprovider:digest:"


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def in_process(zone: LocalZone, **checksums: Any) -> Iterator[Gateway]:
    config = gateway_config(zone.port)
    if checksums:
        config["checksums"] = checksums
    with running_gateway(config) as gateway:
        gateway.user = ALICE
        yield gateway


@pytest.fixture(scope="module")
def md5_gw(seeded_zone: LocalZone) -> Iterator[Gateway]:
    """ADLER32 and MD5 computed for every PUT."""
    yield from in_process(seeded_zone, upload=["adler32", "md5"])


@pytest.fixture(scope="module")
def default_gw(seeded_zone: LocalZone) -> Iterator[Gateway]:
    """The default checksums (ADLER32 for every PUT)."""
    yield from in_process(seeded_zone)


def folder(gw: Gateway) -> str:
    path = f"{SHARE}/alice/g-{uuid.uuid4().hex[:8]}/"
    assert gw.request("MKCOL", path).status == 201
    return path


def avus(rods: Any, share_path: str) -> dict[str, str]:
    obj = rods.data_objects.get(HOME + share_path[len(SHARE) :])
    return {
        m.name[len(DIGEST_AVU) :]: m.value
        for m in obj.metadata.items()
        if m.name.startswith(DIGEST_AVU)
    }


def test_large_upload_keeps_adler32_and_md5_and_answers_without_reading(md5_gw, rods, caplog):
    path = folder(md5_gw) + "big.bin"
    assert md5_gw.put(path, BIG).status == 201
    adler, md5 = f"{zlib.adler32(BIG):08x}", hashlib.md5(BIG).hexdigest()
    assert avus(rods, path) == {"adler32": adler, "md5": md5}
    caplog.clear()
    reply = md5_gw.request("HEAD", path, headers={"Want-Digest": "ADLER32"})
    assert reply.header("Digest") == f"ADLER32={adler}"
    reply = md5_gw.request("HEAD", path, headers={"Want-Digest": "MD5"})
    assert reply.header("Digest") == f"MD5={b64(md5)}"
    reply = md5_gw.request("HEAD", path, headers={"Want-Digest": "SHA-256"})  # the catalog's
    assert reply.header("Digest") == f"SHA-256={b64(hashlib.sha256(BIG).hexdigest())}"
    assert "by reading it" not in caplog.text


def test_large_upload_keeps_adler32_by_default(default_gw, rods, caplog):
    path = folder(default_gw) + "big.bin"
    assert default_gw.put(path, BIG).status == 201
    assert avus(rods, path) == {"adler32": f"{zlib.adler32(BIG):08x}"}
    reply = default_gw.request("HEAD", path, headers={"Want-Digest": "adler32"})
    assert reply.header("Digest") == f"adler32={zlib.adler32(BIG):08x}"
    assert "by reading it" not in caplog.text
