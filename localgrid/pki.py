"""A throwaway PKI for the demo and the tests, made with ``cryptography``.

Nothing here is for production: keys are written unencrypted (mode 0600) and the CA lives
next to the certificates it signs. What it makes:

- ``make_ca``: a self-signed root CA; ``issue_server``: a server certificate for
  ``127.0.0.1`` and ``localhost``; ``issue_user``: a client (end-entity) certificate;
- ``issue_proxy``: an RFC 3820 proxy certificate (``proxyCertInfo``, critical; subject =
  issuer subject + one ``CN``), also broken ones for tests (``subject=``, ``pathlen=``);
- ``make_crl``: a CRL signed by a CA; ``write_p12``: a PKCS#12 bundle;
- ``create_demo_pki(folder)``: the demo's set (CA, server, alice, bob revoked, alice's
  proxy, CRL, grid-mapfile, the CA as a hashed directory). Its CA and user
  certificates are RSA, so that Globus ``grid-proxy-init`` makes proxies from them (it
  cannot under ECDSA); the tests' PKIs are ECDSA unless asked (``use_rsa``).

Names are written in the order grid-mapfiles show them: ``name(("O", "Grid"), ("CN",
"Alice"))`` is ``/O=Grid/CN=Alice``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

PROXY_CERT_INFO = ObjectIdentifier("1.3.6.1.5.5.7.1.14")
INHERIT_ALL = "1.3.6.1.5.5.7.21.1"
INDEPENDENT = "1.3.6.1.5.5.7.21.2"
LIMITED = "1.3.6.1.4.1.3536.1.1.1.9"

ATTRIBUTES = {
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "CN": NameOID.COMMON_NAME,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "emailAddress": NameOID.EMAIL_ADDRESS,
}
Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate, its key, and the certificates above it that a client sends
    along (for a proxy: the end-entity certificate and any proxies between)."""

    cert: x509.Certificate
    key: Key
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def subject(self) -> x509.Name:
        return self.cert.subject


def name(*parts: tuple[str, str]) -> x509.Name:
    """A name from (attribute, value) pairs, outermost first (``/O=../CN=..`` order)."""
    return x509.Name([x509.RelativeDistinguishedName([_attr(a, v)]) for a, v in parts])


def _attr(attribute: str, value: str) -> x509.NameAttribute:
    return x509.NameAttribute(ATTRIBUTES[attribute], value)


def new_key(use_rsa: bool = False) -> Key:
    """A P-256 key, or with ``use_rsa`` a 2048-bit RSA key (Globus ``grid-proxy-init``
    signs proxies only under RSA certificates signed with RSA)."""
    if use_rsa:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: Key,
    *,
    serial: int | None,
    not_before: dt.datetime | None,
    not_after: dt.datetime | None,
    days: int,
) -> x509.CertificateBuilder:
    start = not_before or _now() - dt.timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(not_after or start + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )


def _key_usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not sign_certs,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )


def _by(ca: Issued, builder: x509.CertificateBuilder) -> x509.Certificate:
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())
    return builder.add_extension(aki, False).sign(ca.key, hashes.SHA256())


