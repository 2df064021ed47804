"""Short-lived Swift URLs, gLibrary-style: GET and PUT of redirect-following clients
(curl, davix, gfal2) answered 307 to a Swift temp URL bound to the client's address; a PUT
only with ``Expect: 100-continue`` (the 307 comes before any body byte); davfs2-like
clients and PUTs without Expect are served through the gateway; no signature reaches
the gateway's log."""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from davprovider.swift import Options
from localgrid.swift import LocalSwift
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway
from tests.helpers.grid import SYSTEM_PYTHON, require_gfal2
from tests.helpers.raw_http import put_head, raw_request, read_status
from tests.helpers.swift_gateway import (
    connect,
    container_of,
    fresh_container,
    redirecting_gateway,
)

BODY = bytes(range(256)) * 400  # 100 KiB, below the gateway's 1 MiB segment size
ALICE_BASIC = "Authorization: Basic YWxpY2U6YWxpY2U="
OTHER = "127.0.0.2"  # another loopback address: the client as seen from elsewhere


@pytest.fixture(scope="module")
def gw(swift_store: LocalSwift) -> Iterator[Gateway]:
    with redirecting_gateway(swift_store, temp_url_seconds=5) as gateway:
        yield gateway


@pytest.fixture
def box(gw: Gateway) -> Iterator[str]:
    with fresh_container(gw) as path:
        assert gw.put(path + "f.bin", BODY).status == 201
        yield path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(BODY[::-1])
    return path


def url(gw: Gateway, path: str) -> str:
    return f"http://{gw.host}:{gw.port}{path}"


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    command = [require_tool("curl"), "-sS", *args]
    return subprocess.run(command, capture_output=True, timeout=60, check=False)


def stored(swift_store: LocalSwift, box: str, name: str) -> bytes:
    conn = connect(swift_store)
    try:
        return bytes(conn.get_object(container_of(box), name)[1])
    finally:
        conn.close()


def test_the_default_clients_are_davix_gfal2_and_curl():
    options = Options()
    for agent in ("libdavix/0.8.4 neon/0.0.29", "gfal2/2.21.3 neon/0.0.29", "curl/8.14.1"):
        assert any(re.search(p, agent) for p in options.temp_url_clients)
    assert options.temp_url_seconds <= 60 and options.temp_url_bind_ip


def test_curl_get_is_redirected_to_a_url_bound_to_its_address(gw, box, swift_store):
    run = curl("-u", "alice:alice", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
               url(gw, box + "f.bin"))  # fmt: skip
    status, location = run.stdout.decode().split(" ", 1)
    assert status == "307"
    assert urlsplit(location).netloc == urlsplit(swift_store.url).netloc
    assert parse_qs(urlsplit(location).query)["temp_url_ip_range"] == ["127.0.0.1"]
    assert curl("-L", "-u", "alice:alice", url(gw, box + "f.bin")).stdout == BODY


def test_curl_put_with_expect_is_redirected_and_lands_in_swift(gw, box, source, swift_store):
    run = curl("-u", "alice:alice", "-H", "Expect: 100-continue", "-T", str(source),
               "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
               url(gw, box + "up.bin"))  # fmt: skip
    status, location = run.stdout.decode().split(" ", 1)
    assert status == "307" and "temp_url_sig=" in location
    assert gw.request("HEAD", box + "up.bin").status == 404  # the body went nowhere
    for follow in ("-L", "--location-trusted"):
        run = curl(follow, "-u", "alice:alice", "-H", "Expect: 100-continue", "-T",
                   str(source), "-w", "%{http_code}", url(gw, box + "up.bin"))  # fmt: skip
        assert run.stdout.endswith(b"201"), run
        assert stored(swift_store, box, "up.bin") == source.read_bytes()
        assert gw.get(box + "up.bin").body == source.read_bytes()


def test_a_put_without_expect_streams_through_the_gateway(gw, box):
    head = put_head(box + "plain.bin", "User-Agent: curl/8.0", ALICE_BASIC,
                    f"Content-Length: {len(BODY)}")  # fmt: skip
    with raw_request(gw, head) as sock:
        sock.sendall(BODY)
        assert read_status(sock)[0].startswith("HTTP/1.1 201")
    assert gw.get(box + "plain.bin").body == BODY


def test_a_redirected_put_reads_no_body_byte(gw, box):
    head = put_head(box + "held.bin", "User-Agent: curl/8.0", ALICE_BASIC,
                    "Expect: 100-continue", f"Content-Length: {len(BODY)}")  # fmt: skip
    with raw_request(gw, head) as sock:  # no body byte is ever sent
        status, whole = read_status(sock)
    assert status.startswith("HTTP/1.1 307"), whole
    assert "100 Continue" not in whole and "Connection: close" in whole


