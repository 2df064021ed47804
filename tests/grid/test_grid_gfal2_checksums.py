"""gfal2's checksums (``gfal-sum``: ``ctx.checksum(url, type)``, Debian's python3-gfal2 +
gfal2-plugin-http with its default config) on both shares, the real local iRODS zone and a
real Swift, over HTTPS with a proxy made by Globus ``grid-proxy-init``, each equal to
Python's (``zlib.adler32`` as 8 hex digits, ``hashlib``):

- with the default ``checksums`` settings: ADLER32 of a file over 64 MiB (made once for the
  module, PUT through the gateway, which keeps ADLER32 at every PUT), and ADLER32, MD5,
  SHA1 and SHA256 of a small file (kept at its PUT, or computed on request);
- with ``checksums.upload`` naming all four: the four of the file over 64 MiB.

Not answered by default for a file over ``compute_limit``: MD5, SHA1 (and SHA-256 on
Swift). gfal2 then reports them as not supported; but for MD5 davix falls back to an ETag
of 32 hex digits (its S3 workaround), which a Swift Static Large Object's is: a wrong MD5
there, an expected failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from localgrid.irods import LocalZone
from localgrid.pki import DemoPKI
from localgrid.swift import LocalSwift
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.grid import SYSTEM_PYTHON
from tests.helpers.gridtls import grid_tls_config, proxy_env
from tests.helpers.irods_gateway import ALICE, basic
from tests.helpers.tlsgw import https

BIG = os.urandom((64 << 20) + 12345)
SMALL = b"a small file for gfal-sum\n"
SHARES = ["/irods/alice", "/swift/tpc"]
ALGORITHMS = ("ADLER32", "MD5", "SHA1", "SHA256")
KEPT = ("adler32", "md5", "sha1", "sha-256")  # the gateway's names

SUMS = r"""
import json, sys
import gfal2
ctx = gfal2.creat_context()
sums = {}
for algorithm in sys.argv[2:]:
    try:
        sums[algorithm] = ctx.checksum(sys.argv[1], algorithm)
    except gfal2.GError as exc:
        sums[algorithm] = "error: %s" % exc
print(json.dumps(sums))
"""


def python_sums(data: bytes) -> dict[str, str]:
    return {
        "ADLER32": f"{zlib.adler32(data):08x}",
        "MD5": hashlib.md5(data).hexdigest(),
        "SHA1": hashlib.sha1(data).hexdigest(),
        "SHA256": hashlib.sha256(data).hexdigest(),
    }


EXPECTED = python_sums(BIG)


def _gateway(
    zone: LocalZone,
    swift: LocalSwift,
    demo: DemoPKI,
    tmp_path_factory: pytest.TempPathFactory,
    **checksums: object,
) -> Iterator[Gateway]:
    config = grid_tls_config(zone, swift, demo, tmp_path_factory.mktemp("gfal2-sum-keys"))
    config["server"]["timeout"] = 120
    if checksums:
        config["checksums"] = checksums
    with running_gateway(config) as gateway:
        assert send(demo, gateway, "MKCOL", "/swift/tpc/") in (201, 405)
        yield gateway


@pytest.fixture(scope="module")
def plain(
    zone: LocalZone, swift: LocalSwift, demo: DemoPKI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """Default ``checksums`` settings."""
    yield from _gateway(zone, swift, demo, tmp_path_factory)


@pytest.fixture(scope="module")
def keeping(
    zone: LocalZone, swift: LocalSwift, demo: DemoPKI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """All four digests computed at every PUT and kept."""
    yield from _gateway(zone, swift, demo, tmp_path_factory, upload=list(KEPT))


def send(demo: DemoPKI, gw: Gateway, method: str, path: str, body: bytes | None = None) -> int:
    context = ssl.create_default_context(cafile=str(demo.ca))
    return https(gw.port, context, method, path, body, {"Authorization": basic(ALICE)}).status


def upload(demo: DemoPKI, gw: Gateway, share: str, name: str, data: bytes) -> str:
    """``data`` PUT as ``name`` in a new folder of ``share``; its davs URL."""
    folder = f"{share}/sum-{uuid.uuid4().hex[:8]}"
    assert send(demo, gw, "MKCOL", folder) == 201
    assert send(demo, gw, "PUT", f"{folder}/{name}", data) == 201
    return f"davs://127.0.0.1:{gw.port}{folder}/{name}"


@pytest.fixture(scope="module", params=SHARES)
def share(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def big_plain(demo, plain, share) -> str:
    return upload(demo, plain, share, "big.bin", BIG)


def gfal2_sums(demo: DemoPKI, proxy: Path, url: str, *algorithms: str) -> dict[str, str]:
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", SUMS, url, *algorithms],
        capture_output=True, text=True, timeout=300, env=proxy_env(demo, proxy),
    )  # fmt: skip
    assert run.returncode == 0 and run.stdout.strip(), run.stderr[-3000:]
    sums: dict[str, str] = json.loads(run.stdout.strip().splitlines()[-1])
    return sums


def test_adler32_of_a_file_over_64_mib(demo, proxy, big_plain):
    assert len(BIG) > 64 << 20
    assert gfal2_sums(demo, proxy, big_plain, "ADLER32") == {"ADLER32": EXPECTED["ADLER32"]}


def test_all_four_of_a_small_file(demo, proxy, plain, share):
    url = upload(demo, plain, share, "small.txt", SMALL)
    assert gfal2_sums(demo, proxy, url, *ALGORITHMS) == python_sums(SMALL)


def test_all_four_of_a_file_over_64_mib_when_kept_at_put(demo, proxy, keeping, share):
    url = upload(demo, keeping, share, "big.bin", BIG)
    assert gfal2_sums(demo, proxy, url, *ALGORITHMS) == EXPECTED


def test_md5_of_a_file_over_64_mib_is_right_or_refused(demo, proxy, big_plain, share):
    """Above ``compute_limit`` the gateway does not know the MD5: gfal2 must not print a
    wrong one (davix reads a 32-hex-digit ETag as the MD5: iRODS etags are 30 digits, a
    Swift Static Large Object's end in ``-slo``)."""
    got = gfal2_sums(demo, proxy, big_plain, "MD5")["MD5"]
    assert got == EXPECTED["MD5"] or got.startswith("error:")
