"""The gateway (cheroot, WsgiDAV, our resources) serving a ``/swift`` share over the real
Swift: every verb over HTTP, uploads cut short, SLOs with ranges, and litmus."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest

from davprovider.server.app import build_app
from davprovider.server.http import GatewayServer
from davprovider.settings import settings_from_mapping
from localgrid.swift import LocalSwift
from tests.helpers.external_tools import require_tool
from tests.helpers.litmus_run import assert_litmus_passes
from tests.helpers.swift_helpers import MiB, names

ALICE = ("alice", "alice")  # tempauth alice:alice, key alice


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    host: str
    port: int

    def request(
        self, method: str, path: str, body: bytes | None = None, user=ALICE, **headers: str
    ) -> Reply:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        if user is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(":".join(user).encode()).decode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=sent)
            reply = conn.getresponse()
            return Reply(reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def gateway(swift_store: LocalSwift) -> Iterator[Gateway]:
    config = {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 10},
        "logging": {"access_log": False},
        "shares": [{
            "path": "/swift", "backend": "swift",
            "options": {
                "auth_url": swift_store.auth_url, "user_template": "{user}:{user}",
                "segment_size": MiB,
            },
        }],
    }  # fmt: skip
    settings = settings_from_mapping(config, source="<test>")
    server = GatewayServer(settings, build_app(settings))
    host, port = server.start_in_thread()
    try:
        yield Gateway(host, port)
    finally:
        server.stop()


@pytest.fixture
def box(gateway: Gateway) -> Iterator[str]:
    """A fresh container in alice's account, made with MKCOL: ``/swift/<name>``."""
    path = f"/swift/box-{uuid.uuid4().hex[:8]}"
    assert gateway.request("MKCOL", path + "/").status == 201
    yield path
    gateway.request("DELETE", path + "/")


def hrefs(body: bytes) -> list[str]:
    return [h.text or "" for h in ElementTree.fromstring(body).iter("{DAV:}href")]


def test_every_verb_on_the_swift_share(gateway, box):
    assert gateway.request("PUT", f"{box}/a.txt", b"hello").status == 201
    assert gateway.request("PUT", f"{box}/a.txt", b"hello again").status == 204
    assert gateway.request("GET", f"{box}/a.txt").body == b"hello again"
    assert gateway.request("MKCOL", f"{box}/docs/").status == 201
    assert gateway.request("MKCOL", f"{box}/docs/").status == 405
    assert gateway.request("MKCOL", f"{box}/nope/deeper/").status == 409
    listing = gateway.request("PROPFIND", f"{box}/", Depth="1")
    assert listing.status == 207
    assert sorted(hrefs(listing.body)) == [f"{box}/", f"{box}/a.txt", f"{box}/docs/"]
    top = gateway.request("PROPFIND", "/swift/", Depth="1")
    assert f"{box}/" in hrefs(top.body) and not any("_segments" in h for h in hrefs(top.body))
    patch = (
        b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">'
        b"<D:set><D:prop><Z:colour>blue &amp; green</Z:colour></D:prop></D:set>"
        b"</D:propertyupdate>"
    )
    assert gateway.request("PROPPATCH", f"{box}/a.txt", patch).status == 207
    asked = (
        b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:z">'
        b"<D:prop><Z:colour/></D:prop></D:propfind>"
    )
    found = gateway.request("PROPFIND", f"{box}/a.txt", asked, Depth="0")
    assert b"blue &amp; green" in found.body
    dest = f"http://{gateway.host}:{gateway.port}{box}/docs/b.txt"
    assert gateway.request("COPY", f"{box}/a.txt", Destination=dest).status == 201
    moved = f"http://{gateway.host}:{gateway.port}{box}/moved/"
    assert gateway.request("MOVE", f"{box}/docs/", Destination=moved).status == 201
    copied = gateway.request("PROPFIND", f"{box}/moved/b.txt", asked, Depth="0")
    assert b"blue &amp; green" in copied.body
    ranged = gateway.request("GET", f"{box}/moved/b.txt", Range="bytes=6-10")
    assert (ranged.status, ranged.body) == (206, b"again")
    assert gateway.request("DELETE", f"{box}/moved/").status == 204
    assert gateway.request("GET", f"{box}/moved/b.txt").status == 404


def test_a_wrong_password_is_a_401(gateway):
    reply = gateway.request("PROPFIND", "/swift/", user=("alice", "wrong"), Depth="0")
    assert reply.status == 401
    assert gateway.request("PROPFIND", "/swift/", user=None, Depth="0").status == 401


def test_a_large_put_is_an_slo_with_ranges_across_segments(gateway, box, swift_store):
    from swiftclient.client import Connection

    body = os.urandom(3 * MiB + MiB // 2)
    assert gateway.request("PUT", f"{box}/big.bin", body).status == 201
    start = MiB - 100
    reply = gateway.request("GET", f"{box}/big.bin", Range=f"bytes={start}-{start + 2 * MiB}")
    assert reply.status == 206 and reply.body == body[start : start + 2 * MiB + 1]
    conn = Connection(swift_store.auth_url, "alice:alice", "alice", retries=0)
    container = box.rsplit("/", 1)[1]
    assert len(names(conn, container + "_segments")) == 4
    assert gateway.request("DELETE", f"{box}/big.bin").status == 204
    assert names(conn, container + "_segments") == []


def test_a_put_cut_short_leaves_the_old_object(gateway, box):
    assert gateway.request("PUT", f"{box}/f.bin", b"old content").status == 201
    auth = base64.b64encode(b"alice:alice").decode()
    for length in (10 * MiB, 512 * 1024):  # an SLO upload and a single PUT
        sock = socket.create_connection((gateway.host, gateway.port), timeout=30)
        head = (
            f"PUT {box}/f.bin HTTP/1.1\r\nHost: test\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"x" * (length * 3 // 4))
        sock.shutdown(socket.SHUT_WR)  # the client gives up
        status = sock.recv(4096).split(b"\r\n", 1)[0]
        sock.close()
        assert status.startswith(b"HTTP/1.1 400"), status
        assert gateway.request("GET", f"{box}/f.bin").body == b"old content"


def test_litmus_passes_every_suite_on_the_swift_share(gateway, box, tmp_path):
    require_tool("litmus")
    url = f"http://{gateway.host}:{gateway.port}{box}/"
    assert_litmus_passes(["-k", url, *ALICE], tmp_path)
