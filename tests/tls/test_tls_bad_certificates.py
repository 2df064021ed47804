"""``tls.bad_certificates: forbid`` (the default with ``client_certificates: optional``):
a revoked, expired or untrusted client certificate, or a proxy breaking RFC 3820,
finishes the TLS handshake and every request gets 403 with the reason in one line;
``required`` keeps refusing such certificates in the handshake."""

from __future__ import annotations

import logging
import ssl

import pytest

from tests.helpers.testpki import REFUSED
from tests.helpers.tlsgw import basic, client_context, curl, https, logged, memory_tls_config


@pytest.fixture(scope="module")
def gw(test_pki, module_gateways):
    """Optional client certificates (bad ones: forbid, the default), chain [x509, basic]."""
    return module_gateways(memory_tls_config(test_pki))


@pytest.fixture(scope="module")
def basic_only(test_pki, module_gateways):
    """Optional client certificates on a share whose chain ignores them (basic only)."""
    return module_gateways(memory_tls_config(test_pki, ["basic"]))


@pytest.fixture(scope="module")
def required_gw(test_pki, module_gateways):
    return module_gateways(memory_tls_config(test_pki, ["x509"], "required"))


def url(gw, path="/memory/"):
    return f"https://127.0.0.1:{gw.port}{path}"


@pytest.mark.parametrize(("case", "reason"), REFUSED)
def test_curl_gets_403_with_the_reason(gw, test_pki, caplog, case, reason):
    caplog.set_level(logging.INFO, logger="davprovider.server.tls")
    result = curl(url(gw), test_pki, case, "-X", "PROPFIND", "-H", "Depth: 0")
    assert (result.returncode, result.status) == (0, 403), result
    assert result.body == f"403 Forbidden: client certificate refused: {reason}\n".encode()
    assert logged(caplog, f"client certificate refused: {reason}")


@pytest.mark.parametrize(("case", "reason"), REFUSED[:4])
def test_python_clients_get_403_and_basic_credentials_do_not_help(gw, test_pki, case, reason):
    context = client_context(test_pki, case)
    reply = https(gw.port, context, "GET", "/memory/", headers=basic("alice"))
    assert reply.status == 403 and reason.encode() in reply.body


def test_a_share_without_x509_refuses_the_bad_certificate_too(basic_only, test_pki):
    result = curl(url(basic_only), test_pki, "expired", "-u", "alice:alice-pw")
    assert result.status == 403 and b"certificate has expired" in result.body
    assert curl(url(basic_only), test_pki, None, "-u", "alice:alice-pw").status == 200


def test_good_certificates_and_no_certificate_are_unchanged(gw, test_pki):
    assert curl(url(gw), test_pki, "alice", "-X", "PROPFIND", "-H", "Depth: 0").status == 207
    assert curl(url(gw), test_pki, "alice_proxy").status == 200
    assert curl(url(gw), test_pki, None, "-u", "alice:alice-pw").status == 200
    assert curl(url(gw), test_pki, None).status == 401


@pytest.mark.parametrize("case", ["bob", "expired", "mallory"])
def test_required_still_refuses_in_the_handshake(required_gw, test_pki, case):
    result = curl(url(required_gw), test_pki, case)
    assert result.returncode != 0 and result.status == 0, result
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https(required_gw.port, client_context(test_pki, case), "GET", "/memory/")
