"""The issue's certificate matrix through real TLS connections (curl and Python's ssl)
against a memory share: chain [x509, basic], grid-mapfile, CRL revoking bob."""

from __future__ import annotations

import logging
import ssl

import pytest

from localgrid import pki
from tests.helpers.testpki import REFUSED
from tests.helpers.tlsgw import basic, client_context, curl, https, logged, memory_tls_config

PROPFIND = ("-X", "PROPFIND", "-H", "Depth: 0")


@pytest.fixture(scope="module")
def gw(test_pki, module_gateways):
    """HTTPS with optional client certificates, chain [x509, basic]."""
    return module_gateways(memory_tls_config(test_pki))


@pytest.fixture(scope="module")
def handshake_gw(test_pki, module_gateways):
    """Optional client certificates, bad ones refused in the handshake."""
    config = memory_tls_config(test_pki)
    config["tls"]["bad_certificates"] = "handshake"
    return module_gateways(config)


@pytest.fixture(scope="module")
def required_gw(test_pki, module_gateways):
    """HTTPS requiring a client certificate, chain [x509]."""
    return module_gateways(memory_tls_config(test_pki, ["x509"], "required"))


def url(gw, path="/memory/"):
    return f"https://127.0.0.1:{gw.port}{path}"


def refused_in_handshake(result) -> bool:
    """No HTTP answer at all: curl failed in (or right after) the TLS handshake."""
    return result.returncode != 0 and result.status == 0


# --- accepted ------------------------------------------------------------------------------


def test_alice_certificate_reads_and_writes_her_files(gw, test_pki):
    put = curl(url(gw, "/memory/alice.txt"), test_pki, "alice", "-X", "PUT", "--data-binary", "x")
    assert put.status in (201, 204), put
    got = curl(url(gw, "/memory/alice.txt"), test_pki, "alice")
    assert (got.returncode, got.status) == (0, 200), got
    listing = curl(url(gw), test_pki, "alice", *PROPFIND)
    assert listing.status == 207, listing


def test_alice_certificate_from_python_ssl_client(gw, test_pki):
    context = client_context(test_pki, "alice")
    assert https(gw.port, context, "PUT", "/memory/py.txt", b"from python").status in (201, 204)
    assert https(gw.port, context, "GET", "/memory/py.txt").body == b"from python"