def test_puts_the_gateway_must_see_are_not_redirected(gw, box, source):
    for extra in (["-H", "X-OC-Mtime: 1700000000"], ["-H", "If-None-Match: *"]):
        run = curl("-u", "alice:alice", "-H", "Expect: 100-continue", *extra, "-T",
                   str(source), "-w", "%{http_code}", url(gw, box + "g.bin"))  # fmt: skip
        assert run.stdout.endswith((b"201", b"204")), run
        gw.request("DELETE", box + "g.bin")


def test_davfs2_and_windows_are_never_redirected(gw, box, source):
    for agent in ("davfs2/1.7.0 neon/0.34.0", "Microsoft-WebDAV-MiniRedir/10.0.19045"):
        reply = gw.get(box + "f.bin", headers={"User-Agent": agent})
        assert (reply.status, reply.body) == (200, BODY)
        run = curl("-A", agent, "-u", "alice:alice", "-H", "Expect: 100-continue", "-T",
                   str(source), "-w", "%{http_code}", url(gw, box + "d.bin"))  # fmt: skip
        assert run.stdout.endswith((b"201", b"204")), run


def test_a_temp_url_is_refused_from_another_address(gw, box, source):
    run = curl("--interface", OTHER, "-u", "alice:alice", "-o", "/dev/null",
               "-w", "%{http_code} %{redirect_url}", url(gw, box + "f.bin"))  # fmt: skip
    status, location = run.stdout.decode().split(" ", 1)
    assert status == "307"
    assert parse_qs(urlsplit(location).query)["temp_url_ip_range"] == [OTHER]
    elsewhere = curl("-o", "/dev/null", "-w", "%{http_code}", location)
    assert elsewhere.stdout == b"401"
    same = curl("--interface", OTHER, "-o", "/dev/null", "-w", "%{http_code}", location)
    assert same.stdout == b"200"
    put = curl("--interface", OTHER, "-u", "alice:alice", "-H", "Expect: 100-continue",
               "-T", str(source), "-o", "/dev/null", "-w", "%{redirect_url}",
               url(gw, box + "x.bin"))  # fmt: skip
    refused = curl("-T", str(source), "-o", "/dev/null", "-w", "%{http_code}",
                   put.stdout.decode())  # fmt: skip
    assert refused.stdout == b"401"


def test_davix_get_and_put_follow_the_redirect(gw, box, source, tmp_path, swift_store):
    davix_get, davix_put = require_tool("davix-get"), require_tool("davix-put")
    login = ["-H", ALICE_BASIC]  # sent to every hop, as curl's --location-trusted
    target = tmp_path / "got.bin"
    run = subprocess.run([davix_get, *login, "--trace", "header", url(gw, box + "f.bin"),
                          str(target)], capture_output=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert target.read_bytes() == BODY and b"307" in run.stderr
    run = subprocess.run([davix_put, *login, "--trace", "header", str(source),
                          url(gw, box + "davix.bin")], capture_output=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert b"307" in run.stderr
    assert stored(swift_store, box, "davix.bin") == source.read_bytes()


def test_no_signature_reaches_the_gateway_log(gw, box, source, caplog):
    caplog.set_level(logging.DEBUG)
    assert gw.get(box + "f.bin", headers={"User-Agent": "curl/8.0"}).status == 307
    run = curl("-L", "-u", "alice:alice", "-H", "Expect: 100-continue", "-T", str(source),
               url(gw, box + "logged.bin"))  # fmt: skip
    assert run.returncode == 0
    assert "redirected to the backend" in caplog.text
    assert "temp_url_sig" not in caplog.text and "temp_url" not in caplog.text.lower()


GFAL2_SCRIPT = """
import gfal2, sys
ctx = gfal2.creat_context()
ctx.set_opt_string_list("HTTP PLUGIN", "HEADERS", ["Authorization: " + sys.argv[3]])
reader = ctx.open(sys.argv[1], "r")
got = reader.read_bytes(1 << 20)
sys.stdout.buffer.write(got)
out = ctx.open(sys.argv[2], "w")
out.write(got[::-1])
del out
"""


def test_gfal2_get_and_put_follow_the_redirect(gw, box, swift_store, caplog):
    require_gfal2()
    python = SYSTEM_PYTHON  # Debian's, with python3-gfal2
    caplog.set_level(logging.INFO, logger="davprovider.dav.redirect")
    caplog.set_level(logging.INFO, logger="davprovider.dav.resources")
    basic = ALICE_BASIC.split(": ", 1)[1]
    run = subprocess.run(
        [python, "-c", GFAL2_SCRIPT, url(gw, box + "f.bin"), url(gw, box + "gfal.bin"), basic],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert run.stdout == BODY
    assert stored(swift_store, box, "gfal.bin") == BODY[::-1]
    folder = box.removeprefix("/swift")  # the share's own paths
    assert f"GET {folder}f.bin redirected" in caplog.text
    assert f"PUT {folder}gfal.bin redirected" in caplog.text
