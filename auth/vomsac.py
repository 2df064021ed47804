"""VOMS attribute certificates (RFC 5755 ACs in a proxy's extension), verified.

A VOMS proxy carries, in extension ``1.3.6.1.4.1.8005.100.100.5`` of a proxy certificate,
attribute certificates signed by a VO's VOMS server. ``verify`` accepts one when:

- it is within its validity period;
- its holder is the end-entity certificate of the chain (serial number, and issuer: the
  EEC's issuer, or its subject as some VOMS servers and ``voms-proxy-fake`` write it);
- the VOMS server certificate it carries (extension ``...100.100.10``) is named by an
  ``.lsc`` file in ``<vomsdir>/<vo>/`` (line 1 its subject, line 2 its issuer), is within
  its own validity period and was issued by one of the trusted CAs;
- its signature verifies with that certificate's key (RSA or ECDSA, the digest named by
  the AC's signature algorithm).

It then yields the VO (the policy authority ``<vo>://host:port``) and the FQANs, primary
first, as the AC lists them. Parsing is asn1crypto's (RFC 5755 is ``cms.AttributeCertificateV2``);
signatures are the ``cryptography`` package's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from auth.certchain import DNError, name_parts, parse_dn

AC_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.8005.100.100.5")
FQAN_ATTRIBUTE = "1.3.6.1.4.1.8005.100.100.4"
SERVER_CERTS = "1.3.6.1.4.1.8005.100.100.10"
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}  # fmt: skip


class VomsError(ValueError):
    """An attribute certificate that is not accepted; ``str()`` says why."""


@dataclass(frozen=True)
class VomsAttributes:
    vo: str
    fqans: tuple[str, ...]
    server: str  # the VOMS server certificate's subject (RFC 4514)


class _ACs(core.SequenceOf):
    _child_spec = cms.AttributeCertificateV2


class _ACLists(core.SequenceOf):
    _child_spec = _ACs


class _Values(core.SequenceOf):
    _child_spec = core.OctetString


class _IetfAttrSyntax(core.Sequence):
    _fields = [
        ("policy_authority", asn1_x509.GeneralNames, {"implicit": 0, "optional": True}),
        ("values", _Values),
    ]


class _Certificates(core.SequenceOf):
    _child_spec = asn1_x509.Certificate


class _AcCerts(core.Sequence):  # AcCerts ::= SEQUENCE { certList SEQUENCE OF Certificate }
    _fields = [("cert_list", _Certificates)]


def attribute_certificates(proxies: list[x509.Certificate]) -> list[cms.AttributeCertificateV2]:
    """The ACs in the proxies' VOMS extensions (``VomsError`` when one is malformed)."""
    found = []
    for cert in proxies:
        try:
            value = cert.extensions.get_extension_for_oid(AC_EXTENSION).value
        except x509.ExtensionNotFound:
            continue
        try:
            lists = _ACLists.load(value.value)  # type: ignore[attr-defined]
            found += [ac for acs in lists for ac in acs]
        except (ValueError, TypeError) as exc:
            raise VomsError(f"malformed VOMS extension: {exc}") from None
    return found


def verify(
    ac: cms.AttributeCertificateV2,
    eec: x509.Certificate,
    vomsdir: Path,
    trusted: list[x509.Certificate],
    now: dt.datetime | None = None,
) -> VomsAttributes:
    """The VO and FQANs of ``ac`` once it passes every check above; else ``VomsError``."""
    try:
        info = ac["ac_info"]
        _check_time(info["att_cert_validity_period"].native, now, "attribute certificate")
        _check_holder(info["holder"], eec)
        vo, fqans = _attributes(info)
        server = _server_certificate(info)
        _check_server(server, vo, vomsdir, trusted, now)
        _check_signature(ac, server)
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, VomsError):
            raise
        raise VomsError(f"malformed attribute certificate: {exc}") from None
    return VomsAttributes(vo, fqans, server.subject.rfc4514_string())


