"""VOMS attribute certificates (RFC 5755 ACs as VOMS servers issue them), read with
asn1crypto; ``auth/voms.py`` decides whether to trust them.

A VOMS proxy carries the extension ``1.3.6.1.4.1.8005.100.100.5``: a SEQUENCE holding a
SEQUENCE OF ``AttributeCertificate``. In each AC:

- ``holder.baseCertificateID``: issuer and serial of the user's end-entity certificate
  (VOMS servers have long written the certificate's *subject* there instead of its
  issuer; both are accepted, as VOMS's own library does);
- ``issuer`` (v2Form): the VOMS server's certificate subject;
- the attribute ``1.3.6.1.4.1.8005.100.100.4`` (IetfAttrSyntax): ``policyAuthority`` the
  URI ``<vo>://<host>:<port>``, values the FQANs as OCTET STRINGs
  (``/atlas/Role=production/Capability=NULL``), each under the top group ``/<vo>``;
- extension ``1.3.6.1.4.1.8005.100.100.10``: the VOMS server's certificate (and
  possibly its CAs), as SEQUENCE { SEQUENCE OF Certificate }.

``read_acs(extension)`` parses, ``AttributeCertificate.problem_with(...)`` checks holder,
dates, issuer name and signature against a given signer certificate. Nothing here
reads files or trusts anything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

FQAN_ATTRIBUTE = "1.3.6.1.4.1.8005.100.100.4"
AC_CERTS = "1.3.6.1.4.1.8005.100.100.10"
AC_TAGS = "1.3.6.1.4.1.8005.100.100.11"
TARGET_INFORMATION = "2.5.29.55"
#: The only critical AC extension VOMS defines (targets; not enforced here).
KNOWN_CRITICAL = {TARGET_INFORMATION}
#: Clock skew allowed on the AC's validity period (as VOMS's library allows).
SKEW = dt.timedelta(minutes=5)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_NAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


class ACError(ValueError):
    """An attribute certificate that cannot be read or is not VOMS's."""


@dataclass(frozen=True)
class AttributeCertificate:
    """One parsed VOMS AC (see the module docstring)."""

    vo: str
    host: str
    port: str
    fqans: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    holder_issuer: asn1_x509.Name
    holder_serial: int
    issuer: asn1_x509.Name
    certs: tuple[x509.Certificate, ...]
    critical: tuple[str, ...]
    signed: bytes
    signature: bytes
    algorithm: tuple[str, str]  # (signature algorithm, hash)

    def problem_with(
        self, signer: x509.Certificate, end_entity: x509.Certificate, now: dt.datetime
    ) -> str | None:
        """Why this AC is not valid for ``end_entity`` as signed by ``signer``; ``None``
        when it is (the signer's own trust is the caller's to check)."""
        if now + SKEW < self.not_before:
            return f"attribute certificate not valid before {self.not_before.isoformat()}"
        if now - SKEW > self.not_after:
            return f"attribute certificate expired at {self.not_after.isoformat()}"
        if self.holder_serial != end_entity.serial_number or self.holder_issuer not in (
            _name(end_entity.issuer),
            _name(end_entity.subject),
        ):
            return "attribute certificate was issued for another certificate"
        unknown = [oid for oid in self.critical if oid not in KNOWN_CRITICAL]
        if unknown:
            return f"attribute certificate has an unknown critical extension {unknown[0]}"
        if _name(signer.subject) != self.issuer:
            return "attribute certificate issuer is not the signer's subject"
        return signature_problem(signer, self.signed, self.signature, self.algorithm)


def _name(name: x509.Name) -> asn1_x509.Name:
    return asn1_x509.Name.load(name.public_bytes())


def signature_problem(
    signer: x509.Certificate, signed: bytes, signature: bytes, algorithm: tuple[str, str]
) -> str | None:
    """``None`` when ``signature`` over ``signed`` verifies with ``signer``'s key."""
    kind, hash_name = algorithm
    hash_type = _HASHES.get(hash_name)
    if hash_type is None:
        return f"unsupported signature hash {hash_name}"
    key = signer.public_key()
    try:
        if kind == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), hash_type())
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(hash_type()))
        else:
            return f"unsupported signature algorithm {kind} for this key"
    except InvalidSignature:
        return "attribute certificate signature does not verify"
    return None


