"""VOMS attribute certificates in proxies (``x509.voms``), called in-process: a test VO
(VOMS server certificate from the test CA, ACs for alice's end-entity certificate in
proxies made with ``pki.issue_proxy``), mapping by role, fallbacks, refusals, the
config checks, the map file format, and VOMS's own ``voms-proxy-info`` reading our ACs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import os
import subprocess
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from cryptography.hazmat.primitives import serialization

from auth.certchain import PEER_KEY, analyse_chain
from auth.controller import ENVIRON_KEY
from auth.vomsmap import VomsMap, VomsMapError, parse_vomsmap, short_fqan
from davprovider.server.app import build_app
from davprovider.settings import ConfigError, settings_from_mapping
from localgrid import pki
from tests.helpers import testvoms as tv
from tests.helpers.external_tools import require_tool
from tests.helpers.testpki import tls_section, write_x509_folder

HOST = "voms.test.example"
PROD = "/atlas/Role=production/Capability=NULL"
PLAIN = "/atlas/Role=NULL/Capability=NULL"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclasses.dataclass
class VO:
    folder: Path
    ca: pki.Issued
    alice: pki.Issued
    bob: pki.Issued
    server: pki.Issued


@pytest.fixture(scope="module")
def vo(tmp_path_factory) -> VO:
    folder = tmp_path_factory.mktemp("voms")
    ca = write_x509_folder(folder)
    alice = pki.issue_user(ca, pki.name(("O", "Test"), ("CN", "Alice")))
    bob = pki.issue_user(ca, pki.name(("O", "Test"), ("CN", "Bob")))
    server = tv.issue_voms_server(ca, HOST)
    tv.write_lsc(folder / "vomsdir", "atlas", HOST, server.cert.subject, ca.cert.subject)
    (folder / "voms-mapfile").write_text(
        '# FQAN pattern -> user\n"/atlas/Role=production" atlasprod\n"/atlas/*" atlasuser\n'
    )
    return VO(folder, ca, alice, bob, server)


def config(vo: VO, **voms: Any) -> dict[str, Any]:
    folder = vo.folder
    section = {"vomsdir": str(folder / "vomsdir"), "mapfile": str(folder / "voms-mapfile")}
    section.update(voms)
    return {
        "logging": {"access_log": False},
        "auth": {"chain": ["x509"]},
        "tls": tls_section(folder),
        "x509": {"gridmap": str(folder / "grid-mapfile"), "voms": section},
        "shares": [{"path": "/memory", "backend": "memory", "options": {}}],
    }


def app_of(vo: VO, **voms: Any) -> Any:
    return build_app(settings_from_mapping(config(vo, **voms), source="<test>"))


def proxy_peer(user: pki.Issued, *acs: bytes):
    extensions = [tv.voms_extension(*acs)] if acs else []
    proxy = pki.issue_proxy(user, extensions=extensions)
    ders = [c.public_bytes(serialization.Encoding.DER) for c in (proxy.cert, *proxy.chain)]
    return analyse_chain(ders)


def call(app: Any, peer: Any) -> tuple[int, bytes, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "PROPFIND",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/memory/",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": "0",
        "HTTP_DEPTH": "0",
        "wsgi.input": io.BytesIO(b""),
        PEER_KEY: peer,
    }
    setup_testing_defaults(env)
    started: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])

    body = b"".join(app(env, start_response))
    return started["status"], body, env.get(ENVIRON_KEY)


@pytest.fixture(scope="module")
def app(vo):
    return app_of(vo)


@pytest.fixture(scope="module")
def required_app(vo):
    return app_of(vo, required=True)


# --- mapping -------------------------------------------------------------------------------


def test_production_role_maps_to_its_user_and_fqans_ride_on_the_identity(app, vo):
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD, PLAIN])
    status, _, identity = call(app, proxy_peer(vo.alice, ac))
    assert status == 207
    assert (identity.user, identity.method, identity.fqans) == ("atlasprod", "x509", (PROD, PLAIN))
    assert identity.dn == "CN=Alice,O=Test"


def test_primary_fqan_decides_plain_member_gets_the_group_user(app, vo):
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PLAIN, PROD])
    assert call(app, proxy_peer(vo.alice, ac))[2].user == "atlasuser"
    sub = tv.make_ac(vo.server, vo.alice.cert, "atlas", ["/atlas/higgs/Role=NULL/Capability=NULL"])
    assert call(app, proxy_peer(vo.alice, sub))[2].user == "atlasuser"


def test_voms_user_without_a_dn_mapping_is_accepted_by_the_map_file(app, vo):
    ac = tv.make_ac(vo.server, vo.bob.cert, "atlas", [PROD])
    status, _, identity = call(app, proxy_peer(vo.bob, ac))
    assert (status, identity.user) == (207, "atlasprod")


def test_order_dn_consults_the_grid_mapfile_first(vo):
    app = app_of(vo, order="dn")
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD])
    assert call(app, proxy_peer(vo.alice, ac))[2].user == "alice"
    ac = tv.make_ac(vo.server, vo.bob.cert, "atlas", [PROD])
    assert call(app, proxy_peer(vo.bob, ac))[2].user == "atlasprod"


def test_without_a_map_file_the_dn_maps_and_the_fqans_ride_along(vo):
    app = app_of(vo, mapfile="")
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD])
    identity = call(app, proxy_peer(vo.alice, ac))[2]
    assert (identity.user, identity.fqans) == ("alice", (PROD,))


def test_signer_certificate_from_the_certdir_when_the_ac_carries_none(vo, tmp_path):
    (tmp_path / "voms.pem").write_bytes(pki.pem(vo.server.cert))
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD], include_certs=False)
    assert call(app_of(vo, certdir=str(tmp_path)), proxy_peer(vo.alice, ac))[2].user == "atlasprod"
    status, body, _ = call(app_of(vo, required=True), proxy_peer(vo.alice, ac))
    assert status == 403
    assert b"none in the AC, none in certdir" in body


# --- fallback to the DN, refusal when required ------------------------------------------


def test_proxy_without_an_ac_falls_back_to_the_dn(app, vo):
    status, _, identity = call(app, proxy_peer(vo.alice))
    assert (status, identity.user, identity.fqans) == (207, "alice", ())


def test_required_refuses_a_proxy_without_an_ac(required_app, vo):
    status, body, _ = call(required_app, proxy_peer(vo.alice))
    assert status == 403
    assert b"VOMS proxy is required" in body


BROKEN = {
    "expired": (
        lambda vo: tv.make_ac(
            vo.server,
            vo.alice.cert,
            "atlas",
            [PROD],
            not_before=NOW - dt.timedelta(hours=3),
            not_after=NOW - dt.timedelta(hours=1),
        ),
        "expired at",
    ),
    "not yet valid": (
        lambda vo: tv.make_ac(
            vo.server, vo.alice.cert, "atlas", [PROD], not_before=NOW + dt.timedelta(hours=1)
        ),
        "not valid before",
    ),
    "other holder": (
        lambda vo: tv.make_ac(vo.server, vo.bob.cert, "atlas", [PROD]),
        "issued for another certificate",
    ),
    "other serial": (
        lambda vo: tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD], holder_serial=12345),
        "issued for another certificate",
    ),
    "unknown VO": (
        lambda vo: tv.make_ac(vo.server, vo.alice.cert, "cms", ["/cms"]),
        "no cms/voms.test.example.lsc",
    ),
    "signer not in the lsc": (
        lambda vo: tv.make_ac(
            tv.issue_voms_server(vo.ca, "rogue.example"), vo.alice.cert, "atlas", [PROD], host=HOST
        ),
        "does not match atlas/voms.test.example.lsc",
    ),
    "signer from another CA": (
        lambda vo: tv.make_ac(
            tv.issue_voms_server(pki.make_ca(pki.name(("O", "Test"), ("CN", "Test CA"))), HOST),
            vo.alice.cert,
            "atlas",
            [PROD],
        ),
        "does not chain to the configured CAs",
    ),
    "unknown critical extension": (
        lambda vo: tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD], critical_oid="1.2.3.4"),
        "unknown critical extension 1.2.3.4",
    ),
    "fqan outside the vo": (
        lambda vo: tv.make_ac(vo.server, vo.alice.cert, "atlas", ["/cms/Role=production"]),
        "not under the VO",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_invalid_ac_falls_back_to_the_dn_with_a_warning(app, vo, case, caplog):
    caplog.set_level(logging.WARNING, logger="auth.x509")
    make, reason = BROKEN[case]
    status, _, identity = call(app, proxy_peer(vo.alice, make(vo)))
    assert (status, identity.user, identity.fqans) == (207, "alice", ())
    assert "VOMS attributes of /O=Test/CN=Alice ignored" in caplog.text
    assert reason in caplog.text


@pytest.mark.parametrize("case", list(BROKEN))
def test_invalid_ac_is_refused_with_the_reason_when_required(required_app, vo, case):
    make, reason = BROKEN[case]
    status, body, _ = call(required_app, proxy_peer(vo.alice, make(vo)))
    assert status == 403
    assert b"VOMS attributes refused" in body
    assert reason.encode() in body.replace(b"&#x27;", b"'")


def test_bad_signature_is_refused(required_app, vo):
    ac = bytearray(tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD]))
    ac[-3] ^= 0x55  # inside the signature bit string
    status, body, _ = call(required_app, proxy_peer(vo.alice, bytes(ac)))
    assert status == 403
    assert b"signature" in body


def test_garbage_extension_is_refused_not_a_traceback(required_app, vo):
    peer = dataclasses.replace(proxy_peer(vo.alice), voms=b"\x30\x03\x02\x01\x05")
    status, body, _ = call(required_app, peer)
    assert status == 403
    assert b"VOMS" in body


def test_revoked_voms_server_certificate_is_refused(vo, tmp_path):
    rogue = tv.issue_voms_server(vo.ca, HOST)
    crl = tmp_path / "crl.pem"
    crl.write_bytes(pki.pem(pki.make_crl(vo.ca, [rogue.cert])))
    settings = config(vo, required=True)
    settings["tls"]["crls"] = [str(crl)]
    app = build_app(settings_from_mapping(settings, source="<test>"))
    ac = tv.make_ac(rogue, vo.alice.cert, "atlas", [PROD])
    status, body, _ = call(app, proxy_peer(vo.alice, ac))
    assert status == 403 and b"is revoked" in body


def test_ac_of_a_proxy_of_a_proxy_is_found(app, vo):
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD])
    first = pki.issue_proxy(vo.alice, extensions=[tv.voms_extension(ac)])
    second = pki.issue_proxy(first)
    ders = [c.public_bytes(serialization.Encoding.DER) for c in (second.cert, *second.chain)]
    assert call(app, analyse_chain(ders))[2].user == "atlasprod"


def test_rsa_voms_server(vo, tmp_path):
    server = tv.issue_voms_server(vo.ca, "rsa.example", rsa_key=True)
    tv.write_lsc(vo.folder / "vomsdir", "atlas", "rsa.example", server.cert.subject, vo.ca.subject)
    ac = tv.make_ac(server, vo.alice.cert, "atlas", [PROD])
    assert call(app_of(vo, required=True), proxy_peer(vo.alice, ac))[2].user == "atlasprod"


# --- config and map file -------------------------------------------------------------------


def test_config_errors_name_the_key(vo, tmp_path):
    with pytest.raises(ConfigError, match=r"x509.voms.vomsdir: a readable directory"):
        settings_from_mapping(config(vo, vomsdir=str(vo.folder / "ca.pem")), source="<t>")
    bad = tmp_path / "map"
    bad.write_text("atlas/Role=x user\n")
    with pytest.raises(ConfigError, match=r"x509.voms.mapfile: .*map:1: an FQAN pattern"):
        settings_from_mapping(config(vo, mapfile=str(bad)), source="<t>")
    with pytest.raises(ConfigError, match=r"x509.voms.order"):
        settings_from_mapping(config(vo, order="sideways"), source="<t>")


def test_map_file_patterns_first_fqan_then_first_line(tmp_path):
    path = tmp_path / "map"
    path.write_text('"/atlas/Role=production" prod\n/atlas/*/Role=pilot pilot\n"/cms" cms1,cms2\n')
    users = VomsMap(str(path))
    assert users.user([PROD]) == "prod"
    assert users.user(["/atlas/x/Role=pilot/Capability=NULL"]) == "pilot"
    assert users.user(["/cms/Role=NULL/Capability=NULL"]) == "cms1"
    assert users.user(["/lhcb", "/cms", PROD]) == "cms1"
    assert users.user([PLAIN, "/atlas/Role=other"]) is None
    assert short_fqan(PLAIN) == "/atlas"
    assert short_fqan(PROD) == "/atlas/Role=production"
    with pytest.raises(VomsMapError, match=r"m:1: bad user name"):
        parse_vomsmap('"/atlas" bad/user\n', "m")


# --- VOMS's own library reads our test ACs -------------------------------------------------


def test_voms_proxy_info_verifies_the_test_vo_acs(vo, tmp_path):
    tool = require_tool("voms-proxy-info")
    ac = tv.make_ac(vo.server, vo.alice.cert, "atlas", [PROD, PLAIN])
    proxy = pki.issue_proxy(vo.alice, extensions=[tv.voms_extension(ac)])
    path = pki.write_proxy_file(tmp_path / "proxy.pem", proxy)
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.pem").write_bytes(pki.pem(vo.ca.cert))
    subprocess.run(["openssl", "rehash", str(certs)], check=True, capture_output=True)
    env = {**os.environ, "X509_CERT_DIR": str(certs), "X509_VOMS_DIR": str(vo.folder / "vomsdir")}
    out = subprocess.run(
        [tool, "-file", str(path), "-fqan"], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [PROD, PLAIN]
