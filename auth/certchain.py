"""The caller's identity, computed from the verified certificate chain (never from
cheroot's unescaped DN string).

``analyse_chain(ders)`` takes the chain OpenSSL verified (leaf first) and returns a
``PeerCertificate``: the end-entity certificate is the first one that is not an RFC 3820
proxy; its subject is given in RFC 4514 (``CN=Alice,O=Grid``) and in the slash form of
grid-mapfiles (``/O=Grid/CN=Alice``), together with issuer, serial, expiry and whether a
proxy was used. The RFC 3820 rules are checked again here (OpenSSL checks them too when
proxies are allowed): each proxy's subject is its issuer's subject plus one ``CN``, path
length limits hold, the policy language is one we honour.

DN strings are compared as sequences of (attribute, value) pairs (``DNParts``), never as
text: a certificate whose CN is ``Eve/O=Admin`` or ``Eve,O=Admin`` has two pairs and
cannot match ``/O=Test/CN=Eve/O=Admin`` (three). In the slash form we print, ``/`` and
``\\`` inside a value are escaped (``\\/``, ``\\\\``); ``parse_dn`` reads that form, the
unescaped Globus form (a segment without a known ``ATTR=`` continues the previous value,
as in ``/CN=ldap/host.example.org``) and RFC 4514.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID, ObjectIdentifier

#: Environ key of the caller's ``PeerCertificate`` (absent without a client certificate),
#: put there by the TLS layer once the handshake verified the chain.
PEER_KEY = "davprovider.tls.peer"

PROXY_CERT_INFO = ObjectIdentifier("1.3.6.1.5.5.7.1.14")
INHERIT_ALL = "1.3.6.1.5.5.7.21.1"
INDEPENDENT = "1.3.6.1.5.5.7.21.2"
LIMITED = "1.3.6.1.4.1.3536.1.1.1.9"

AVA = tuple[str, str]
DNParts = tuple[AVA, ...]

#: OpenSSL's short names (what grid-mapfiles and ``iadmin aua`` use), by OID.
SHORT_NAMES: dict[ObjectIdentifier, str] = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN",
    NameOID.TITLE: "title",
    NameOID.STREET_ADDRESS: "street",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.PSEUDONYM: "pseudonym",
    NameOID.DN_QUALIFIER: "dnQualifier",
    NameOID.GENERATION_QUALIFIER: "generationQualifier",
    NameOID.INITIALS: "initials",
}
#: Lower-cased spellings (and old aliases) -> canonical short name.
_CANONICAL = {name.lower(): name for name in SHORT_NAMES.values()}
_CANONICAL.update({"e": "emailAddress", "email": "emailAddress", "userid": "UID"})
_OID_NAME = re.compile(r"\d+(\.\d+)+")


class DNError(ValueError):
    """A DN string that cannot be read."""


def canonical_attribute(name: str) -> str | None:
    """The canonical short name for ``name`` (case-insensitive), a dotted OID as is,
    or ``None`` when ``name`` is not an attribute type we know."""
    if _OID_NAME.fullmatch(name):
        return name
    return _CANONICAL.get(name.lower())


def name_parts(name: x509.Name) -> DNParts:
    """The (attribute, value) pairs of ``name``, outermost first (slash order)."""
    parts: list[AVA] = []
    for rdn in name.rdns:
        for attribute in rdn:
            label = SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
            value = attribute.value
            text = value if isinstance(value, str) else bytes(value).hex()
            parts.append((label, text))
    return tuple(parts)


def slash_dn(parts: DNParts) -> str:
    """``/O=Grid/CN=Alice``, with ``\\`` and ``/`` inside values escaped."""
    return "".join(
        f"/{a}={v.replace(chr(92), chr(92) * 2).replace('/', chr(92) + '/')}" for a, v in parts
    )


def oneline_dn(parts: DNParts) -> str:
    """The unescaped Globus/OpenSSL one-line form (as most grid-mapfiles hold it);
    ambiguous when a value contains ``/``: use only to look up, then compare parts."""
    return "".join(f"/{a}={v}" for a, v in parts)


def parse_dn(text: str) -> DNParts:
    """Read a DN in slash form (escaped or Globus) or RFC 4514; raise ``DNError``."""
    text = text.strip()
    if text.startswith("/"):
        return _parse_slash(text)
    try:
        name = x509.Name.from_rfc4514_string(text)
    except ValueError as exc:
        raise DNError(f"not a DN: {text!r} ({exc})") from None
    if not name.rdns:
        raise DNError("empty DN")
    return name_parts(name)


def _split_slash(text: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text[1:]:
        if escaped:
            current.append("\0" if char == "/" else char)  # a literal slash, kept apart
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "/":
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise DNError(f"DN ends with a lone backslash: {text!r}")
    segments.append("".join(current))
    return segments


def _parse_slash(text: str) -> DNParts:
    parts: list[list[str]] = []
    for segment in _split_slash(text):
        attribute, sep, value = segment.partition("=")
        canonical = canonical_attribute(attribute) if sep else None
        if canonical is not None:
            parts.append([canonical, value])
        elif parts:
            parts[-1][1] += "/" + segment  # Globus: "/CN=ldap/host.example.org"
        else:
            raise DNError(f"DN must start with /ATTRIBUTE=value: {text!r}")
    return tuple((a, v.replace("\0", "/")) for a, v in parts)


@dataclass(frozen=True)
class ProxyInfo:
    """The ``ProxyCertInfo`` extension of an RFC 3820 proxy."""

    pathlen: int | None
    policy: str


@dataclass(frozen=True)
class PeerCertificate:
    """Who the verified chain says the client is (see the module docstring).

    ``subject``/``subject_slash``/``parts``, ``issuer``, ``serial`` (hex) and
    ``not_after`` describe the end-entity certificate; ``expires`` is the earliest
    ``notAfter`` in the chain the client presented; ``proxy`` tells whether a proxy
    was used (``proxy_depth`` proxies, ``limited`` for Globus limited proxies).
    ``problem`` is set when the chain breaks one of our rules: such a peer MUST NOT
    be given an identity.
    """

    subject: str
    subject_slash: str
    parts: DNParts
    issuer: str
    serial: str
    not_after: dt.datetime
    expires: dt.datetime
    proxy: bool
    proxy_depth: int
    limited: bool
    leaf_sha256: str
    problem: str | None = None


def proxy_info(cert: x509.Certificate) -> ProxyInfo | None:
    """The certificate's ``ProxyCertInfo``, or ``None`` for a certificate that is not
    an RFC 3820 proxy. Raises ``ValueError`` when the extension is malformed."""
    try:
        ext = cert.extensions.get_extension_for_oid(PROXY_CERT_INFO)
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    return _parse_proxy_cert_info(raw)


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, content, next position) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, size = data[pos], data[pos + 1]
    pos += 2
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + size > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + size], pos + size


def _oid_text(body: bytes) -> str:
    if not body:
        raise ValueError("empty OID")
    numbers = [min(body[0] // 40, 2), body[0] - 40 * min(body[0] // 40, 2)]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    return ".".join(map(str, numbers))


def _parse_proxy_cert_info(raw: bytes) -> ProxyInfo:
    tag, body, end = _tlv(raw, 0)
    if tag != 0x30 or end != len(raw):
        raise ValueError("ProxyCertInfo is not a SEQUENCE")
    pathlen = None
    tag, content, pos = _tlv(body, 0)
    if tag == 0x02:
        pathlen = int.from_bytes(content, "big", signed=True)
        tag, content, pos = _tlv(body, pos)
    if tag != 0x30:
        raise ValueError("ProxyCertInfo has no proxyPolicy")
    oid_tag, oid_body, _ = _tlv(content, 0)
    if oid_tag != 0x06:
        raise ValueError("proxyPolicy has no policyLanguage")
    return ProxyInfo(pathlen, _oid_text(oid_body))


def analyse_chain(ders: Sequence[bytes], *, accept_limited: bool = True) -> PeerCertificate | None:
    """The peer's identity from its verified chain (DER, leaf first); ``None`` for none."""
    if not ders:
        return None
    certs = [x509.load_der_x509_certificate(der) for der in ders]
    problem: str | None = None
    infos: list[ProxyInfo] = []
    for cert in certs:
        try:
            info = proxy_info(cert)
        except ValueError as exc:
            problem = f"malformed proxyCertInfo: {exc}"
            break
        if info is None:
            break
        infos.append(info)
    depth = len(infos)
    if problem is None and depth == len(certs):
        problem = "the chain has no end-entity certificate"
    eec = certs[min(depth, len(certs) - 1)]
    problem = problem or _end_entity_problem(eec)
    limited = any(info.policy == LIMITED for info in infos)
    for index, info in enumerate(infos):
        problem = problem or _proxy_problem(certs[index], certs[index + 1], info, index)
    if problem is None and limited and not accept_limited:
        problem = "limited proxies are not accepted"
    parts = name_parts(eec.subject)
    return PeerCertificate(
        subject=eec.subject.rfc4514_string(),
        subject_slash=slash_dn(parts),
        parts=parts,
        issuer=eec.issuer.rfc4514_string(),
        serial=format(eec.serial_number, "X"),
        not_after=eec.not_valid_after_utc,
        expires=min(c.not_valid_after_utc for c in certs[: depth + 1]),
        proxy=depth > 0,
        proxy_depth=depth,
        limited=limited,
        leaf_sha256=hashlib.sha256(ders[0]).hexdigest(),
        problem=problem,
    )


