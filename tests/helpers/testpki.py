"""The test PKI: every certificate case of the issue, made at test time (localgrid.pki).

Files in the folder given to ``make_test_pki``:

- ``ca.pem``/``ca-crl.pem`` (CA "O=Test, CN=Test CA"; its CRL revokes bob), ``server.pem``
  and ``server.key`` (127.0.0.1, localhost), ``other-ca.pem`` (a CA nobody trusts);
- for each case NAME: ``NAME.pem`` (certificate then chain) and ``NAME.key``;
  ``alice.p12`` (no password, for litmus/davfs2);
- ``grid-mapfile``: alice -> alice, bob -> bob, the three-RDN ``/O=Test/CN=Eve/O=Admin``
  -> admin (a real, different subject), expired -> alice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localgrid import pki

NOW = dt.datetime.now(dt.UTC)

#: The cases OpenSSL's verification refuses, with the reason it gives.
REFUSED = [
    ("bob", "certificate revoked"),
    ("bob_proxy", "certificate revoked"),
    ("expired", "certificate has expired"),
    ("mallory", "unable to get local issuer certificate"),
    ("bad_name_proxy", "proxy subject name violation"),
    ("proxy_of_proxy", "proxy path length constraint exceeded"),
]


@dataclass(frozen=True)
class TestPKI:
    __test__ = False  # not a test class

    folder: Path
    ca: Path
    crl: Path
    server_cert: Path
    server_key: Path
    gridmap: Path
    issued: dict[str, pki.Issued]
    authority: pki.Issued

    def pair(self, case: str) -> tuple[str, str]:
        """(certificate file, key file) of a case."""
        return str(self.folder / f"{case}.pem"), str(self.folder / f"{case}.key")

    def dn(self, case: str) -> str:
        return pki.slash(self.issued[case].cert.subject)


def make_test_pki(folder: Path) -> TestPKI:
    folder.mkdir(parents=True, exist_ok=True)
    ca = pki.make_ca(pki.name(("O", "Test"), ("CN", "Test CA")))
    other = pki.make_ca(pki.name(("O", "Other"), ("CN", "Other CA")))
    test = lambda cn: pki.name(("O", "Test"), ("CN", cn))  # noqa: E731
    issued: dict[str, pki.Issued] = {
        "alice": pki.issue_user(ca, test("Alice")),
        "bob": pki.issue_user(ca, test("Bob")),
        "expired": pki.issue_user(
            ca,
            test("Old"),
            not_before=NOW - dt.timedelta(days=30),
            not_after=NOW - dt.timedelta(days=1),
        ),
        "mallory": pki.issue_user(other, test("Alice")),  # alice's DN from another CA
        "eve_comma": pki.issue_user(ca, test("Eve,O=Admin")),
        "eve_slash": pki.issue_user(ca, test("Eve/O=Admin")),
        "admin": pki.issue_user(ca, pki.name(("O", "Test"), ("CN", "Eve"), ("O", "Admin"))),
        "carol": pki.issue_user(ca, test("Carol")),  # valid, but in no grid-mapfile
    }
    issued["alice_proxy"] = pki.issue_proxy(issued["alice"])
    issued["alice_limited"] = pki.issue_proxy(issued["alice"], policy=pki.LIMITED)
    issued["bob_proxy"] = pki.issue_proxy(issued["bob"])
    issued["bad_name_proxy"] = pki.issue_proxy(
        issued["alice"], subject=pki.name(("O", "Test"), ("CN", "Admin"), ("CN", "999"))
    )
    issued["pathlen0_proxy"] = pki.issue_proxy(issued["alice"], pathlen=0)
    issued["proxy_of_proxy"] = pki.issue_proxy(issued["pathlen0_proxy"])
    issued["proxy_of_proxy_ok"] = pki.issue_proxy(issued["alice_proxy"])
    issued["independent_proxy"] = pki.issue_proxy(issued["alice"], policy=pki.INDEPENDENT)

    (folder / "ca.pem").write_bytes(pki.pem(ca.cert))
    (folder / "other-ca.pem").write_bytes(pki.pem(other.cert))
    (folder / "ca-crl.pem").write_bytes(pki.pem(pki.make_crl(ca, [issued["bob"].cert])))
    server_cert, server_key = pki.write_pair(folder, "server", pki.issue_server(ca))
    for case, cert in issued.items():
        pki.write_pair(folder, case, cert)
    pki.write_p12(folder / "alice.p12", issued["alice"], None, "alice")
    gridmap = folder / "grid-mapfile"
    gridmap.write_text(
        "# test grid-mapfile\n"
        '"/O=Test/CN=Alice" alice\n'
        "/O=Test/CN=Bob bob\n"
        '"/O=Test/CN=Eve/O=Admin" admin\n'
        '"/O=Test/CN=Old" alice\n'
    )
    return TestPKI(
        folder,
        folder / "ca.pem",
        folder / "ca-crl.pem",
        server_cert,
        server_key,
        gridmap,
        issued,
        ca,
    )


def write_x509_folder(folder: Path, ca_cn: str = "Test CA") -> pki.Issued:
    """A small PKI for in-process x509 tests: the CA (returned) as ``ca.pem``, its empty
    CRL ``crl.pem``, ``server.pem``/``server.key``, and a ``grid-mapfile`` mapping
    ``/O=Test/CN=Alice`` to alice."""
    ca = pki.make_ca(pki.name(("O", "Test"), ("CN", ca_cn)))
    (folder / "ca.pem").write_bytes(pki.pem(ca.cert))
    (folder / "crl.pem").write_bytes(pki.pem(pki.make_crl(ca)))
    pki.write_pair(folder, "server", pki.issue_server(ca))
    (folder / "grid-mapfile").write_text('"/O=Test/CN=Alice" alice\n')
    return ca


def tls_section(folder: Path) -> dict[str, Any]:
    """The ``tls`` config section over a ``write_x509_folder`` folder (client certificates
    optional)."""
    return {
        "certificate": str(folder / "server.pem"),
        "key": str(folder / "server.key"),
        "client_ca": str(folder / "ca.pem"),
        "crls": [str(folder / "crl.pem")],
        "client_certificates": "optional",
    }
