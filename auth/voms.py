"""``auth: {chain: [voms, x509]}``: the VOMS attributes of a client's proxy, mapped to a user.

The TLS layer verified the client's chain (``server/tls.py``); this authenticator looks for
VOMS attribute certificates in its proxies and verifies them (``vomsac.py``) against
``voms.vomsdir`` (``<vo>/<server>.lsc`` files, as ``/etc/grid-security/vomsdir``) and the
CAs of ``voms.ca_file`` (default: ``tls.client_ca``). Their FQANs, primary first, are
looked up in ``voms.map_file``, one mapping a line, a quoted FQAN and a user::

    "/atlas/Role=production" atlasprod
    "/atlas/higgs"           atlashiggs
    "/atlas/*"               atlasuser

``/Role=NULL`` and ``/Capability=NULL`` are ignored on both sides; an entry ending in
``/*`` matches its group and every FQAN below it (its subgroups, its roles). The first
FQAN that an entry matches (entries in file order) gives the user:
``Identity(user, "voms", dn=<subject>)``.

No certificate, no proxy or no VOMS attributes: ``None`` (the next authenticator, usually
``x509``, maps the DN). Attributes that fail verification: 403 with the reason. FQANs that
no entry maps: 403, or the chain goes on with ``voms.unmapped: continue``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cryptography import x509
from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError

from auth.certchain import PEER_KEY, PeerCertificate
from auth.gridmap import USER_NAME
from auth.vomsac import VomsAttributes, VomsError, attribute_certificates, verify
from davprovider import schema
from davprovider.backend import Identity
from davprovider.schema import ConfigError
from davprovider.settings import Settings

if TYPE_CHECKING:
    from auth.controller import ShareAccess

log = logging.getLogger("auth.voms")

#: Identities carry no password: an iRODS share acts for them as its proxy user.
PASSWORDLESS = True
_LINE = re.compile(r'\s*(?:"([^"]+)"|(\S+))\s+(\S+)\s*')


@dataclass(frozen=True)
class Options:
    """``voms:``: where VOs' servers are listed (``vomsdir``), the FQAN map file, the CAs
    that issue VOMS server certificates (empty: ``tls.client_ca``), and what an unmapped
    FQAN gets (``deny``: 403; ``continue``: the next authenticator)."""

    map_file: str = field(default="", metadata={"check": schema.readable})
    vomsdir: str = "/etc/grid-security/vomsdir"
    ca_file: str = field(default="", metadata={"check": schema.readable})
    unmapped: Literal["deny", "continue"] = "deny"


def normal_fqan(fqan: str) -> str:
    """``/vo/g/Role=NULL/Capability=NULL`` -> ``/vo/g``."""
    parts = [p for p in fqan.strip().split("/") if p not in ("Role=NULL", "Capability=NULL")]
    return "/".join(parts)


def parse_map(text: str, source: str) -> list[tuple[str, str]]:
    """``(FQAN pattern, user)`` per line; ``ValueError`` naming the line otherwise."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        fqan = (match.group(1) or match.group(2)) if match else ""
        if not match or not fqan.startswith("/") or not USER_NAME.fullmatch(match.group(3)):
            raise ValueError(f"{source}:{number}: expected a quoted FQAN and a user name")
        entries.append((normal_fqan(fqan), match.group(3)))
    return entries


def mapped_user(entries: list[tuple[str, str]], fqans: tuple[str, ...]) -> str | None:
    """The user of the first FQAN (in the AC's order) that an entry matches."""
    for fqan in map(normal_fqan, fqans):
        for pattern, user in entries:
            if pattern == fqan or (pattern.endswith("/*") and _below(fqan, pattern[:-2])):
                return user
    return None


def _below(fqan: str, group: str) -> bool:
    """``/vo/g``, ``/vo/g/sub`` and ``/vo/g/Role=x`` are in group ``/vo/g``."""
    return fqan == group or fqan.startswith(group + "/")


def _ca_file(settings: Settings) -> str:
    tls = settings.tls
    return settings.voms.ca_file or (tls.client_ca if tls is not None else "")


def check_settings(settings: Settings) -> None:
    """A voms chain needs client certificates, a map file that parses, a vomsdir and CAs."""
    source, options = settings.source, settings.voms
    tls = settings.tls
    if tls is None or tls.client_certificates == "none":
        problem = "must be optional or required for the voms authenticator"
        raise ConfigError(source, "tls.client_certificates", problem)
    if not options.map_file:
        raise ConfigError(source, "voms.map_file", "required by the voms authenticator")
    try:
        parse_map(Path(options.map_file).read_text(encoding="utf-8"), options.map_file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(source, "voms.map_file", str(exc)) from None
    if not Path(options.vomsdir).is_dir():
        raise ConfigError(source, "voms.vomsdir", f"not a directory: {options.vomsdir}")
    if not _ca_file(settings):
        raise ConfigError(source, "voms.ca_file", "required when tls.client_ca is not set")


class Authenticator:
    """VOMS attributes of the verified proxy -> ``Identity(user, "voms", dn=...)``."""

    name = "voms"
    challenges = False

    def __init__(self, settings: Settings) -> None:
        self.options: Options = settings.voms
        self.vomsdir = Path(self.options.vomsdir)
        text = Path(self.options.map_file).read_text(encoding="utf-8")
        self.entries = parse_map(text, self.options.map_file)
        self.trusted = x509.load_pem_x509_certificates(Path(_ca_file(settings)).read_bytes())

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        peer: PeerCertificate | None = environ.get(PEER_KEY)
        if peer is None or not peer.proxy or peer.problem or not peer.chain:
            return None  # the x509 authenticator refuses a broken chain, with its reason
        attributes = self._attributes(peer)
        if attributes is None:
            return None
        user = mapped_user(self.entries, attributes.fqans)
        if user is None:
            if self.options.unmapped == "continue":
                return None
            fqans = ", ".join(attributes.fqans[:5])
            raise DAVError(HTTP_FORBIDDEN, f"VOMS attributes {fqans} are not mapped to a user")
        log.info("voms: %s as %s (%s)", peer.subject_slash, user, attributes.fqans[0])
        return Identity(user=user, method="voms", dn=peer.subject)

    def _attributes(self, peer: PeerCertificate) -> VomsAttributes | None:
        certs = [x509.load_der_x509_certificate(der) for der in peer.chain]
        proxies, eec = certs[: peer.proxy_depth], certs[peer.proxy_depth]
        try:
            acs = attribute_certificates(proxies)
            if not acs:
                return None
            return verify(acs[0], eec, self.vomsdir, self.trusted)
        except VomsError as exc:
            log.warning("voms: %s refused: %s", peer.subject_slash, exc)
            raise DAVError(HTTP_FORBIDDEN, f"VOMS attributes refused: {exc}") from None