def test_alice_proxy_acts_as_alice(gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    result = curl(url(gw), test_pki, "alice_proxy", *PROPFIND)
    assert result.status == 207, result
    assert "accepted as alice by x509 dn='CN=Alice,O=Test'" in caplog.text


def test_proxy_of_proxy_within_path_length_acts_as_alice(gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    assert curl(url(gw), test_pki, "proxy_of_proxy_ok", *PROPFIND).status == 207
    assert "accepted as alice by x509" in caplog.text


def test_limited_proxy_is_accepted_by_default(gw, test_pki):
    assert curl(url(gw), test_pki, "alice_limited", *PROPFIND).status == 207


def test_python_client_with_alice_proxy_chain(gw, test_pki):
    context = client_context(test_pki, "alice_proxy")
    assert https(gw.port, context, "PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207


# --- refused in the TLS handshake ----------------------------------------------------------


@pytest.mark.parametrize(("case", "reason"), REFUSED)
def test_bad_certificates_are_refused_in_the_handshake(
    handshake_gw, test_pki, caplog, case, reason
):
    caplog.set_level(logging.INFO, logger="davprovider.server.tls")
    result = curl(url(handshake_gw), test_pki, case, *PROPFIND)
    assert refused_in_handshake(result), result
    assert logged(caplog, f"client certificate: {reason}")


@pytest.mark.parametrize("case", ["bob", "bob_proxy", "expired", "mallory", "bad_name_proxy"])
def test_bad_certificates_are_refused_for_python_clients(handshake_gw, test_pki, case):
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https(handshake_gw.port, client_context(test_pki, case), "GET", "/memory/")


# --- verified, but no identity -------------------------------------------------------------


@pytest.mark.parametrize("case", ["eve_comma", "eve_slash"])
def test_cn_with_admin_rdn_inside_maps_to_nothing(gw, test_pki, case, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    result = curl(url(gw), test_pki, case, *PROPFIND)
    assert result.status == 403, result
    assert b"is not mapped to a user" in result.body
    assert "accepted as admin" not in caplog.text


def test_the_real_three_rdn_subject_does_map_to_admin(gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    assert curl(url(gw), test_pki, "admin", *PROPFIND).status == 207
    assert "accepted as admin by x509 dn='O=Admin,CN=Eve,O=Test'" in caplog.text


def test_unmapped_certificate_is_403_with_reason_not_a_password_prompt(gw, test_pki):
    result = curl(url(gw), test_pki, "carol", *PROPFIND)
    assert result.status == 403
    assert b"/O=Test/CN=Carol is not mapped to a user" in result.body
    assert b"WWW-Authenticate" not in result.body


def test_independent_proxy_is_403_with_reason(gw, test_pki):
    result = curl(url(gw), test_pki, "independent_proxy", *PROPFIND)
    assert result.status == 403
    assert b"proxy policy independent is not accepted" in result.body


# --- no certificate ------------------------------------------------------------------------


def test_no_certificate_with_optional_falls_through_to_basic(gw, test_pki):
    assert curl(url(gw), test_pki, None, *PROPFIND).status == 401
    with_password = curl(url(gw), test_pki, None, *PROPFIND, "-u", "bob:bob-pw")
    assert with_password.status == 207


def test_no_certificate_with_required_is_refused(required_gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="davprovider.server.tls")
    result = curl(url(required_gw), test_pki, None, *PROPFIND, "-u", "bob:bob-pw")
    assert refused_in_handshake(result), result
    assert logged(caplog, "peer did not return a certificate")


def test_required_accepts_alice(required_gw, test_pki):
    assert curl(url(required_gw), test_pki, "alice", *PROPFIND).status == 207


def test_basic_credentials_do_not_override_a_certificate(gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    context = client_context(test_pki, "alice")
    reply = https(gw.port, context, "PROPFIND", "/memory/", headers={"Depth": "0", **basic("bob")})
    assert reply.status == 207
    assert "accepted as alice by x509" in caplog.text


def test_client_cannot_forge_the_certificate_environ_with_headers(gw, test_pki):
    headers = {"Depth": "0", "SSL-Client-S-DN": "CN=Alice,O=Test", "SSL-Client-Verify": "SUCCESS"}
    reply = https(gw.port, client_context(test_pki), "PROPFIND", "/memory/", headers=headers)
    assert reply.status == 401


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused_by_the_server(gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="davprovider.server.tls")
    context = client_context(test_pki, "alice")
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https(gw.port, context, "GET", "/memory/")
    assert logged(caplog, "unsupported protocol")


# --- the server's own chain is not a client trust store ------------------------------------


@pytest.fixture(scope="module")
def chained(test_pki, tmp_path_factory, module_gateways):
    """A server certificate from an intermediate CA sent via ``tls.chain``; a client
    certificate from that same intermediate."""
    folder = tmp_path_factory.mktemp("server-chain")
    root = pki.make_ca(pki.name(("O", "Hosting"), ("CN", "Server Root")))
    intermediate = pki.make_ca(pki.name(("O", "Hosting"), ("CN", "Server CA")), parent=root)
    cert, key = pki.write_pair(folder, "server", pki.issue_server(intermediate))
    (folder / "chain.pem").write_bytes(pki.pem(intermediate.cert))
    (folder / "root.pem").write_bytes(pki.pem(root.cert))
    intruder = pki.issue_user(intermediate, pki.name(("O", "Test"), ("CN", "Alice")))
    (folder / "intruder.pem").write_bytes(pki.pem(intruder.cert, intermediate.cert, root.cert))
    pki.write_private(folder / "intruder.key", pki.key_pem(intruder.key))
    config = memory_tls_config(test_pki)
    config["tls"].update(certificate=str(cert), key=str(key), chain=str(folder / "chain.pem"))
    return module_gateways(config), folder


def test_server_chain_is_sent_and_its_ca_does_not_vouch_for_clients(chained, test_pki):
    gw, folder = chained
    context = ssl.create_default_context(cafile=str(folder / "root.pem"))
    context.load_cert_chain(*test_pki.pair("alice"))
    reply = https(gw.port, context, "PROPFIND", "/memory/", headers={"Depth": "0"})
    assert reply.status == 207  # the client verified the server through the sent chain
    intruder = ssl.create_default_context(cafile=str(folder / "root.pem"))
    intruder.load_cert_chain(str(folder / "intruder.pem"), str(folder / "intruder.key"))
    refused = https(gw.port, intruder, "PROPFIND", "/memory/", headers={"Depth": "0"})
    assert refused.status == 403 and b"client certificate refused: self-signed" in refused.body
