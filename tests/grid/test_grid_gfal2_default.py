"""gfal2 with its DEFAULT configuration (Debian's python3-gfal2 + gfal2-plugin-http, a proxy
made by Globus ``grid-proxy-init``) copying between two HTTPS gateways that both mint
tokens, as a grid user's ``gfal-copy`` does: gfal2 POSTs a macaroon request to each end
with its certificate, then sends ``COPY`` with the destination's token in
``Authorization`` and the source's in ``TransferHeaderAuthorization`` (``Credential:
none``). The bytes move gateway to gateway: the streamed fallback is never tried (and is
switched off in one variant), and each gateway's JSON access log shows the ``COPY`` and
the remote ``GET`` (pull) or ``PUT`` (push) accepted by a bearer token, whose value is in
no log.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import uuid
import zlib
from collections.abc import Iterator

import pytest

from localgrid.irods import LocalZone
from localgrid.pki import DemoPKI
from localgrid.swift import LocalSwift
from tests.helpers.grid import SYSTEM_PYTHON
from tests.helpers.gridtls import grid_tls_config, proxy_env
from tests.helpers.serve_process import GatewayProcess, start_process
from tests.helpers.tlsgw import Reply, https

DATA = os.urandom((8 << 20) + 333)
ADLER = f"{zlib.adler32(DATA):08x}"
BASIC = {"Authorization": "Basic " + base64.b64encode(b"alice:alice").decode()}
JWT_START = "eyJ"  # every JWT (the gateway's tokens) starts so: none may reach a log

COPY = r"""
import json, sys
import gfal2
source, destination, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ctx = gfal2.creat_context()
for name, value in options.items():  # nothing in the default variant
    if isinstance(value, bool):
        ctx.set_opt_boolean("HTTP PLUGIN", name, value)
    else:
        ctx.set_opt_string("HTTP PLUGIN", name, value)
params = ctx.transfer_parameters()
params.timeout = 120
params.set_checksum(gfal2.checksum_mode.both, "ADLER32", "")
events = []
params.event_callback = lambda e: events.append("%s %s" % (e.stage, e.description))
outcome = {"ok": True, "error": ""}
try:
    ctx.filecopy(params, source, destination)
    outcome["sums"] = [ctx.checksum(source, "ADLER32"), ctx.checksum(destination, "ADLER32")]
except gfal2.GError as exc:
    outcome = {"ok": False, "error": str(exc)}
outcome["types"] = [e.split(" ", 1)[1] for e in events if e.startswith("TRANSFER:TYPE")]
print(json.dumps(outcome))
"""


def _start(zone, swift, demo, tmp_path_factory, name: str) -> GatewayProcess:
    folder = tmp_path_factory.mktemp(name)
    config = grid_tls_config(zone, swift, demo, folder)
    access = {"access_log": True, "access_format": "json", "access_file": str(folder / "access")}
    config["logging"] = {"level": "info", **access}
    return start_process(config, folder)


@pytest.fixture(scope="module")
def ends(
    zone: LocalZone, swift: LocalSwift, demo: DemoPKI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    """Two gateways, each with a token key of its own."""
    source = _start(zone, swift, demo, tmp_path_factory, "gfal2-source")
    try:
        destination = _start(zone, swift, demo, tmp_path_factory, "gfal2-destination")
        try:
            reply = call(demo, source, "MKCOL", "/swift/tpc/")
            assert reply.status in (201, 405), reply
            yield source, destination
        finally:
            destination.stop()
    finally:
        source.stop()


def call(
    demo: DemoPKI, gw: GatewayProcess, method: str, path: str, body: bytes | None = None
) -> Reply:
    context = ssl.create_default_context(cafile=str(demo.ca))
    return https(gw.port, context, method, path, body, BASIC)


def access(gw: GatewayProcess) -> list[dict]:
    lines = (gw.log_path.parent / "access").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def seen(gw: GatewayProcess, method: str, path: str) -> list[dict]:
    return [r for r in access(gw) if r["method"] == method and r["path"] == path]


def copy(demo, proxy, source: str, target: str, **options: bool | str) -> dict:
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", COPY, source, target, json.dumps(options)],
        capture_output=True, text=True, timeout=300, env=proxy_env(demo, proxy),
    )  # fmt: skip
    assert run.returncode == 0 and run.stdout.strip(), run.stderr[-3000:]
    result: dict = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def no_token_logged(*gateways: GatewayProcess) -> None:
    for gw in gateways:
        assert JWT_START not in gw.log(), gw.log_tail()
        assert JWT_START not in (gw.log_path.parent / "access").read_text()


@pytest.mark.parametrize(
    ("source_share", "target_share"),
    [("/irods/alice", "/swift/tpc"), ("/swift/tpc", "/irods/alice")],
)
def test_default_gfal2_copy_pulls_gateway_to_gateway_with_minted_tokens(
    demo, proxy, ends, source_share, target_share
):
    one, two = ends
    source, target = (
        f"{source_share}/{uuid.uuid4().hex[:8]}.bin",
        f"{target_share}/{uuid.uuid4().hex[:8]}.bin",
    )
    assert call(demo, one, "PUT", source, DATA).status == 201
    result = copy(
        demo, proxy, f"davs://127.0.0.1:{one.port}{source}", f"davs://127.0.0.1:{two.port}{target}"
    )
    assert result["ok"], result
    assert result["types"] == ["3rd pull"]  # no fallback: the gateway pulled
    assert result["sums"] == [ADLER, ADLER]
    assert call(demo, two, "GET", target).body == DATA
    # gfal2 asked each end for a token with its certificate, then used only the tokens
    assert {r["auth"] for r in seen(one, "POST", source)} == {"x509"}
    assert {r["auth"] for r in seen(two, "POST", target)} == {"x509"}
    [copied] = seen(two, "COPY", target)
    assert (copied["status"], copied["auth"]) == ("202", "bearer")
    [pulled] = seen(one, "GET", source)  # the destination gateway's GET, with the token
    assert (pulled["status"], pulled["auth"], pulled["bytes_out"]) == ("200", "bearer", len(DATA))
    no_token_logged(one, two)


@pytest.mark.parametrize("mode", ["3rd pull", "3rd push"])
def test_copy_with_the_fallback_switched_off(demo, proxy, ends, mode):
    one, two = ends
    source, target = (
        f"/irods/alice/{uuid.uuid4().hex[:8]}.bin",
        f"/swift/tpc/{uuid.uuid4().hex[:8]}.bin",
    )
    assert call(demo, one, "PUT", source, DATA).status == 201
    result = copy(
        demo, proxy, f"davs://127.0.0.1:{one.port}{source}", f"davs://127.0.0.1:{two.port}{target}",
        ENABLE_FALLBACK_TPC_COPY=False, DEFAULT_COPY_MODE=mode,
    )  # fmt: skip
    assert result["ok"], result
    assert result["types"] == [mode]
    assert result["sums"] == [ADLER, ADLER]
    assert call(demo, two, "GET", target).body == DATA
    if mode == "3rd pull":
        [moved] = seen(one, "GET", source)
        assert (moved["auth"], moved["bytes_out"]) == ("bearer", len(DATA))
        [copied] = seen(two, "COPY", target)
    else:
        [moved] = seen(two, "PUT", target)  # the source gateway's PUT, with the token
        assert (moved["status"], moved["auth"], moved["bytes_in"]) == ("201", "bearer", len(DATA))
        [copied] = seen(one, "COPY", source)
    assert (copied["status"], copied["auth"]) == ("202", "bearer")
    no_token_logged(one, two)
