"""The example identity configs in config/ stay valid (file paths swapped for real ones)."""

from __future__ import annotations

from pathlib import Path

import yaml

from auth.gridmap import load_gridmap
from davprovider.settings import settings_from_mapping
from localgrid import pki

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_grid_mapfile_example_parses():
    mapping = load_gridmap(str(CONFIG / "grid-mapfile.example"))
    alice = [dn for dn, users in mapping.items() if users == ["alice"]]
    assert len(alice) == 2
    service = (
        ("DC", "org"),
        ("DC", "example"),
        ("OU", "Services"),
        ("CN", "ldap/portal.example.org"),
    )
    assert mapping[service] == ["portal"]


def real_tls(tmp_path):
    ca = pki.make_ca(pki.name(("CN", "CA")))
    cert, key = pki.write_pair(tmp_path, "server", pki.issue_server(ca))
    (tmp_path / "ca.pem").write_bytes(pki.pem(ca.cert))
    (tmp_path / "crl.pem").write_bytes(pki.pem(pki.make_crl(ca)))
    return {
        "certificate": str(cert),
        "key": str(key),
        "client_ca": str(tmp_path / "ca.pem"),
        "crls": [str(tmp_path / "crl.pem")],
        "client_certificates": "optional",
    }


def test_x509_example_is_valid(tmp_path):
    raw = yaml.safe_load((CONFIG / "x509.example.yaml").read_text())
    raw["tls"].update(real_tls(tmp_path))
    raw["x509"]["gridmap"] = str(CONFIG / "grid-mapfile.example")
    settings = settings_from_mapping(raw, source="x509.example.yaml")
    assert settings.auth.chain == ("x509", "basic")
    assert settings.shares[0].options.proxy_user == "davgateway"


def test_ipallow_example_is_valid(tmp_path):
    raw = yaml.safe_load((CONFIG / "ipallow.example.yaml").read_text())
    raw["tls"] = real_tls(tmp_path)
    raw["x509"] = {"gridmap": str(CONFIG / "grid-mapfile.example")}
    settings = settings_from_mapping(raw, source="ipallow.example.yaml")
    assert [n.user for n in settings.ipallow.networks] == ["pipeline", "lab-robot", "portal"]
    assert settings.ipallow.networks[2].on_behalf_users == ("alice", "bob")
