"""``serve --workers 2`` over HTTPS: SIGHUP to the parent reloads every worker (a CRL
revoking alice applies to new connections, whichever worker takes them)."""

from __future__ import annotations

import os
import signal
import ssl
import time

import pytest

from localgrid import pki
from tests.helpers.tlsgw import client_context, https, memory_tls_config, start_process


def test_sighup_to_the_parent_reloads_every_worker(test_pki, tmp_path):
    crl = tmp_path / "crl.pem"
    crl.write_bytes(test_pki.crl.read_bytes())
    config = memory_tls_config(test_pki)
    config["tls"]["crls"] = [str(crl)]
    config["logging"] = {"level": "info", "access_log": False}
    config["lock_storage"] = "none"  # no Redis here: locks are off with workers
    running = start_process(config, tmp_path, args=("--workers", "2"))
    try:
        alice = client_context(test_pki, "alice")
        assert (
            https(running.port, alice, "PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207
        )
        authority = test_pki.authority
        crl.write_bytes(
            pki.pem(pki.make_crl(authority, [test_pki.issued[c].cert for c in ("bob", "alice")]))
        )
        deadline = time.monotonic() + 15
        while running.log().count("started (pid") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(running.pid, signal.SIGHUP)
        while running.log().count("tls: certificate, client CAs and CRLs reloaded") < 2:
            assert time.monotonic() < deadline, running.log_tail()
            time.sleep(0.05)
        for _ in range(6):  # new connections, spread over both workers: alice is revoked
            assert https(running.port, alice, "GET", "/memory/").status == 403
        admin = client_context(test_pki, "admin")
        assert (
            https(running.port, admin, "PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207
        )
    finally:
        running.stop()


def test_handshakes_and_their_failures_are_counted(test_pki, start_tls_gateway):
    from davprovider.server.metrics import render
    from tests.helpers.metrics_page import sample

    def handshakes(result: str) -> float:
        return sample(render()[0].decode(), "davprovider_tls_handshakes_total", result=result)

    ok, failed = handshakes("ok"), handshakes("failed")
    gw = start_tls_gateway(memory_tls_config(test_pki))
    alice = client_context(test_pki, "alice")
    assert https(gw.port, alice, "PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207
    untrusting = ssl.create_default_context()  # does not trust the test CA: fails
    with pytest.raises(ssl.SSLError):
        https(gw.port, untrusting, "GET", "/memory/")
    deadline = time.monotonic() + 5
    while handshakes("failed") == failed and time.monotonic() < deadline:
        time.sleep(0.05)  # the server notes the failure after the client gave up
    assert handshakes("ok") == ok + 1 and handshakes("failed") == failed + 1
