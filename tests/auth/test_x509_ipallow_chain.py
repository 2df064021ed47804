"""x509 and ipallow in the chain, called in-process (the TLS layer's result put in the
environ as the server would): mapping, refusals with reasons, forwarded addresses,
gateways naming users, per-share chains, logging, and config validation."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import logging
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from cryptography.hazmat.primitives import serialization

from auth.certchain import PEER_KEY, analyse_chain
from auth.controller import ENVIRON_KEY
from davprovider.server.app import build_app
from davprovider.server.context import check_tls
from davprovider.settings import ConfigError, settings_from_mapping
from localgrid import pki
from tests.helpers.testpki import tls_section, write_x509_folder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    return folder, write_x509_folder(folder, "CA")


def peer_of(ca, cn, **kw):
    issued = pki.issue_user(ca, pki.name(("O", "Test"), ("CN", cn)), **kw)
    ders = [c.public_bytes(serialization.Encoding.DER) for c in (issued.cert, ca.cert)]
    return analyse_chain(ders)


def config(files, chain=("x509", "basic"), **overrides):
    folder, _ = files
    base: dict[str, Any] = {
        "logging": {"access_log": False},
        "auth": {"chain": list(chain)},
        "tls": tls_section(folder),
        "x509": {"gridmap": str(folder / "grid-mapfile")},
        "ipallow": {
            "networks": [
                {"cidr": "10.1.0.0/16", "user": "wide"},
                {"cidr": "10.1.2.0/24", "user": "narrow"},
                {"cidr": "2001:db8::/32", "user": "six"},
                {"cidr": "10.9.9.9/32", "user": "portal", "on_behalf_header": "X-Act-For"},
            ],
            "trusted_proxies": ["10.0.0.1/32", "fd00::1/128"],
        },
        "shares": [
            {"path": "/memory", "backend": "memory", "options": {"users": {"bob": "pw"}}},
        ],
    }
    base.update(overrides)
    return base


def call(app, path="/memory/", method="PROPFIND", **environ):
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": "0",
        "HTTP_DEPTH": "0",
        "wsgi.input": io.BytesIO(b""),
        **environ,
    }
    setup_testing_defaults(env)
    started: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])

    body = b"".join(app(env, start_response))
    identity = env.get(ENVIRON_KEY)
    return started["status"], body, identity


@pytest.fixture
def app(files):
    return build_app(settings_from_mapping(config(files), source="<test>"))


BOB = "Basic " + base64.b64encode(b"bob:pw").decode()


# --- x509 ----------------------------------------------------------------------------------


def test_mapped_certificate_gives_an_x509_identity(app, files):
    status, _, identity = call(app, **{PEER_KEY: peer_of(files[1], "Alice")})
    assert status == 207
    assert (identity.user, identity.method, identity.dn) == ("alice", "x509", "CN=Alice,O=Test")


def test_unmapped_certificate_is_403_with_reason_even_with_basic_in_the_chain(app, files):
    status, body, _ = call(app, **{PEER_KEY: peer_of(files[1], "Carol"), "HTTP_AUTHORIZATION": BOB})
    assert status == 403
    assert b"/O=Test/CN=Carol is not mapped to a user" in body


def test_unmapped_continue_lets_basic_decide(files):
    settings = settings_from_mapping(
        config(files, x509={"gridmap": str(files[0] / "grid-mapfile"), "unmapped": "continue"})
    )
    app = build_app(settings)
    status, _, identity = call(
        app, **{PEER_KEY: peer_of(files[1], "Carol"), "HTTP_AUTHORIZATION": BOB}
    )
    assert (status, identity.user, identity.method) == (207, "bob", "basic")
    assert call(app, **{PEER_KEY: peer_of(files[1], "Carol")})[0] == 401


def test_certificate_with_a_problem_is_403_with_the_problem(app, files):
    peer = dataclasses.replace(peer_of(files[1], "Alice"), problem="proxy naming rule broken")
    status, body, _ = call(app, **{PEER_KEY: peer})
    assert status == 403
    assert b"proxy naming rule broken" in body


def test_certificate_expired_since_the_handshake_is_403(app, files):
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    peer = dataclasses.replace(peer_of(files[1], "Alice"), expires=past)
    status, body, _ = call(app, **{PEER_KEY: peer})
    assert status == 403
    assert b"expired" in body


def test_limited_proxies_can_be_refused(files):
    settings = settings_from_mapping(
        config(files, x509={"gridmap": str(files[0] / "grid-mapfile"), "limited_proxies": False})
    )
    peer = dataclasses.replace(peer_of(files[1], "Alice"), limited=True, proxy=True)
    status, body, _ = call(build_app(settings), **{PEER_KEY: peer})
    assert status == 403
    assert b"limited proxies are not accepted" in body


def test_no_certificate_falls_through_to_basic(app):
    assert call(app)[0] == 401
    assert call(app, HTTP_AUTHORIZATION=BOB)[2].method == "basic"


def test_accepts_and_refusals_are_logged_with_address_method_and_reason(app, files, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    call(app, REMOTE_ADDR="192.0.2.7", **{PEER_KEY: peer_of(files[1], "Alice")})
    call(app, REMOTE_ADDR="192.0.2.8", **{PEER_KEY: peer_of(files[1], "Carol")})
    call(app, REMOTE_ADDR="192.0.2.9", method="GET")
    text = caplog.text
    assert "192.0.2.7 PROPFIND /memory/ accepted as alice by x509 dn='CN=Alice,O=Test'" in text
    assert "192.0.2.8 PROPFIND /memory/ refused (403): certificate subject /O=Test/CN=Carol" in text
    assert "192.0.2.9 GET /memory/ challenged" in text


# --- ipallow -------------------------------------------------------------------------------


@pytest.fixture
def ip_app(files):
    return build_app(settings_from_mapping(config(files, chain=("ipallow",)), source="<test>"))


@pytest.mark.parametrize(
    ("address", "user"),
    [
        ("10.1.2.3", "narrow"),  # the most specific range wins
        ("10.1.3.3", "wide"),
        ("::ffff:10.1.2.3", "narrow"),  # IPv4-mapped IPv6
        ("2001:db8::42", "six"),
    ],
)
def test_listed_ranges_map_to_their_service_users(ip_app, address, user):
    status, _, identity = call(ip_app, REMOTE_ADDR=address)
    assert (status, identity.user, identity.method) == (207, user, "ipallow")


def test_unlisted_address_is_refused_by_an_ipallow_only_chain(ip_app):
    status, body, _ = call(ip_app, REMOTE_ADDR="192.0.2.1")
    assert status == 403
    assert b"no authenticator accepted" in body


@pytest.mark.parametrize(
    ("peer", "headers", "user"),
    [
        ("192.0.2.1", {"HTTP_X_FORWARDED_FOR": "10.1.2.3"}, None),  # untrusted peer
        ("10.0.0.1", {"HTTP_X_FORWARDED_FOR": "10.1.2.3"}, "narrow"),
        ("10.0.0.1", {"HTTP_X_FORWARDED_FOR": "10.1.2.3, 192.0.2.1"}, None),  # rightmost
        ("10.0.0.1", {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 10.1.2.3"}, "narrow"),
        ("10.0.0.1", {"HTTP_X_FORWARDED_FOR": "unknown"}, None),
        ("10.0.0.1", {"HTTP_FORWARDED": "for=10.1.2.3"}, None),  # not the configured header
        ("fd00::1", {"HTTP_X_FORWARDED_FOR": "[2001:db8::5]:443"}, "six"),
    ],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(ip_app, peer, headers, user):
    status, _, identity = call(ip_app, REMOTE_ADDR=peer, **headers)
    assert (identity.user if identity else None) == user
    assert status == (207 if user else 403)


def test_forwarded_header_when_configured(files):
    ipallow = config(files)["ipallow"] | {"forwarded_header": "forwarded"}
    app = build_app(settings_from_mapping(config(files, chain=("ipallow",), ipallow=ipallow)))
    forwarded = 'for="[2001:db8::9]";proto=https, for=10.0.0.1'
    _, _, identity = call(app, REMOTE_ADDR="10.0.0.1", HTTP_FORWARDED=forwarded)
    assert identity.user == "six"


def test_gateway_names_the_end_user_only_when_listed(ip_app):
    assert call(ip_app, REMOTE_ADDR="10.9.9.9", HTTP_X_ACT_FOR="alice")[2].user == "alice"
    assert call(ip_app, REMOTE_ADDR="10.9.9.9")[2].user == "portal"
    assert call(ip_app, REMOTE_ADDR="10.1.2.3", HTTP_X_ACT_FOR="alice")[2].user == "narrow"


@pytest.mark.parametrize("named", ["alice#otherZone", "a b", "../x"])
def test_gateway_naming_a_malformed_user_is_403(ip_app, named):
    status, body, _ = call(ip_app, REMOTE_ADDR="10.9.9.9", HTTP_X_ACT_FOR=named)
    assert status == 403
    assert b"not a user name" in body


# --- chains --------------------------------------------------------------------------------


def test_per_share_chains(files):
    shares = [
        {"path": "/certs", "backend": "memory", "auth": ["x509"]},
        {"path": "/open", "backend": "memory", "options": {"users": {"bob": "pw"}}},
        {"path": "/closed", "backend": "memory", "auth": []},
    ]
    app = build_app(settings_from_mapping(config(files, chain=("basic",), shares=shares)))
    alice = {PEER_KEY: peer_of(files[1], "Alice")}
    assert call(app, "/certs/", **alice)[2].method == "x509"
    assert call(app, "/certs/", HTTP_AUTHORIZATION=BOB)[0] == 403  # no basic on /certs
    assert call(app, "/open/", HTTP_AUTHORIZATION=BOB)[2].method == "basic"
    assert call(app, "/open/", **alice)[0] == 401  # no x509 on /open
    status, body, _ = call(app, "/closed/", HTTP_AUTHORIZATION=BOB, **alice)
    assert status == 403
    assert b"the auth chain is empty" in body


# --- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "keypath", "problem"),
    [
        (lambda c: c.pop("tls"), "tls.client_certificates", "must be optional or required"),
        (lambda c: c["tls"].update(client_certificates="none"), "tls.client_certificates", ""),
        (lambda c: c["tls"].pop("crls"), "tls", "crls are required"),
        (lambda c: c["tls"].pop("client_ca"), "tls", "client_ca is required"),
        (lambda c: c["tls"].update(key="/no/such.key"), "tls.key", "cannot read file"),
        (lambda c: c["tls"].update(min_version="1.1"), "tls.min_version", "must be one of"),
        (lambda c: c["x509"].update(gridmap=""), "x509.gridmap", "required"),
        (lambda c: c["x509"].update(mapping="ldap"), "x509.mapping", "must be one of"),
        (lambda c: c["ipallow"]["networks"][0].update(cidr="10.1.0.1/16"), "cidr", "host bits"),
        (lambda c: c["ipallow"].update(trusted_proxies=["nope"]), "trusted_proxies", "CIDR"),
        (lambda c: c["ipallow"]["networks"][3].update(on_behalf_header="X Y"), "header", "HTTP"),
        (lambda c: c["auth"].update(chain=["x509", "x509"]), "auth.chain[1]", "twice"),
        (lambda c: c["shares"][0].update(auth=["kerberos"]), "shares[0].auth[0]", "unknown"),
    ],
)
def test_bad_identity_config_names_the_key(files, change, keypath, problem):
    raw = config(files, chain=("x509", "ipallow", "basic"))
    change(raw)
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(raw, source="site.yaml")
    assert keypath in str(caught.value)
    assert problem in str(caught.value)


def test_broken_gridmap_is_a_config_error(files, tmp_path):
    bad = tmp_path / "gm"
    bad.write_text('"/O=Test/CN=A alice\n')
    with pytest.raises(ConfigError, match=r"x509.gridmap: .*gm:1: unterminated"):
        settings_from_mapping(config(files, x509={"gridmap": str(bad)}), source="site.yaml")


def test_ipallow_without_networks_is_a_config_error(files):
    with pytest.raises(ConfigError, match="ipallow.networks: required"):
        settings_from_mapping(config(files, chain=("ipallow",), ipallow={}), source="s.yaml")


def test_irods_share_with_certificate_identities_needs_a_proxy_user(files):
    shares = [{"path": "/irods", "backend": "irods", "options": {"zone": "z"}}]
    with pytest.raises(ConfigError, match=r"shares\[0\].options.proxy_user: a rodsadmin"):
        settings_from_mapping(config(files, shares=shares), source="s.yaml")


def test_dn_registry_for_a_non_irods_share_needs_x509_irods(files):
    raw = config(files, x509={"mapping": "irods"})
    with pytest.raises(ConfigError, match=r"shares\[0\]: x509.irods is required"):
        settings_from_mapping(raw, source="s.yaml")
    raw["x509"]["irods"] = {"host": "127.0.0.1", "password": "secret"}
    settings = settings_from_mapping(raw, source="s.yaml")
    assert "secret" not in repr(settings)


def test_unreachable_dn_registry_is_502_not_a_refusal(files):
    registry = {"host": "127.0.0.1", "port": 9, "user": "rods", "password": "rods", "timeout": 2}
    raw = config(files, x509={"mapping": "irods", "irods": registry})
    status, body, _ = call(
        build_app(settings_from_mapping(raw)), **{PEER_KEY: peer_of(files[1], "Alice")}
    )
    assert status == 502
    assert b"the iRODS DN registry is unavailable" in body


def test_unloadable_tls_files_are_config_errors(files, tmp_path):
    crl = tmp_path / "bad-crl.pem"
    crl.write_text("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
    raw = config(files)
    raw["tls"]["crls"] = [str(crl)]
    with pytest.raises(ConfigError, match=r"s.yaml: tls: cannot be loaded"):
        check_tls(settings_from_mapping(raw, source="s.yaml"))
    raw["tls"]["crls"] = [str(files[0] / "ca.pem")]  # a certificate, no CRL
    with pytest.raises(ConfigError, match=r"no PEM CRL"):
        check_tls(settings_from_mapping(raw, source="s.yaml"))


def test_encrypted_server_key_needs_key_password_and_never_prompts(files, tmp_path):
    server = pki.issue_server(files[1])
    key = tmp_path / "enc.key"
    key.write_bytes(
        server.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    (tmp_path / "server.pem").write_bytes(pki.pem(server.cert))
    raw = config(files)
    raw["tls"].update(certificate=str(tmp_path / "server.pem"), key=str(key))
    with pytest.raises(ConfigError, match=r"tls: cannot be loaded"):
        check_tls(settings_from_mapping(raw, source="s.yaml"))
    raw["tls"]["key_password"] = "s3cret"
    settings = settings_from_mapping(raw, source="s.yaml")
    check_tls(settings)
    assert "s3cret" not in repr(settings)
