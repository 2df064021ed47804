"""``temp_url_redirect``: GET on the swift share answered with 307 to a Swift temp URL,
followed by curl -L, refused by Swift once it expired; HEAD, digest requests and
accounts without a temp URL key are served by the gateway."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from localgrid.swift import LocalSwift
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway
from tests.helpers.swift_gateway import BOB, fresh_container, redirecting_gateway

SECONDS = 2  # temp_url_seconds of the redirecting share
BODY = b"0123456789" * 1000


@pytest.fixture(scope="module")
def gw(swift_store: LocalSwift) -> Iterator[Gateway]:
    """alice's account gets a temp URL key (bob's has none)."""
    clients = ["^$", "^curl/", "^rclone/"]  # the tests' own client sends no User-Agent
    options = {"temp_url_seconds": SECONDS, "temp_url_clients": clients}
    with redirecting_gateway(swift_store, **options) as gateway:
        yield gateway


@pytest.fixture
def box(gw: Gateway) -> Iterator[str]:
    with fresh_container(gw) as path:
        assert gw.put(path + "f.txt", BODY).status == 201
        yield path


def curl(gw: Gateway, path: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    url = f"http://{gw.host}:{gw.port}{path}"
    command = [require_tool("curl"), "-sS", "-u", "alice:alice", *args, url]
    return subprocess.run(command, capture_output=True, timeout=60, check=False)


def test_get_without_l_sees_307_and_a_location_on_swift(gw, box, swift_store):
    run = curl(gw, box + "f.txt", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}")
    status, location = run.stdout.decode().split(" ", 1)
    assert status == "307"
    assert urlsplit(location).netloc == urlsplit(swift_store.url).netloc
    assert "temp_url_sig=" in location and "temp_url_expires=" in location


def test_curl_l_follows_to_the_content_and_ranges_work(gw, box):
    assert curl(gw, box + "f.txt", "-L").stdout == BODY
    assert curl(gw, box + "f.txt", "-L", "-r", "10-19").stdout == BODY[10:20]


def test_the_temp_url_expires(gw, box):
    reply = gw.get(box + "f.txt")
    assert reply.status == 307
    location = reply.header("Location")
    assert reply.header("Cache-Control") == "no-store"
    fetch = [require_tool("curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}", location]
    assert subprocess.run(fetch, capture_output=True, timeout=30).stdout == b"200"
    time.sleep(SECONDS + 1.5)
    assert subprocess.run(fetch, capture_output=True, timeout=30).stdout == b"401"
    assert gw.get(box + "f.txt").status == 307  # a new GET gets a new URL
    assert curl(gw, box + "f.txt", "-L").stdout == BODY


def test_head_digests_and_collections_are_served_by_the_gateway(gw, box):
    head = gw.request("HEAD", box + "f.txt")
    assert head.status == 200 and head.header("Content-Length") == str(len(BODY))
    digest = gw.get(box + "f.txt", headers={"Want-Digest": "md5"})
    assert digest.status == 200 and digest.body == BODY and digest.header("Digest")
    assert gw.get(box).status != 307


def test_a_conditional_get_is_answered_by_the_gateway_first(gw, box):
    etag = gw.request("HEAD", box + "f.txt").header("ETag")
    assert gw.get(box + "f.txt", headers={"If-None-Match": etag}).status == 304
    assert gw.get(box + "f.txt", headers={"If-Match": '"nope"'}).status == 412


def test_an_account_without_a_temp_url_key_is_served_by_the_gateway(gw, swift_store):
    path = f"/swift/b-{uuid.uuid4().hex[:8]}/"
    assert gw.request("MKCOL", path, user=BOB).status == 201
    try:
        assert gw.put(path + "f.txt", BODY, user=BOB).status == 201
        reply = gw.get(path + "f.txt", user=BOB)
        assert (reply.status, reply.body) == (200, BODY)
    finally:
        gw.request("DELETE", path, user=BOB)


def test_rclone_follows_the_redirect(gw, box):
    rclone = require_tool("rclone")
    obscured = subprocess.run([rclone, "obscure", "alice"], capture_output=True, text=True)
    remote = [
        "--webdav-url", f"http://{gw.host}:{gw.port}/swift", "--webdav-vendor", "owncloud",
        "--webdav-user", "alice", "--webdav-pass", obscured.stdout.strip(),
        "--config", "/dev/null", "--dump", "headers",
    ]  # fmt: skip
    run = subprocess.run(
        [rclone, "cat", f":webdav:{box.removeprefix('/swift/')}f.txt", *remote],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout == BODY
    assert b"307 Temporary Redirect" in run.stderr
