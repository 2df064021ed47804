"""HTTP third-party copy between two gateways (``a`` and ``b``) over the real iRODS zone and
Swift, with raw HTTP and curl: pull (``COPY`` + ``Source``), push (``COPY`` + remote
``Destination``), the perf-marker stream, checksum verification, failures that leave nothing
behind, and COPY/MOVE between the two shares of one gateway."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import re
import subprocess
import threading
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from localgrid.pki import create_demo_pki
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.grid import grid_config
from tests.helpers.irods_gateway import ALICE

DATA = os.urandom((9 << 20) + 777)  # several pieces, and several Swift segments
ADLER = f"{zlib.adler32(DATA):08x}"
MARKER = re.compile(
    rb"Perf Marker\n\tTimestamp: \d+\n\tStripe Index: 0\n\tStripe Bytes Transferred: (\d+)\n"
    rb"\tTotal Stripe Count: 1\nEnd\n"
)
SHARES = ["/irods/alice", "/swift/tpc"]


def basic(user: tuple[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()


def url(gw: Gateway, path: str) -> str:
    return f"http://127.0.0.1:{gw.port}{path}"


def name() -> str:
    return f"tpc-{uuid.uuid4().hex[:8]}.bin"


def outcome(body: bytes) -> tuple[list[int], str]:
    """The bytes of each marker and the last line of a perf-marker stream."""
    moved = [int(m) for m in MARKER.findall(body)]
    rest = MARKER.sub(b"", body).decode()
    return moved, rest.strip()


def remote_auth(gw: Gateway) -> dict[str, str]:
    return {"Credential": "none", "TransferHeaderAuthorization": basic(ALICE)}


@pytest.mark.parametrize(("source_share", "target_share"), [SHARES, SHARES[::-1]])
def test_pull_between_gateways_streams_the_file_whole_and_verified(
    a, b, source_share, target_share
):
    source, target = f"{source_share}/{name()}", f"{target_share}/{name()}"
    assert a.put(source, DATA).status == 201
    headers = {"Source": url(a, source), "RequireChecksumVerification": "true", **remote_auth(a)}
    reply = b.request("COPY", target, headers=headers)
    assert reply.status == 202
    assert reply.header("Content-Type") == "text/perf-marker-stream"
    moved, last = outcome(reply.body)
    assert last == "success: Created", reply.body[-300:]
    assert moved[0] == 0 and moved[-1] == len(DATA)
    assert b.get(target).body == DATA
    digest = b.request("HEAD", target, headers={"Want-Digest": "ADLER32"}).header("Digest")
    assert digest == f"ADLER32={ADLER}"


@pytest.mark.parametrize(("source_share", "target_share"), [SHARES, SHARES[::-1]])
def test_push_between_gateways_with_curl(a, b, source_share, target_share):
    curl = require_tool("curl")
    source, target = f"{source_share}/{name()}", f"{target_share}/{name()}"
    assert a.put(source, DATA).status == 201
    run = subprocess.run(
        [curl, "-sS", "-X", "COPY", "-u", "alice:alice", "-w", "\n%{http_code}",
         "-H", f"Destination: {url(b, target)}", "-H", "Credential: none",
         "-H", f"TransferHeaderAuthorization: {basic(ALICE)}", url(a, source)],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    body, _, status = run.stdout.rpartition(b"\n")
    assert status == b"202"
    assert outcome(body + b"\n")[1] == "success: Created", body[-300:]
    assert b.get(target).body == DATA


def test_markers_come_while_the_copy_runs(a, b):
    source, target = f"/irods/alice/{name()}", f"/swift/tpc/{name()}"
    big = os.urandom(40 << 20)
    assert a.put(source, big).status == 201
    reply = b.request("COPY", target, headers={"Source": url(a, source), **remote_auth(a)})
    moved, last = outcome(reply.body)
    assert last == "success: Created"
    assert len(moved) >= 2 and moved == sorted(moved) and moved[-1] == len(big)


def test_failing_source_gives_failure_and_nothing_at_the_destination(a, b):
    target = f"/swift/tpc/{name()}"
    missing = {"Source": url(a, "/irods/alice/absent.bin"), **remote_auth(a)}
    reply = b.request("COPY", target, headers=missing)
    assert reply.status == 202
    assert outcome(reply.body)[1] == "failure: source answered 404 Not Found"
    assert b.get(target).status == 404
    refused = {"Source": url(a, "/irods/alice/notes.txt"), "Credential": "none"}  # no auth
    reply = b.request("COPY", target, headers=refused)
    assert outcome(reply.body)[1].startswith("failure: source answered 401")
    assert b.get(target).status == 404


class FaultySource(http.server.BaseHTTPRequestHandler):
    """A source that lies: ``/short`` sends half its announced length, ``/wrong`` a
    wrong ADLER32, ``/plain`` no digest at all."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = DATA[: 1 << 20]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) * (2 if self.path == "/short" else 1)))
        if self.path == "/wrong":
            self.send_header("Digest", "adler32=00000001")
        elif self.path == "/short":
            self.send_header("Digest", f"adler32={zlib.adler32(body):08x}")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def faulty() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultySource)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.mark.parametrize("share", ["/irods/alice", "/swift/tpc"])
