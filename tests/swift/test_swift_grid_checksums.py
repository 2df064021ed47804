"""Checksums of every size on ``/swift``: ADLER32 (and MD5 where configured) kept with the
object by its own PUT, answered to ``Want-Digest`` under the client's name, and read from
the stored metadata afterwards, never from the object (counted in the proxy log)."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from localgrid.swift import LocalSwift
from tests.helpers.client_sequences import CHECKSUMS, oc_checksum_text
from tests.helpers.gateway import running_gateway
from tests.helpers.swift_gateway import ALICE, fresh_container, swift_config, swift_gateway
from tests.helpers.swift_helpers import local_swift

GiB = 1 << 30
BIG = os.urandom((64 << 20) + 12345)  # above 64 MiB: above compute_limit too
SMALL = os.urandom(50_000)


@pytest.fixture(scope="module")
def swift_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    """This module's own Swift, logging every request (the session's logs warnings only)."""
    with local_swift(tmp_path_factory, "swift-logged", log_level="INFO") as store:
        yield store


@pytest.fixture(scope="module")
def gw(swift_store: LocalSwift) -> Iterator[Any]:
    """Production segment size (1 GiB), default checksums (ADLER32 for every PUT)."""
    with swift_gateway(swift_store, segment_size=GiB) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def md5_gw(swift_store: LocalSwift) -> Iterator[Any]:
    """The same with MD5 configured for every PUT too."""
    config = swift_config(swift_store, segment_size=GiB)
    config["checksums"] = {"upload": ["adler32", "md5"]}
    with running_gateway(config) as gateway:
        gateway.user = ALICE
        yield gateway


def proxy_lines(store: LocalSwift) -> list[str]:
    """The client requests the Swift proxy logged so far (``METHOD /v1/...``), once the
    log stops growing (bounded wait)."""
    log, last = store.root / "log" / "proxy.log", None
    assert log.exists(), log
    for _ in range(40):
        lines = [
            " ".join(line.split()[4:6])
            for line in log.read_text(errors="replace").splitlines()
            if line.startswith("proxy-server: 127.0.0.1 ")
        ]
        if lines == last:
            return lines
        last = lines
        time.sleep(0.05)
    return last or []


def object_calls(lines: list[str], *methods: str) -> list[str]:
    """Those of ``lines`` that are ``methods`` on an object (``/v1/<account>/<container>/
    <object>``): container listings (lookups) are not reads."""
    return [
        line
        for line in lines
        if line.split()[0] in methods and line.split()[1].split("%3F")[0].count("/") >= 4
    ]


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def test_large_upload_keeps_adler32_and_md5_with_its_put(md5_gw, swift_store, caplog):
    with fresh_container(md5_gw) as box:
        before = len(proxy_lines(swift_store))
        assert md5_gw.put(box + "big.bin", BIG).status == 201
        upload = proxy_lines(swift_store)[before:]
        reply = md5_gw.request("HEAD", box + "big.bin", headers={"Want-Digest": "ADLER32"})
        assert reply.header("Digest") == f"ADLER32={zlib.adler32(BIG):08x}"
        reply = md5_gw.request("HEAD", box + "big.bin", headers={"Want-Digest": "MD5"})
        assert reply.header("Digest") == f"MD5={b64(hashlib.md5(BIG).hexdigest())}"
        after = proxy_lines(swift_store)[before + len(upload) :]
    assert not object_calls(upload, "POST", "GET"), upload
    assert not object_calls(after, "POST", "GET"), after  # stored digests: a HEAD
    assert "by reading it" not in caplog.text


def test_large_upload_without_md5_configured_still_answers_adler32(gw, swift_store):
    with fresh_container(gw) as box:
        assert gw.put(box + "big.bin", BIG).status == 201
        before = len(proxy_lines(swift_store))
        reply = gw.request("HEAD", box + "big.bin", headers={"Want-Digest": "adler32"})
        assert reply.header("Digest") == f"adler32={zlib.adler32(BIG):08x}"
        assert gw.get(box + "big.bin").body == BIG
        assert not object_calls(proxy_lines(swift_store)[before:], "POST")


def in_container(lines: list[str], box: str) -> list[str]:
    """Those of ``lines`` on the container of ``box`` (``/swift/<name>/``) or its objects:
    not the gateway's background sweeps of the account's segment containers."""
    name = box.strip("/").split("/")[1]
    paths = [(line, line.split()[1].split("?")[0].split("%3F")[0]) for line in lines]
    return [line for line, path in paths if path.split("/")[3:4] == [name]]


def test_small_put_sends_its_digests_in_the_put_and_is_never_read_back(gw, swift_store, caplog):
    with fresh_container(gw) as box:
        before = len(proxy_lines(swift_store))
        assert gw.put(box + "small.bin", SMALL).status == 201
        upload = in_container(proxy_lines(swift_store)[before:], box)
        listing = gw.request("PROPFIND", box + "small.bin", CHECKSUMS, headers={"Depth": "0"})
        reply = gw.request("HEAD", box + "small.bin", headers={"Want-Digest": "ADLER32,SHA1"})
        after = proxy_lines(swift_store)[before + len(upload) :]
    text = oc_checksum_text(listing.body, box + "small.bin")
    assert f"SHA1:{hashlib.sha1(SMALL).hexdigest()}" in text
    assert f"ADLER32:{zlib.adler32(SMALL):08x}" in text
    assert f"MD5:{hashlib.md5(SMALL).hexdigest()}" in text
    assert f"ADLER32={zlib.adler32(SMALL):08x}" in (reply.header("Digest") or "")
    assert len(object_calls(upload, "PUT")) == 1 and len(upload) <= 3, upload
    assert not object_calls(upload + after, "POST", "GET"), upload + after
    assert "by reading it" not in caplog.text
