"""``x509.voms:``: VOMS attribute certificates in a client's proxy, verified against a
vomsdir, and the FQANs they grant turned into a user.

The TLS layer keeps the proxy's VOMS extension (``PeerCertificate.voms``); the x509
authenticator asks ``Voms.check(peer)`` for the attributes. An AC (``auth/vomsac.py``)
is trusted when:

- its VO and server (``policyAuthority`` ``<vo>://<host>:<port>``) have an
  ``<vomsdir>/<vo>/<host>.lsc`` file: one DN per line in slash form, the VOMS server
  certificate's subject, then its issuer's, up to the root CA (several chains may be
  given, separated by a line starting with ``-``; ``#`` lines are comments);
- its signer certificate (carried in the AC, or else a PEM file in ``certdir`` whose
  subject is the AC's issuer) verifies the AC's signature (RSA or ECDSA), and chains to
  the configured CAs (``ca``, default ``tls.client_ca``; CRLs from ``tls.crls`` are
  honoured), with exactly the DNs of the ``.lsc`` file;
- it is within its validity period (five minutes of clock skew), and its holder is the
  client's end-entity certificate (issuer and serial).

Every AC in the extension must pass; their FQANs are kept in order (the first is the
primary FQAN). Results are cached for a minute per extension (the dates are checked on
every request). An invalid AC is logged and ignored (the identity falls back to the
DN), or refused with 403 when ``required`` is set (then a proxy without an AC is refused
too).

Mapping: ``mapfile`` (``auth/vomsmap.py``) gives a user for the FQANs; ``order: voms``
consults it before the DN mapping (grid-mapfile or iRODS registry), ``order: dn`` after.
Without a map file the DN decides and the FQANs ride along on the ``Identity``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtensionOID

from auth.certchain import DNError, DNParts, PeerCertificate, name_parts, parse_dn, slash_dn
from auth.vomsac import SKEW, ACError, AttributeCertificate, read_acs
from auth.vomsmap import VomsMap, VomsMapError, load_vomsmap
from davprovider import schema
from davprovider.schema import ConfigError
from davprovider.settings import Settings

log = logging.getLogger("auth.x509")

CACHE_SECONDS = 60.0
MAX_CHAIN = 8


@dataclass(frozen=True)
class VomsSettings:
    """``x509.voms:``: where VOMS trust is configured and how FQANs map to users."""

    vomsdir: str = field(default="", metadata={"check": schema.readable})
    certdir: str = field(default="", metadata={"check": schema.readable})
    ca: str = field(default="", metadata={"check": schema.readable})
    mapfile: str = field(default="", metadata={"check": schema.readable})
    order: Literal["voms", "dn"] = "voms"
    required: bool = False


def check_settings(settings: Settings) -> None:
    """``x509.voms``: a vomsdir that is a directory, CAs, a map file that parses."""
    source, options = settings.source, settings.x509.voms
    if not options.vomsdir or not Path(options.vomsdir).is_dir():
        raise ConfigError(source, "x509.voms.vomsdir", "a readable directory is required")
    if options.certdir and not Path(options.certdir).is_dir():
        raise ConfigError(source, "x509.voms.certdir", "not a directory")
    try:
        _load_certificates(_ca_file(settings))
    except (OSError, ValueError) as exc:
        raise ConfigError(source, "x509.voms.ca", f"no CA certificates: {exc}") from None
    if options.mapfile:
        try:
            load_vomsmap(options.mapfile)
        except (OSError, UnicodeDecodeError, VomsMapError) as exc:
            raise ConfigError(source, "x509.voms.mapfile", str(exc)) from None


def _ca_file(settings: Settings) -> str:
    options = settings.x509.voms
    return options.ca or (settings.tls.client_ca if settings.tls else "")


def _load_certificates(path: str) -> list[x509.Certificate]:
    certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    if not certs:
        raise ValueError(f"no certificate in {path}")
    return certs


class VomsError(ValueError):
    """Why a proxy's attribute certificates are not accepted."""


@dataclass(frozen=True)
class VomsAttributes:
    """What a verified VOMS extension grants: the VO of the primary FQAN and all
    FQANs in order; ``not_after`` is the earliest AC expiry."""

    vo: str
    fqans: tuple[str, ...]
    not_after: dt.datetime