def read_acs(extension: bytes) -> list[AttributeCertificate]:
    """The ACs of a proxy's VOMS extension value; raise ``ACError``."""
    try:
        outer = core.Sequence.load(extension, strict=True)
        inner = outer[0] if len(outer) == 1 else None
        if inner is None:
            raise ACError("VOMS extension is not a SEQUENCE of one SEQUENCE OF ACs")
        acs = core.SequenceOf.load(inner.dump(), spec=cms.AttributeCertificateV2, strict=True)
        return [parse_ac(ac) for ac in acs]
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, ACError):
            raise
        raise ACError(f"malformed VOMS extension: {exc}") from None


def parse_ac(ac: cms.AttributeCertificateV2) -> AttributeCertificate:
    """One AC's fields; raise ``ACError`` (or the parser's ``ValueError``)."""
    info = ac["ac_info"]
    if info["version"].native != "v2":
        raise ACError("attribute certificate is not version 2")
    base = info["holder"]["base_certificate_id"]
    if base.native is None:
        raise ACError("attribute certificate holder has no baseCertificateID")
    issuer = info["issuer"]
    if issuer.name != "v2_form":
        raise ACError("attribute certificate issuer is not in v2Form")
    vo, host, port, fqans = _fqans(info["attributes"])
    validity = info["att_cert_validity_period"]
    extensions = [] if isinstance(info["extensions"], core.Void) else list(info["extensions"])
    critical = tuple(e["extn_id"].dotted for e in extensions if e["critical"].native)
    algorithm = ac["signature_algorithm"]
    return AttributeCertificate(
        vo=vo,
        host=host,
        port=port,
        fqans=fqans,
        not_before=validity["not_before_time"].native,
        not_after=validity["not_after_time"].native,
        holder_issuer=_one_directory_name(base["issuer"], "holder issuer"),
        holder_serial=base["serial"].native,
        issuer=_one_directory_name(issuer.chosen["issuer_name"], "issuer"),
        certs=_signer_certs(extensions),
        critical=critical,
        signed=info.dump(),
        signature=ac["signature"].native,
        algorithm=(algorithm.signature_algo, algorithm.hash_algo),
    )


def _one_directory_name(names: asn1_x509.GeneralNames, what: str) -> asn1_x509.Name:
    if len(names) != 1 or names[0].name != "directory_name":
        raise ACError(f"attribute certificate {what} is not one directory name")
    return names[0].chosen


def _fqans(attributes: cms.AttCertAttributes) -> tuple[str, str, str, tuple[str, ...]]:
    """(vo, host, port, FQANs) from the VOMS attribute."""
    found = [a for a in attributes if a["type"].dotted == FQAN_ATTRIBUTE]
    if len(found) != 1 or len(found[0]["values"]) != 1:
        raise ACError("attribute certificate has no single VOMS attribute")
    syntax = cms.IetfAttrSyntax.load(found[0]["values"][0].dump(), strict=True)
    authority = syntax["policy_authority"]
    if (
        authority.native is None
        or len(authority) != 1
        or authority[0].name != "uniform_resource_identifier"
    ):
        raise ACError("VOMS attribute has no single policyAuthority URI")
    vo, sep, contact = authority[0].native.partition("://")
    host, _, port = contact.rpartition(":") if ":" in contact else (contact, "", "")
    if not sep or not _NAME_PART.fullmatch(vo) or not _NAME_PART.fullmatch(host):
        raise ACError(f"VOMS policyAuthority {authority[0].native!r} is not vo://host:port")
    fqans: list[str] = []
    for value in syntax["values"]:
        if value.name != "octets":
            raise ACError("an FQAN is not an OCTET STRING")
        fqan = value.native.decode("utf-8", "replace")
        if not (fqan == f"/{vo}" or fqan.startswith(f"/{vo}/")):
            raise ACError(f"FQAN {fqan!r} is not under the VO's group /{vo}")
        fqans.append(fqan)
    if not fqans:
        raise ACError("VOMS attribute holds no FQAN")
    return vo, host, port, tuple(fqans)


def _signer_certs(extensions: list[asn1_x509.Extension]) -> tuple[x509.Certificate, ...]:
    """The certificates of the AC's ``AC_CERTS`` extension (signer first)."""
    for extension in extensions:
        if extension["extn_id"].dotted != AC_CERTS:
            continue
        raw = extension["extn_value"].contents
        outer = core.Sequence.load(raw, strict=True)
        if len(outer) != 1:
            raise ACError("AC certificates extension is not one SEQUENCE OF Certificate")
        certs = core.SequenceOf.load(outer[0].dump(), spec=asn1_x509.Certificate, strict=True)
        return tuple(x509.load_der_x509_certificate(c.dump()) for c in certs)
    return ()
