"""gfal2 (Debian's python3-gfal2 + gfal2-plugin-http, as FTS drives it) copying between two
gateways over the real iRODS zone and Swift with its streaming fallback switched off, so that
only a real third-party copy can succeed: pull and push, ``/irods`` to ``/swift`` and back,
ADLER32 verified on both ends; a failing source fails the copy and leaves nothing.

The gateways trust 127.0.0.1 as alice (``ipallow``), as a grid endpoint trusts its FTS hosts:
over plain HTTP gfal2 sends ``Credential: none`` and no credentials to either end.
"""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import Iterator

import pytest

from localgrid.irods import LocalZone
from localgrid.pki import create_demo_pki
from localgrid.swift import LocalSwift
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.grid import gfal2_copy, grid_config, require_gfal2

DATA = os.urandom((64 << 20) + 4097)  # above 64 MiB, as real data files are
SHARES = ["/irods/alice", "/swift/tpc"]


def _trusting(zone: LocalZone, swift: LocalSwift) -> Iterator[Gateway]:
    with running_gateway(grid_config(zone, swift, chain=("ipallow",))) as gateway:
        gateway.user = None
        assert gateway.request("MKCOL", "/swift/tpc/").status in (201, 405)
        yield gateway


@pytest.fixture(scope="module")
def src(zone: LocalZone, swift: LocalSwift) -> Iterator[Gateway]:
    require_gfal2()
    yield from _trusting(zone, swift)


@pytest.fixture(scope="module")
def dst(zone: LocalZone, swift: LocalSwift) -> Iterator[Gateway]:
    yield from _trusting(zone, swift)


@pytest.fixture(scope="module")
def original(src: Gateway) -> str:
    path = f"/irods/alice/gfal2-{uuid.uuid4().hex[:8]}.bin"
    assert src.put(path, DATA).status == 201
    return path


def url(gw: Gateway, path: str) -> str:
    return f"http://127.0.0.1:{gw.port}{path}"


@pytest.mark.parametrize("mode", ["3rd pull", "3rd push"])
@pytest.mark.parametrize("target_share", SHARES)
def test_gfal2_third_party_copy_arrives_whole_with_adler32_verified(
    src, dst, original, mode, target_share
):
    target = f"{target_share}/gfal2-{uuid.uuid4().hex[:8]}.bin"
    result = gfal2_copy(url(src, original), url(dst, target), mode)
    assert result["ok"], result
    types = [e for e in result["events"] if e.startswith("TRANSFER:TYPE")]
    assert types == [f"TRANSFER:TYPE {mode}"], result["events"]  # no streamed fallback
    adler = f"{zlib.adler32(DATA):08x}"
    assert result["source_sum"] == result["destination_sum"] == adler
    assert dst.get(target).body == DATA


@pytest.mark.parametrize("mode", ["3rd pull", "3rd push"])
def test_gfal2_copy_of_a_missing_source_fails_and_leaves_nothing(src, dst, mode):
    target = f"/swift/tpc/gfal2-{uuid.uuid4().hex[:8]}.bin"
    result = gfal2_copy(url(src, "/irods/alice/absent.bin"), url(dst, target), mode)
    assert not result["ok"]
    assert dst.get(target).status == 404


@pytest.fixture(scope="module")
def https_pair(zone, swift, src, tmp_path_factory) -> Iterator[tuple[Gateway, Gateway]]:
    """The same two gateways over HTTPS (the demo PKI's server certificate)."""
    pki = create_demo_pki(tmp_path_factory.mktemp("pki"))
    config = grid_config(zone, swift, chain=("ipallow",))
    config["tls"] = {"certificate": str(pki.server_cert), "key": str(pki.server_key)}
    with running_gateway(config) as one, running_gateway(config) as two:
        yield one, two


def test_gfal2_over_https_asks_for_delegation_and_falls_back_to_streaming(https_pair, original):
    """Over HTTPS gfal2 sends ``Credential: gridsite``; the gateway answers 501 to both
    modes and gfal2 streams the file itself."""
    one, two = https_pair
    source = f"https://127.0.0.1:{one.port}{original}"
    target = f"/swift/tpc/gfal2-{uuid.uuid4().hex[:8]}.bin"
    result = gfal2_copy(source, f"https://127.0.0.1:{two.port}{target}", "3rd pull", fallback=True)
    assert result["ok"], result
    types = [e for e in result["events"] if e.startswith("TRANSFER:TYPE")]
    assert types == ["TRANSFER:TYPE 3rd pull", "TRANSFER:TYPE 3rd push", "TRANSFER:TYPE streamed"]
    assert result["source_sum"] == result["destination_sum"] == f"{zlib.adler32(DATA):08x}"