class Voms:
    """Verifies VOMS extensions (see the module docstring) and maps FQANs."""

    def __init__(self, settings: Settings) -> None:
        self.settings: VomsSettings = settings.x509.voms
        self.anchors = _load_certificates(_ca_file(settings))
        crls = settings.tls.crls if settings.tls else ()
        self.crls = [c for path in crls for c in _load_crls(path)]
        self.map = VomsMap(self.settings.mapfile) if self.settings.mapfile else None
        self._lock = threading.Lock()
        self._cache: dict[bytes, tuple[float, VomsAttributes | str]] = {}

    def check(self, peer: PeerCertificate) -> VomsAttributes | None:
        """The verified attributes; ``None`` without an AC or for an invalid one (logged).
        Raises ``VomsError`` when ``required`` and there is no valid AC."""
        if not peer.voms:
            if self.settings.required:
                raise VomsError("a VOMS proxy is required (no attribute certificate)")
            return None
        try:
            return self._attributes(peer)
        except VomsError as exc:
            if self.settings.required:
                raise
            log.warning("x509: VOMS attributes of %s ignored: %s", peer.subject_slash, exc)
            return None

    def users(self, fqans: Sequence[str], dn_users: Callable[[], list[str]]) -> list[str]:
        """The caller's users: the map file's for ``fqans`` and the DN's, in ``order``."""
        mapped = self.map.user(fqans) if self.map is not None and fqans else None
        voms_users = [mapped] if mapped else []
        if self.settings.order == "voms":
            return voms_users or dn_users()
        return dn_users() or voms_users

    def _attributes(self, peer: PeerCertificate) -> VomsAttributes:
        key = hashlib.sha256(peer.voms + peer.end_entity).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached[0] < now:
            try:
                result: VomsAttributes | str = self._verify(peer)
            except VomsError as exc:
                result = str(exc)
            with self._lock:
                if len(self._cache) > 10000:
                    self._cache.clear()
                self._cache[key] = (now + CACHE_SECONDS, result)
        else:
            result = cached[1]
        if isinstance(result, str):
            raise VomsError(result)
        if dt.datetime.now(dt.UTC) - SKEW > result.not_after:
            raise VomsError(f"attribute certificate expired at {result.not_after.isoformat()}")
        return result

    def _verify(self, peer: PeerCertificate) -> VomsAttributes:
        try:
            acs = read_acs(peer.voms)
        except ACError as exc:
            raise VomsError(str(exc)) from None
        if not acs:
            raise VomsError("the VOMS extension holds no attribute certificate")
        end_entity = x509.load_der_x509_certificate(peer.end_entity)
        now = dt.datetime.now(dt.UTC)
        for ac in acs:
            problem = self._problem(ac, end_entity, now)
            if problem:
                raise VomsError(f"VO {ac.vo}: {problem}")
        fqans = tuple(f for ac in acs for f in ac.fqans)
        return VomsAttributes(acs[0].vo, fqans, min(ac.not_after for ac in acs))

    def _problem(
        self, ac: AttributeCertificate, end_entity: x509.Certificate, now: dt.datetime
    ) -> str | None:
        lsc = self._lsc(ac.vo, ac.host)
        if lsc is None:
            return f"unknown VO or VOMS server (no {ac.vo}/{ac.host}.lsc in the vomsdir)"
        candidates = list(ac.certs[:1]) or self._certdir(ac)
        if not candidates:
            return "no certificate of the AC's signer (none in the AC, none in certdir)"
        problems = [ac.problem_with(c, end_entity, now) for c in candidates]
        signer = next((c for c, p in zip(candidates, problems, strict=True) if p is None), None)
        if signer is None:
            return problems[0]
        chain = self._chain(signer, ac.certs[1:], now)
        names = tuple(name_parts(c.subject) for c in chain)
        if names not in lsc:
            shown = " -> ".join(slash_dn(n) for n in names)
            return f"signer chain {shown} does not match {ac.vo}/{ac.host}.lsc"
        return None

    def _lsc(self, vo: str, host: str) -> list[tuple[DNParts, ...]] | None:
        path = Path(self.settings.vomsdir, vo, f"{host}.lsc")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        try:
            return parse_lsc(text)
        except DNError as exc:
            log.error("x509: %s cannot be read: %s", path, exc)
            return None

    def _certdir(self, ac: AttributeCertificate) -> list[x509.Certificate]:
        if not self.settings.certdir:
            return []
        found: list[x509.Certificate] = []
        folder = Path(self.settings.certdir)
        for path in sorted([*folder.glob("*.pem"), *folder.glob(f"{ac.vo}/*.pem")]):
            try:
                found += x509.load_pem_x509_certificates(path.read_bytes())
            except (OSError, ValueError) as exc:
                log.warning("x509: VOMS certificate %s skipped: %s", path, exc)
        return found

    def _chain(
        self, signer: x509.Certificate, extra: Sequence[x509.Certificate], now: dt.datetime
    ) -> list[x509.Certificate]:
        """The signer's chain up to a configured CA; raise ``VomsError``."""
        chain = [signer]
        pool = [*extra, *self.anchors]
        for _ in range(MAX_CHAIN):
            current = chain[-1]
            if not current.not_valid_before_utc <= now <= current.not_valid_after_utc:
                raise VomsError(f"certificate {_slash(current)} is not valid now")
            if current in self.anchors:
                return chain
            issuer = next((c for c in pool if _issued(current, c)), None)
            if issuer is None:
                raise VomsError(f"signer {_slash(signer)} does not chain to the configured CAs")
            if self._revoked(current, issuer):
                raise VomsError(f"certificate {_slash(current)} is revoked")
            chain.append(issuer)
        raise VomsError("the signer's certificate chain is too long")

    def _revoked(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        for crl in self.crls:
            if crl.issuer != issuer.subject:
                continue
            if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                return True
        return False


def _issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when ``issuer`` is a CA that signed ``cert``."""
    try:
        constraints = issuer.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    except x509.ExtensionNotFound:
        return False
    if not getattr(constraints.value, "ca", False):
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _slash(cert: x509.Certificate) -> str:
    return slash_dn(name_parts(cert.subject))


def _load_crls(path: str) -> list[x509.CertificateRevocationList]:
    data = Path(path).read_bytes()
    marker = b"-----BEGIN X509 CRL-----"
    return [x509.load_pem_x509_crl(marker + part) for part in data.split(marker)[1:]]


def parse_lsc(text: str) -> list[tuple[DNParts, ...]]:
    """The DN chains of an ``.lsc`` file (see the module docstring); raise ``DNError``."""
    chains: list[tuple[DNParts, ...]] = []
    current: list[DNParts] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            if current:
                chains.append(tuple(current))
            current = []
            continue
        current.append(parse_dn(line))
    if current:
        chains.append(tuple(current))
    return chains