@pytest.mark.parametrize(
    ("path", "verify", "reason"),
    [
        ("/short", "false", "failure: the source sent 1048576 of 2097152 bytes"),
        ("/wrong", "false", "failure: 400 source Digest adler32 mismatch"),
        ("/plain", "true", "failure: the source offers no checksum to verify the copy against"),
    ],
)
def test_a_lying_source_leaves_nothing(b, faulty, share, path, verify, reason):
    target = f"{share}/{name()}"
    headers = {"Source": faulty + path, "Credential": "none"}
    reply = b.request("COPY", target, headers={**headers, "RequireChecksumVerification": verify})
    assert outcome(reply.body)[1].startswith(reason), reply.body[-300:]
    assert b.get(target).status == 404


def test_unverified_source_without_digest_is_copied(b, faulty):
    target = f"/irods/alice/{name()}"
    reply = b.request("COPY", target, headers={"Source": faulty + "/plain"})
    assert outcome(reply.body)[1] == "success: Created"
    assert b.get(target).body == DATA[: 1 << 20]


def test_overwrite_f_and_gridsite_are_refused_before_anything_moves(a, b):
    source, target = f"/irods/alice/{name()}", f"/swift/tpc/{name()}"
    a.put(source, b"new")
    b.put(target, b"old")
    headers = {"Source": url(a, source), "Overwrite": "F", **remote_auth(a)}
    assert b.request("COPY", target, headers=headers).status == 412
    gridsite = {**headers, "Overwrite": "T", "Credential": "gridsite"}
    reply = b.request("COPY", target, headers=gridsite)
    assert reply.status == 501 and b"delegation" in reply.body
    assert b.get(target).body == b"old"
    bad = b.request("COPY", target, headers={"Source": "ftp://example.org/x"})
    assert bad.status == 400


def test_https_source_not_trusted_fails(b):
    reply = b.request("COPY", f"/irods/alice/{name()}", headers={"Source": "https://127.0.0.1:1/x"})
    assert outcome(reply.body)[1].startswith("failure: source unreachable")


@pytest.mark.parametrize(("source_share", "target_share"), [SHARES, SHARES[::-1]])
def test_copy_and_move_between_two_shares_of_one_gateway(a, source_share, target_share):
    source, copied, moved = (f"{source_share}/{name()}", f"{target_share}/{name()}",
                             f"{target_share}/{name()}")  # fmt: skip
    assert a.put(source, DATA).status == 201
    assert a.request("COPY", source, headers={"Destination": url(a, copied)}).status == 201
    assert a.get(copied).body == DATA
    assert a.request("COPY", source, headers={"Destination": copied}).status == 204
    refused = a.request("COPY", source, headers={"Destination": copied, "Overwrite": "F"})
    assert refused.status == 412
    assert a.request("MOVE", source, headers={"Destination": moved}).status == 201
    assert a.get(moved).body == DATA and a.get(source).status == 404
    digest = a.request("HEAD", moved, headers={"Want-Digest": "md5"}).header("Digest")
    assert digest == "md5=" + base64.b64encode(hashlib.md5(DATA).digest()).decode()


@pytest.fixture(scope="module")
def tls_source(zone, swift, tmp_path_factory) -> Iterator[tuple[Gateway, Path]]:
    """A gateway answering HTTPS with the demo PKI's server certificate, and its CA."""
    pki = create_demo_pki(tmp_path_factory.mktemp("pki"))
    config = grid_config(zone, swift)
    config["tls"] = {"certificate": str(pki.server_cert), "key": str(pki.server_key)}
    with running_gateway(config) as gateway:
        yield gateway, pki.ca


def test_https_source_is_verified_with_the_configured_ca(a, zone, swift, tls_source):
    source_gw, ca = tls_source
    source = f"/irods/alice/{name()}"
    assert a.put(source, DATA).status == 201
    headers = {"Source": f"https://127.0.0.1:{source_gw.port}{source}", **remote_auth(a)}
    target = f"/swift/tpc/{name()}"
    untrusting = a.request("COPY", target, headers=headers)  # the system's CAs only
    assert outcome(untrusting.body)[1].startswith("failure: source unreachable: certificate")
    config = grid_config(zone, swift)
    config["tpc"]["ca_file"] = str(ca)
    with running_gateway(config) as trusting:
        trusting.user = ALICE
        reply = trusting.request("COPY", target, headers=headers)
        assert outcome(reply.body)[1] == "success: Created", reply.body[-300:]
        assert trusting.get(target).body == DATA


@pytest.mark.parametrize(("source_share", "target_share"), [SHARES, SHARES[::-1]])
def test_folders_copy_and_move_between_two_shares(a, source_share, target_share):
    folder = f"{source_share}/d-{uuid.uuid4().hex[:8]}"
    for part in ("", "/sub"):
        assert a.request("MKCOL", folder + part + "/").status == 201
    files = {"/x.bin": DATA[:5000], "/sub/y.bin": DATA[5000:9000]}
    for rel, body in files.items():
        assert a.put(folder + rel, body).status == 201
    copied, moved = f"{target_share}/{name()}", f"{target_share}/{name()}"
    shallow = a.request("COPY", folder + "/", headers={"Destination": copied, "Depth": "0"})
    assert shallow.status == 201 and a.get(copied + "/x.bin").status == 404
    deep = a.request("COPY", folder + "/", headers={"Destination": copied})
    assert deep.status == 204
    assert a.request("MOVE", folder + "/", headers={"Destination": moved}).status == 201
    for rel, body in files.items():
        assert a.get(copied + rel).body == body and a.get(moved + rel).body == body
    assert a.request("PROPFIND", folder + "/", headers={"Depth": "0"}).status == 404
