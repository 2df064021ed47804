"""A test VO: a VOMS server certificate, attribute certificates (RFC 5755, as VOMS
servers write them, built with asn1crypto) and the vomsdir that trusts them.

- ``issue_voms_server(ca, host, rsa=False)``: the VOMS server's certificate and key;
- ``make_ac(server, holder, vo, fqans, ...)``: the DER of one AC for ``holder`` (the
  user's end-entity certificate), signed by ``server``; keywords break it for tests
  (dates, holder serial, signer certificate left out, an unknown critical extension);
- ``voms_extension(*acs)``: the proxy extension carrying them (pass it to
  ``pki.issue_proxy(..., extensions=[...])``);
- ``write_lsc(vomsdir, vo, host, *names)``: ``<vomsdir>/<vo>/<host>.lsc``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from localgrid import pki

VOMS_EXTENSION = ObjectIdentifier("1.3.6.1.4.1.8005.100.100.5")
FQAN_ATTRIBUTE = "1.3.6.1.4.1.8005.100.100.4"
AC_CERTS = "1.3.6.1.4.1.8005.100.100.10"
PORT = 15000


def issue_voms_server(ca: pki.Issued, host: str, *, rsa_key: bool = False) -> pki.Issued:
    """``/O=Test/CN=<host>`` signed by ``ca``, with an EC (or a 2048-bit RSA) key."""
    key: object = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa_key else pki.new_key()
    )
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(pki.name(("O", "Test"), ("CN", host)))
        .issuer_name(ca.subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)  # type: ignore[attr-defined]
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
    )
    cert = builder.sign(ca.key, hashes.SHA256())
    return pki.Issued(cert, key, (ca.cert,))  # type: ignore[arg-type]


def _names(name: x509.Name) -> asn1_x509.GeneralNames:
    value = asn1_x509.Name.load(name.public_bytes())
    return asn1_x509.GeneralNames([asn1_x509.GeneralName(name="directory_name", value=value)])


def _attribute(vo: str, host: str, fqans: Sequence[str]) -> dict[str, object]:
    authority = asn1_x509.GeneralName(
        name="uniform_resource_identifier", value=f"{vo}://{host}:{PORT}"
    )
    syntax = cms.IetfAttrSyntax(
        {
            "policy_authority": asn1_x509.GeneralNames([authority]),
            "values": [cms.IetfAttrValue(name="octets", value=f.encode()) for f in fqans],
        }
    )
    return {"type": FQAN_ATTRIBUTE, "values": [core.Any.load(syntax.dump())]}


def _certs_extension(certs: Sequence[x509.Certificate]) -> bytes:
    inner = core.SequenceOf(
        [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs],
        spec=asn1_x509.Certificate,
    )
    body = inner.dump()
    return b"\x30" + _length(len(body)) + body


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _key_id(server: pki.Issued) -> asn1_x509.AuthorityKeyIdentifier:
    public = server.key.public_key()
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(public)  # type: ignore[arg-type]
    return asn1_x509.AuthorityKeyIdentifier.load(aki.public_bytes())


def make_ac(
    server: pki.Issued,
    holder: x509.Certificate,
    vo: str,
    fqans: Sequence[str],
    *,
    host: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    holder_serial: int | None = None,
    include_certs: bool = True,
    critical_oid: str | None = None,
) -> bytes:
    """The DER of a VOMS AC for ``holder`` signed by ``server`` (see the docstring)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    host = host or server.cert.subject.rfc4514_string().split("CN=")[-1].split(",")[0]
    rsa_key = isinstance(server.key, rsa.RSAPrivateKey)
    extensions: list[dict[str, object]] = [
        {"extn_id": "2.5.29.56", "critical": False, "extn_value": b"\x05\x00"},
        {"extn_id": "2.5.29.35", "critical": False, "extn_value": _key_id(server)},
    ]
    if include_certs:
        certs = _certs_extension([server.cert])
        extensions.append({"extn_id": AC_CERTS, "critical": False, "extn_value": certs})
    if critical_oid:
        extensions.append({"extn_id": critical_oid, "critical": True, "extn_value": b"\x05\x00"})
    info = cms.AttributeCertificateInfoV2(
        {
            "version": "v2",
            "holder": {
                "base_certificate_id": {
                    "issuer": _names(holder.issuer),
                    "serial": holder_serial or holder.serial_number,
                }
            },
            "issuer": cms.AttCertIssuer(
                name="v2_form", value={"issuer_name": _names(server.cert.subject)}
            ),
            "signature": {"algorithm": "sha256_rsa" if rsa_key else "sha256_ecdsa"},
            "serial_number": secrets.randbits(63),
            "att_cert_validity_period": {
                "not_before_time": not_before or now - dt.timedelta(minutes=1),
                "not_after_time": not_after or now + dt.timedelta(hours=12),
            },
            "attributes": [_attribute(vo, host, fqans)],
            "extensions": extensions,
        }
    )
    tbs = info.dump()
    if rsa_key:
        signature = server.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    else:
        signature = server.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    ac = cms.AttributeCertificateV2(
        {
            "ac_info": info,
            "signature_algorithm": {"algorithm": "sha256_rsa" if rsa_key else "sha256_ecdsa"},
            "signature": signature,
        }
    )
    return ac.dump()


def voms_extension(*acs: bytes) -> x509.UnrecognizedExtension:
    """The proxy extension ``1.3.6.1.4.1.8005.100.100.5``: SEQUENCE { SEQUENCE OF AC }."""
    body = b"".join(acs)
    inner = b"\x30" + _length(len(body)) + body
    return x509.UnrecognizedExtension(VOMS_EXTENSION, b"\x30" + _length(len(inner)) + inner)


def write_lsc(vomsdir: Path, vo: str, host: str, *names: x509.Name) -> Path:
    """``<vomsdir>/<vo>/<host>.lsc`` listing ``names`` in slash form, one a line."""
    folder = vomsdir / vo
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{host}.lsc"
    path.write_text("".join(pki.slash(n) + "\n" for n in names))
    return path