def make_ca(
    subject: x509.Name, *, days: int = 3650, parent: Issued | None = None, use_rsa: bool = False
) -> Issued:
    """A self-signed root CA, or an intermediate CA signed by ``parent`` (RSA: ``use_rsa``)."""
    key = new_key(use_rsa)
    issuer = parent.subject if parent else subject
    builder = _builder(
        subject, issuer, key, serial=None, not_before=None, not_after=None, days=days
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    builder = builder.add_extension(_key_usage(sign_certs=True), True)
    if parent is not None:
        return Issued(_by(parent, builder), key, (parent.cert, *parent.chain))
    return Issued(builder.sign(key, hashes.SHA256()), key)


def issue_server(ca: Issued, hosts: Iterable[str] = ("127.0.0.1", "localhost")) -> Issued:
    """A TLS server certificate whose SAN lists ``hosts`` (IP addresses or DNS names)."""
    key = new_key()
    hosts = list(hosts)
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    builder = _builder(
        name(("O", "davprovider demo"), ("CN", hosts[0])),
        ca.subject,
        key,
        serial=None,
        not_before=None,
        not_after=None,
        days=825,
    )
    builder = builder.add_extension(x509.SubjectAlternativeName(sans), False)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    builder = builder.add_extension(_key_usage(sign_certs=False), True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    return Issued(_by(ca, builder), key)


def issue_user(
    ca: Issued,
    subject: x509.Name,
    *,
    serial: int | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    days: int = 365,
    use_rsa: bool = False,
) -> Issued:
    """An end-entity client certificate (clientAuth) signed by ``ca`` (RSA: ``use_rsa``)."""
    key = new_key(use_rsa)
    builder = _builder(
        subject,
        ca.subject,
        key,
        serial=serial,
        not_before=not_before,
        not_after=not_after,
        days=days,
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    builder = builder.add_extension(_key_usage(sign_certs=False), True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
    return Issued(_by(ca, builder), key)


def issue_proxy(
    issuer: Issued,
    *,
    pathlen: int | None = None,
    policy: str = INHERIT_ALL,
    subject: x509.Name | None = None,
    hours: int = 12,
    extensions: Iterable[x509.ExtensionType] = (),
) -> Issued:
    """An RFC 3820 proxy certificate signed by ``issuer``'s key (an end-entity or a proxy).

    Its subject is the issuer's plus ``CN=<serial>``, unless ``subject`` overrides it
    (tests of the naming rule). ``pathlen`` limits the proxies that may follow it;
    ``extensions`` are added non-critical (a VOMS attribute certificate, say). Its key is
    of the issuer's kind (RSA under RSA)."""
    key = new_key(isinstance(issuer.key, rsa.RSAPrivateKey))
    serial = secrets.randbits(31) + 1
    if subject is None:
        rdns = [*issuer.subject.rdns, x509.RelativeDistinguishedName([_attr("CN", str(serial))])]
        subject = x509.Name(rdns)
    start = _now() - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(hours=hours))
        .add_extension(_key_usage(sign_certs=False), True)
        .add_extension(
            x509.UnrecognizedExtension(PROXY_CERT_INFO, proxy_cert_info(pathlen, policy)), True
        )
    )
    for extension in extensions:
        builder = builder.add_extension(extension, False)
    cert = builder.sign(issuer.key, hashes.SHA256())
    return Issued(cert, key, (issuer.cert, *issuer.chain))


def proxy_cert_info(pathlen: int | None, policy: str) -> bytes:
    """DER of ``ProxyCertInfo ::= SEQUENCE { pCPathLenConstraint INTEGER OPTIONAL,
    proxyPolicy SEQUENCE { policyLanguage OID } }``."""
    body = b""
    if pathlen is not None:
        body += _der(0x02, pathlen.to_bytes(max(1, (pathlen.bit_length() + 8) // 8), "big"))
    body += _der(0x30, _der(0x06, _oid_body(policy)))
    return _der(0x30, body)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _oid_body(dotted: str) -> bytes:
    numbers = [int(n) for n in dotted.split(".")]
    out = bytearray([numbers[0] * 40 + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def make_crl(
    ca: Issued, revoked: Iterable[x509.Certificate] = (), *, days: int = 30
) -> x509.CertificateRevocationList:
    """A CRL from ``ca`` listing ``revoked`` (valid from 5 minutes ago for ``days``)."""
    start = _now() - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(start)
        .next_update(start + dt.timedelta(days=days))
        .add_extension(x509.CRLNumber(secrets.randbits(20)), False)
    )
    for cert in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(start)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca.key, hashes.SHA256())


def pem(*items: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    return b"".join(item.public_bytes(serialization.Encoding.PEM) for item in items)


def key_pem(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def write_pair(folder: Path, stem: str, issued: Issued) -> tuple[Path, Path]:
    """``stem.pem`` (certificate, then the chain it is sent with) and ``stem.key``."""
    cert_path = folder / f"{stem}.pem"
    cert_path.write_bytes(pem(issued.cert, *issued.chain))
    return cert_path, write_private(folder / f"{stem}.key", key_pem(issued.key))


def write_proxy_file(path: Path, proxy: Issued) -> Path:
    """A Globus-style proxy file: proxy certificate, its key, then the chain."""
    return write_private(path, pem(proxy.cert) + key_pem(proxy.key) + pem(*proxy.chain))


def write_p12(path: Path, issued: Issued, password: str | None, label: str) -> Path:
    """A PKCS#12 bundle (key, certificate, chain); unencrypted when ``password`` is None."""
    encryption: serialization.KeySerializationEncryption
    if password:
        encryption = serialization.BestAvailableEncryption(password.encode())
    else:
        encryption = serialization.NoEncryption()
    data = pkcs12.serialize_key_and_certificates(
        label.encode(), issued.key, issued.cert, list(issued.chain) or None, encryption
    )
    return write_private(path, data)


def slash(subject: x509.Name) -> str:
    """``/O=Grid/CN=Alice`` for simple names (the demo's; no escaping needed)."""
    short = {oid: attr for attr, oid in ATTRIBUTES.items()}
    parts = []
    for rdn in subject.rdns:
        for attribute in rdn:
            parts.append(f"/{short[attribute.oid]}={attribute.value!s}")
    return "".join(parts)


DEMO_O = "davprovider demo"


def demo_subject(user: str) -> x509.Name:
    """``/O=davprovider demo/OU=Users/CN=Alice`` for ``alice``."""
    return name(("O", DEMO_O), ("OU", "Users"), ("CN", user.capitalize()))


@dataclass(frozen=True)
class DemoPKI:
    """Paths of the demo PKI's files (all in ``folder``) and the users' DNs."""

    folder: Path
    ca: Path
    crl: Path
    server_cert: Path
    server_key: Path
    gridmap: Path
    users: dict[str, tuple[Path, Path, Path]]  # user -> (cert, key, p12)
    proxy: Path
    dns: dict[str, str]
    ca_dir: Path  # the CA as OpenSSL's hashed directory (X509_CERT_DIR, davix --capath)

    def gateway_sections(self) -> dict[str, Any]:
        """The gateway's ``tls:`` (optional client certificates, this CA and its CRL) and
        ``x509:`` (this grid-mapfile) config sections."""
        return {
            "tls": {
                "certificate": str(self.server_cert),
                "key": str(self.server_key),
                "client_ca": str(self.ca),
                "crls": [str(self.crl)],
                "client_certificates": "optional",
            },
            "x509": {"mapping": "gridmap", "gridmap": str(self.gridmap)},
        }


def _demo_paths(folder: Path, users: list[str]) -> DemoPKI:
    return DemoPKI(
        folder=folder,
        ca=folder / "ca.pem",
        crl=folder / "ca-crl.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        gridmap=folder / "grid-mapfile",
        users={u: (folder / f"{u}.pem", folder / f"{u}.key", folder / f"{u}.p12") for u in users},
        proxy=folder / f"{users[0]}-proxy.pem",
        dns={u: slash(demo_subject(u)) for u in users},
        ca_dir=folder / "certificates",
    )


def create_demo_pki(
    folder: Path, users: Iterable[str] = ("alice", "bob"), revoked: Iterable[str] = ("bob",)
) -> DemoPKI:
    """The demo's PKI in ``folder``: CA, CRL (revoking ``revoked``), server certificate,
    one certificate, key and PKCS#12 (password = user name) per user, a proxy of the
    first user's, and a grid-mapfile mapping each user's DN to the user."""
    users = list(users)
    paths = _demo_paths(folder, users)
    folder.mkdir(parents=True, exist_ok=True)
    ca = make_ca(name(("O", DEMO_O), ("CN", "Demo CA")), use_rsa=True)
    paths.ca.write_bytes(pem(ca.cert))
    write_private(folder / "ca.key", key_pem(ca.key))
    write_pair(folder, "server", issue_server(ca))
    lines = ['# grid-mapfile of the davprovider demo: "DN" user']
    first: Issued | None = None
    for user in users:
        issued = issue_user(ca, demo_subject(user), use_rsa=True)
        first = first or issued
        write_pair(folder, user, issued)
        write_p12(paths.users[user][2], issued, user, user)
        lines.append(f'"{paths.dns[user]}" {user}')
    assert first is not None
    write_proxy_file(paths.proxy, issue_proxy(first, hours=24 * 30))
    paths.gridmap.write_text("\n".join(lines) + "\n")
    refresh_demo_crl(paths, revoked)
    write_ca_dir(paths.ca_dir, ca.cert)
    return paths


def write_ca_dir(folder: Path, ca: x509.Certificate) -> Path:
    """``folder`` as a grid CA directory (``/etc/grid-security/certificates`` style):
    ``demo-ca.pem`` and its ``<subject hash>.0`` link, made by ``openssl rehash`` (a
    folder without the link when openssl is missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "demo-ca.pem").write_bytes(pem(ca))
    openssl = shutil.which("openssl")
    if openssl is not None:
        subprocess.run([openssl, "rehash", str(folder)], check=False, capture_output=True)
    return folder


def refresh_demo_crl(paths: DemoPKI, revoked: Iterable[str]) -> None:
    """Sign a fresh CRL (30 days) revoking ``revoked`` users' certificates."""
    ca_cert = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    ca_key = serialization.load_pem_private_key((paths.folder / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    certs = [x509.load_pem_x509_certificate(paths.users[u][0].read_bytes()) for u in revoked]
    paths.crl.write_bytes(pem(make_crl(Issued(ca_cert, ca_key), certs)))


def ensure_demo_pki(
    folder: Path, users: Iterable[str] = ("alice", "bob"), revoked: Iterable[str] = ("bob",)
) -> DemoPKI:
    """The demo PKI in ``folder``: made once (again if it predates RSA), its CRL renewed
    on every call."""
    users, revoked = list(users), list(revoked)
    paths = _demo_paths(folder, users)
    needed = [paths.ca, paths.server_cert, paths.server_key, paths.gridmap, paths.proxy]
    needed += [path for files in paths.users.values() for path in files]
    if not all(p.exists() for p in [*needed, folder / "ca.key"]) or not _rsa(paths):
        return create_demo_pki(folder, users, revoked)
    refresh_demo_crl(paths, revoked)
    write_ca_dir(paths.ca_dir, x509.load_pem_x509_certificate(paths.ca.read_bytes()))
    return paths


def _rsa(paths: DemoPKI) -> bool:
    """True when every user certificate of the demo PKI has an RSA key."""
    for cert_path, _key, _p12 in paths.users.values():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if not isinstance(cert.public_key(), rsa.RSAPublicKey):
            return False
    return True
