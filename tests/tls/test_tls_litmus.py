"""litmus, every suite, over mutual TLS: alice's PKCS#12 as the only credential
(client certificates required, chain [x509]), on a memory share and on an iRODS share.

litmus (Debian) links neon against GnuTLS, which does not read the unencrypted PKCS#12
that ``cryptography`` writes; the bundle is exported with the ``openssl`` command and
an empty password instead. litmus skips its ``expect100`` test on TLS servers (103 of
its 104 tests run)."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.external_tools import require_tool
from tests.helpers.litmus_run import SUITES, assert_litmus_passes
from tests.helpers.tlsgw import irods_tls_config, memory_tls_config

__all__ = ["SUITES"]


@pytest.fixture(scope="module")
def litmus_p12(test_pki, tmp_path_factory, request):
    openssl = require_tool("openssl")
    require_tool("litmus")
    cert, key = test_pki.pair("alice")
    out = tmp_path_factory.mktemp("litmus") / "alice-litmus.p12"
    cmd = [openssl, "pkcs12", "-export", "-in", cert, "-inkey", key, "-passout", "pass:"]
    subprocess.run([*cmd, "-out", str(out)], check=True, capture_output=True)
    return out


def run_litmus(url, p12, cwd):
    # litmus itself skips its expect100 test on TLS servers; nothing else may be skipped
    skips = (("expect100", " (skipping for SSL server)"),)
    assert_litmus_passes(["-k", "-c", str(p12), url], cwd, skips)


def test_litmus_over_mutual_tls_on_a_memory_share(
    litmus_p12, test_pki, start_tls_gateway, tmp_path
):
    gw = start_tls_gateway(memory_tls_config(test_pki, ["x509"], "required"))
    run_litmus(f"https://127.0.0.1:{gw.port}/memory/", litmus_p12, tmp_path)


def test_litmus_over_mutual_tls_on_an_irods_share(
    litmus_p12, test_pki, seeded_zone, start_tls_gateway, tmp_path
):
    gw = start_tls_gateway(irods_tls_config(test_pki, seeded_zone, ["x509"], "required"))
    run_litmus(f"https://127.0.0.1:{gw.port}/irods/alice/", litmus_p12, tmp_path)
