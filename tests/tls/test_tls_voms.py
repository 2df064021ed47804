"""VOMS proxies through real TLS connections (curl): a test VO whose VOMS server
certificate the test CA signed, ACs for alice in proxies made with ``pki.issue_proxy``
(and one made by Debian's ``voms-proxy-fake``), against a memory share with chain
[x509] and ``x509.voms``: mapping by role, fallback to the DN, refusal when required."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from localgrid import pki
from tests.helpers import testvoms as tv
from tests.helpers.external_tools import require_tool
from tests.helpers.tlsgw import curl, logged, memory_tls_config

HOST = "voms.test.example"
PROD = "/atlas/Role=production/Capability=NULL"
PROPFIND = ("-X", "PROPFIND", "-H", "Depth: 0")


@pytest.fixture(scope="module")
def vo(test_pki, tmp_path_factory) -> dict[str, Any]:
    """The VO's files: vomsdir, map file, the RSA VOMS server's certificate and key, and
    alice's proxies (valid production AC, expired AC) written next to the test PKI."""
    folder = tmp_path_factory.mktemp("vo")
    ca, alice = test_pki.authority, test_pki.issued["alice"]
    server = tv.issue_voms_server(ca, HOST, rsa_key=True)
    tv.write_lsc(folder / "vomsdir", "atlas", HOST, server.cert.subject, ca.cert.subject)
    (folder / "voms-mapfile").write_text('"/atlas/Role=production" atlasprod\n')
    (folder / "voms.pem").write_bytes(pki.pem(server.cert))
    key = server.key.private_bytes(  # voms-proxy-fake reads the traditional RSA form
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    pki.write_private(folder / "voms.key", key)
    now = dt.datetime.now(dt.UTC)
    acs = {
        "alice_voms": tv.make_ac(server, alice.cert, "atlas", [PROD]),
        "alice_voms_expired": tv.make_ac(
            server,
            alice.cert,
            "atlas",
            [PROD],
            not_before=now - dt.timedelta(hours=3),
            not_after=now - dt.timedelta(hours=1),
        ),
    }
    for case, ac in acs.items():
        pki.write_pair(
            test_pki.folder, case, pki.issue_proxy(alice, extensions=[tv.voms_extension(ac)])
        )
    return {"folder": folder}


def voms_config(test_pki, vo, **voms: Any) -> dict[str, Any]:
    folder = vo["folder"]
    section = {"vomsdir": str(folder / "vomsdir"), "mapfile": str(folder / "voms-mapfile")}
    section.update(voms)
    config = memory_tls_config(test_pki, ["x509"])
    config["x509"] = {"gridmap": str(test_pki.gridmap), "voms": section}
    config["logging"] = {"access_log": True}
    config["shares"][0]["options"] = {}
    return config


@pytest.fixture(scope="module")
def gw(test_pki, vo, module_gateways):
    return module_gateways(voms_config(test_pki, vo))


@pytest.fixture(scope="module")
def required_gw(test_pki, vo, module_gateways):
    return module_gateways(voms_config(test_pki, vo, required=True))


def url(gw) -> str:
    return f"https://127.0.0.1:{gw.port}/memory/"


def test_production_role_proxy_acts_as_the_mapped_user(gw, test_pki, caplog):
    caplog.set_level(logging.INFO)
    result = curl(url(gw), test_pki, "alice_voms", *PROPFIND)
    assert result.status == 207, result
    assert logged(caplog, "accepted as atlasprod by x509 dn='CN=Alice,O=Test'")
    assert logged(caplog, f"fqan={PROD}")
    assert logged(caplog, f"in=0 out={len(result.body)}")
    access = [r.getMessage() for r in caplog.records if r.name == "davprovider.access"]
    assert any(line.endswith(f" fqan={PROD}") for line in access), access


def test_expired_ac_falls_back_to_the_dn_with_a_warning(gw, test_pki, caplog):
    caplog.set_level(logging.INFO)
    result = curl(url(gw), test_pki, "alice_voms_expired", *PROPFIND)
    assert result.status == 207, result
    assert logged(caplog, "accepted as alice by x509")
    assert logged(caplog, "VOMS attributes of /O=Test/CN=Alice ignored")


def test_required_refuses_plain_and_expired_proxies_with_the_reason(required_gw, test_pki):
    plain = curl(url(required_gw), test_pki, "alice_proxy", *PROPFIND)
    assert plain.status == 403 and b"a VOMS proxy is required" in plain.body, plain
    expired = curl(url(required_gw), test_pki, "alice_voms_expired", *PROPFIND)
    assert expired.status == 403 and b"expired at" in expired.body, expired
    assert curl(url(required_gw), test_pki, "alice_voms", *PROPFIND).status == 207


def test_voms_proxy_fake_ac_is_verified_and_mapped(required_gw, test_pki, vo, tmp_path, caplog):
    """Interop: Debian's voms-proxy-fake signs an AC for alice with the test VO's key.
    Its own proxy is signed with ecdsa-with-SHA1 (alice's key is EC), which OpenSSL's
    default security level refuses ("ca md too weak"), so its VOMS extension is carried,
    byte for byte, in a proxy made by ``pki.issue_proxy``."""
    tool = require_tool("voms-proxy-fake")
    folder: Path = vo["folder"]
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_bytes(test_pki.ca.read_bytes())
    subprocess.run(["openssl", "rehash", str(certs)], check=True, capture_output=True)
    cert, key = test_pki.pair("alice")
    fake = tmp_path / "fake.pem"
    run = subprocess.run(
        [tool, "-q", "-rfc", "-cert", cert, "-key", key, "-certdir", str(certs),
         "-hostcert", str(folder / "voms.pem"), "-hostkey", str(folder / "voms.key"),
         "-voms", "atlas", "-uri", f"{HOST}:15000", "-fqan", PROD, "-out", str(fake)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, "RANDFILE": str(tmp_path / "rnd")},
    )  # fmt: skip
    assert run.returncode == 0 and fake.exists(), run.stderr
    made = x509.load_pem_x509_certificate(fake.read_bytes())
    extension = made.extensions.get_extension_for_oid(tv.VOMS_EXTENSION).value
    proxy = pki.issue_proxy(test_pki.issued["alice"], extensions=[extension])
    pki.write_pair(tmp_path, "proxy", proxy)
    caplog.set_level(logging.INFO)
    args = ("--cert", str(tmp_path / "proxy.pem"), "--key", str(tmp_path / "proxy.key"))
    result = curl(url(required_gw), test_pki, None, *args, *PROPFIND)
    assert result.status == 207, result
    assert logged(caplog, "accepted as atlasprod by x509")
