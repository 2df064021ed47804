"""litmus, every suite, over mutual TLS: alice's PKCS#12 as the only credential
(client certificates required, chain [x509]), on a memory share and on an iRODS share.

litmus (Debian) links neon against GnuTLS, which does not read the unencrypted PKCS#12
that ``cryptography`` writes; the bundle is exported with the ``openssl`` command and
an empty password instead. litmus skips its ``expect100`` test on TLS servers (103 of
its 104 tests run)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from tlsgw import irods_tls_config, memory_tls_config

SUITES = ("basic", "copymove", "props", "locks", "http")


@pytest.fixture(scope="module")
def litmus_p12(test_pki, tmp_path_factory, request):
    conftest = request.config.pluginmanager.get_plugin(
        str(request.config.rootpath / "tests" / "conftest.py")
    )
    openssl = conftest.require_tool("openssl")
    conftest.require_tool("litmus")
    cert, key = test_pki.pair("alice")
    out = tmp_path_factory.mktemp("litmus") / "alice-litmus.p12"
    cmd = [openssl, "pkcs12", "-export", "-in", cert, "-inkey", key, "-passout", "pass:"]
    subprocess.run([*cmd, "-out", str(out)], check=True, capture_output=True)
    return out


def run_litmus(url, p12, cwd):
    env = {**os.environ, "TESTS": " ".join(SUITES)}
    run = subprocess.run(
        ["litmus", "-k", "-c", str(p12), url],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=cwd,  # litmus writes debug.log and child.log here
    )
    output = run.stdout + run.stderr
    summaries = dict(re.findall(r"summary for `(\w+)': of \d+ tests run: (.*)", output))
    assert set(summaries) == set(SUITES), output
    for suite, summary in summaries.items():
        assert summary.endswith("0 failed. 100.0%"), f"{suite}: {summary}\n{output}"
    assert "warning" not in output.lower(), output
    # litmus itself skips its expect100 test on TLS servers; nothing else may be skipped
    skipped = re.findall(r"^\s*\d+\. (\w+)\.+ SKIPPED(.*)$", output, re.MULTILINE)
    assert skipped == [("expect100", " (skipping for SSL server)")], output
    assert run.returncode == 0, output


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