def _end_entity_problem(cert: x509.Certificate) -> str | None:
    try:
        constraints = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    except x509.ExtensionNotFound:
        return None
    if isinstance(constraints.value, x509.BasicConstraints) and constraints.value.ca:
        return "the end-entity certificate is a CA certificate"
    return None


def _proxy_problem(
    proxy: x509.Certificate, issuer: x509.Certificate, info: ProxyInfo, below: int
) -> str | None:
    """RFC 3820 rules for one proxy; ``below`` proxies were issued under it."""
    rdns = list(proxy.subject.rdns)
    last = rdns[-1] if rdns else None
    if (
        last is None
        or rdns[:-1] != list(issuer.subject.rdns)
        or len(last) != 1
        or next(iter(last)).oid != NameOID.COMMON_NAME
        or proxy.issuer != issuer.subject
    ):
        return "proxy naming rule broken (subject must be the issuer's plus one CN)"
    if info.pathlen is not None and below > info.pathlen:
        return f"proxy path length exceeded ({below} proxies under a pathlen of {info.pathlen})"
    if info.policy not in (INHERIT_ALL, LIMITED):
        what = "independent" if info.policy == INDEPENDENT else info.policy
        return f"proxy policy {what} is not accepted"
    for oid in (ExtensionOID.SUBJECT_ALTERNATIVE_NAME, ExtensionOID.ISSUER_ALTERNATIVE_NAME):
        try:
            proxy.extensions.get_extension_for_oid(oid)
        except x509.ExtensionNotFound:
            continue
        return "a proxy certificate must not carry alternative names"
    return None
