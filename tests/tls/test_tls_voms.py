"""VOMS: proxies with attribute certificates made by ``voms-proxy-fake`` (voms-clients) for
test VOs whose servers the test's own PKI certifies, presented over TLS to a gateway whose
chain is ``[voms, x509]``: mapped FQANs give their user, a proxy without VOMS attributes
falls through to the DN mapping, untrusted or unmapped attributes get 403 with a reason."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from auth.vomsac import AC_EXTENSION
from localgrid import pki
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import running_gateway
from tests.helpers.testpki import TestPKI, make_test_pki
from tests.helpers.tlsgw import client_context, https, logged, memory_tls_config

MAP = '"/testvo/Role=production" bob\n"/testvo/readers/*" portal\n# comment\n'


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The test PKI, a VOMS server certificate from its CA (listed in the vomsdir) and one
    from a CA nobody trusts (listed too), the map file."""
    folder = tmp_path_factory.mktemp("voms")
    test_pki = make_test_pki(folder / "pki")
    ca, other = test_pki.authority, pki.make_ca(pki.name(("O", "Other"), ("CN", "Other CA")))
    servers = {
        "voms": pki.issue_user(ca, pki.name(("O", "Test"), ("CN", "voms.test"))),
        "rogue": pki.issue_user(other, pki.name(("O", "Other"), ("CN", "voms.rogue"))),
        "unlisted": pki.issue_user(ca, pki.name(("O", "Test"), ("CN", "voms.unlisted"))),
    }
    for name, issued in servers.items():
        pki.write_pair(folder, name, issued)
    vomsdir = folder / "vomsdir" / "testvo"
    vomsdir.mkdir(parents=True)
    (vomsdir / "voms.test.lsc").write_text("/O=Test/CN=voms.test\n/O=Test/CN=Test CA\n")
    (vomsdir / "voms.rogue.lsc").write_text("/O=Other/CN=voms.rogue\n/O=Other/CN=Other CA\n")
    (folder / "voms-map").write_text(MAP)
    return {"pki": test_pki, "folder": folder}


@pytest.fixture(scope="module")
def gw(setup: dict[str, Any]) -> Iterator[Any]:
    folder, test_pki = setup["folder"], setup["pki"]
    config = memory_tls_config(test_pki, chain=["voms", "x509"])
    config["voms"] = {"map_file": str(folder / "voms-map"), "vomsdir": str(folder / "vomsdir")}
    with running_gateway(config) as gateway:
        yield gateway


def fake_proxy(setup: dict[str, Any], name: str, server: str, *options: str) -> Path:
    """alice's RFC 3820 proxy with an AC from ``server``: ``voms-proxy-fake`` makes the
    AC; the proxy carrying it is re-issued here with SHA-256 (the tool signs proxies with
    SHA-1, which OpenSSL refuses). Returns the PEM file: certificate, key, alice's chain."""
    tool = require_tool("voms-proxy-fake")
    folder, test_pki = setup["folder"], setup["pki"]
    cert, key = test_pki.pair("alice")
    fake = folder / f"{name}.fake"
    subprocess.run(
        [tool, "-q", "-rfc", "-cert", cert, "-key", key, "-hostcert", str(folder / f"{server}.pem"),
         "-hostkey", str(folder / f"{server}.key"), "-voms", "testvo", "-uri", "voms.test:15000",
         "-certdir", str(folder), "-out", str(fake), *options],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    ac = x509.load_pem_x509_certificates(fake.read_bytes())[0].extensions
    extension = ac.get_extension_for_oid(AC_EXTENSION).value
    alice = test_pki.issued["alice"]
    proxy_key = pki.new_key()
    serial = secrets.randbits(31) + 1
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    proxy = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([*alice.cert.subject.rdns, x509.RelativeDistinguishedName(
            [x509.NameAttribute(NameOID.COMMON_NAME, str(serial))])]))
        .issuer_name(alice.cert.subject)
        .public_key(proxy_key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(hours=2))
        .add_extension(x509.UnrecognizedExtension(
            pki.PROXY_CERT_INFO, pki.proxy_cert_info(None, pki.INHERIT_ALL)), True)
        .add_extension(extension, False)
        .sign(alice.key, hashes.SHA256())
    )  # fmt: skip
    pem, _ = pki.write_pair(folder, name, pki.Issued(proxy, proxy_key, (alice.cert,)))
    return pem


def put_as(gw: Any, test_pki: TestPKI, proxy: Path, path: str) -> Any:
    context = client_context(test_pki)
    context.load_cert_chain(str(proxy), str(proxy.with_suffix(".key")))
    return https(gw.port, context, "PUT", path, b"data")


def test_a_mapped_fqan_gives_its_user(gw, setup, caplog):
    caplog.set_level(logging.INFO)
    proxy = fake_proxy(setup, "prod", "voms", "-fqan", "/testvo/Role=production")
    assert put_as(gw, setup["pki"], proxy, "/memory/prod.txt").status == 201
    assert logged(caplog, "accepted as bob by voms")


def test_the_first_mapped_fqan_wins_and_wildcards_match_below(gw, setup, caplog):
    caplog.set_level(logging.INFO)
    proxy = fake_proxy(setup, "reader", "voms", "-fqan", "/testvo/students",
                       "-fqan", "/testvo/readers/Role=NULL/Capability=NULL")  # fmt: skip
    reply = put_as(gw, setup["pki"], proxy, "/memory/r.txt")
    assert reply.status == 403  # portal is a read-only user of the share
    assert logged(caplog, "accepted as portal by voms")


def test_a_proxy_without_vomses_goes_on_to_the_dn_mapping(gw, setup, caplog):
    caplog.set_level(logging.INFO)
    test_pki = setup["pki"]
    context = client_context(test_pki, "alice_proxy")
    assert https(gw.port, context, "PUT", "/memory/plain.txt", b"x").status == 201
    assert logged(caplog, "accepted as alice by x509")


@pytest.mark.parametrize(
    ("server", "options", "reason"),
    [
        ("voms", ("-fqan", "/testvo/students"), b"not mapped to a user"),
        ("unlisted", ("-fqan", "/testvo/Role=production"), b"is not trusted for testvo"),
        ("rogue", ("-fqan", "/testvo/Role=production"), b"not issued by a trusted CA"),
        ("voms", ("-fqan", "/testvo/Role=production", "-pastac", "7200", "-vomslife", "1"),
         b"attribute certificate not valid now"),
    ],
)  # fmt: skip
def test_refused_attributes_get_403_with_the_reason(gw, setup, server, options, reason):
    proxy = fake_proxy(setup, f"bad-{server}-{len(options)}", server, *options)
    reply = put_as(gw, setup["pki"], proxy, "/memory/refused.txt")
    assert reply.status == 403 and reason in reply.body, reply.body