def _check_time(period: dict, now: dt.datetime | None, what: str) -> None:
    now = now or dt.datetime.now(dt.UTC)
    if not period["not_before_time"] <= now <= period["not_after_time"]:
        raise VomsError(f"{what} not valid now (valid {period['not_before_time']:%Y-%m-%d %H:%M}"
                        f" to {period['not_after_time']:%Y-%m-%d %H:%M} UTC)")  # fmt: skip


def _check_holder(holder: cms.Holder, eec: x509.Certificate) -> None:
    base = holder["base_certificate_id"]
    if base.native is None or base["serial"].native != eec.serial_number:
        raise VomsError("the attribute certificate belongs to another certificate")
    names = [asn1_x509.Name.load(n.public_bytes()) for n in (eec.issuer, eec.subject)]
    issuers = [g.chosen for g in base["issuer"] if g.name == "directory_name"]
    if not any(issuer == name for issuer in issuers for name in names):
        raise VomsError("the attribute certificate belongs to another certificate")


def _attributes(info: cms.AttributeCertificateInfoV2) -> tuple[str, tuple[str, ...]]:
    for attribute in info["attributes"]:
        if attribute["type"].dotted != FQAN_ATTRIBUTE:
            continue
        for value in attribute["values"]:
            syntax = _IetfAttrSyntax.load(value.dump())
            authority = syntax["policy_authority"].native or []
            vo = str(authority[0]).split("://", 1)[0] if authority else ""
            fqans = tuple(v.native.decode("utf-8", "replace") for v in syntax["values"])
            if vo and fqans:
                return vo, fqans
    raise VomsError("the attribute certificate names no VO and FQANs")


def _server_certificate(info: cms.AttributeCertificateInfoV2) -> x509.Certificate:
    for extension in info["extensions"] or []:
        if extension["extn_id"].dotted == SERVER_CERTS:
            certs = _AcCerts.load(extension["extn_value"].contents)["cert_list"]
            if len(certs):
                return x509.load_der_x509_certificate(certs[0].dump())
    raise VomsError("the attribute certificate carries no VOMS server certificate")


def _check_server(
    server: x509.Certificate,
    vo: str,
    vomsdir: Path,
    trusted: list[x509.Certificate],
    now: dt.datetime | None,
) -> None:
    if "/" in vo or vo.startswith(".") or not _listed(server, vomsdir / vo):
        raise VomsError(f"VOMS server {server.subject.rfc4514_string()} is not trusted for {vo}")
    period = {"not_before_time": server.not_valid_before_utc,
              "not_after_time": server.not_valid_after_utc}  # fmt: skip
    _check_time(period, now, "VOMS server certificate")
    for ca in trusted:
        if ca.subject == server.issuer:
            try:
                server.verify_directly_issued_by(ca)
                return
            except (ValueError, TypeError, InvalidSignature):
                continue
    raise VomsError("the VOMS server certificate was not issued by a trusted CA")


def _listed(server: x509.Certificate, folder: Path) -> bool:
    """Whether an ``.lsc`` file in ``folder`` names ``server``'s subject and issuer."""
    wanted = (name_parts(server.subject), name_parts(server.issuer))
    for lsc in sorted(folder.glob("*.lsc")) if folder.is_dir() else []:
        lines = [s.strip() for s in lsc.read_text(errors="replace").splitlines()]
        lines = [s for s in lines if s and not s.startswith("#")]
        try:
            if len(lines) >= 2 and (parse_dn(lines[0]), parse_dn(lines[1])) == wanted:
                return True
        except DNError:
            continue
    return False


def _check_signature(ac: cms.AttributeCertificateV2, server: x509.Certificate) -> None:
    algorithm = ac["signature_algorithm"]
    digest = _HASHES.get(algorithm.hash_algo)
    if digest is None:
        raise VomsError(f"unsupported signature digest {algorithm.hash_algo}")
    signed, signature, key = ac["ac_info"].dump(), ac["signature"].native, server.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), digest())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(digest()))
        else:
            raise VomsError("unsupported VOMS server key type")
    except InvalidSignature:
        raise VomsError("the attribute certificate's signature does not verify") from None
