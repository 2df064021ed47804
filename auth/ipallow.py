"""``auth: {chain: [ipallow]}``: trusted servers let in by address.

``ipallow.networks`` maps IPv4/IPv6 CIDR ranges to service users; the most specific
range containing the client wins. The client is the TCP peer, unless the peer is one
of ``ipallow.trusted_proxies``: then the configured forwarding header
(``X-Forwarded-For``, or RFC 7239 ``Forwarded``) is read from the right, skipping
trusted proxies, and the first other address is the client. From any other peer the
header is ignored (a spoofed ``X-Forwarded-For`` changes nothing).

A network with ``on_behalf_header`` is a science gateway: it may name the end user in
that header (one of ``on_behalf_users`` when listed), and only then is that user acted
for; without the header it acts as its service user. The same header from any other
caller is ignored. Identities are ``(user, "ipallow")``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError

from auth.gridmap import USER_NAME
from davprovider import schema
from davprovider.backend import Identity
from davprovider.schema import ConfigError
from davprovider.settings import Settings

if TYPE_CHECKING:
    from auth.controller import ShareAccess

log = logging.getLogger("auth.ipallow")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]+)', re.IGNORECASE)

#: Identities carry no password: an iRODS share acts for them as its proxy user.
PASSWORDLESS = True


@dataclass(frozen=True)
class AllowedNetwork:
    """``ipallow.networks[]``: callers from ``cidr`` act as ``user``; when
    ``on_behalf_header`` is set, this network (a science gateway) may name the end
    user in that header (one of ``on_behalf_users`` when that list is not empty)."""

    cidr: str = field(metadata={"check": schema.network})
    user: str
    on_behalf_header: str = field(default="", metadata={"check": schema.header_name})
    on_behalf_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Options:
    """``ipallow:``: networks mapped to service users. ``forwarded_header``
    (``x-forwarded-for`` or ``forwarded``) is believed only from ``trusted_proxies``."""

    networks: tuple[AllowedNetwork, ...] = ()
    trusted_proxies: tuple[str, ...] = field(default=(), metadata={"check": schema.networks})
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"


def check_settings(settings: Settings) -> None:
    """An ipallow chain needs networks."""
    if not settings.ipallow.networks:
        problem = "required by the ipallow authenticator"
        raise ConfigError(settings.source, "ipallow.networks", problem)


def parse_address(text: str) -> Address | None:
    """An address from a header or REMOTE_ADDR (IPv4-mapped IPv6 becomes IPv4;
    brackets, ports and zone ids are dropped); ``None`` when it is not one."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_chain(environ: dict[str, Any], header: str) -> list[str]:
    """The addresses a forwarding header lists, nearest proxy last."""
    if header == "forwarded":
        values = environ.get("HTTP_FORWARDED", "")
        return [m.group(1) for part in values.split(",") for m in _FOR.finditer(part)]
    return [v for v in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if v.strip()]


class Authenticator:
    """Client address -> ``Identity(service user or named end user, "ipallow")``."""

    name = "ipallow"
    challenges = False

    def __init__(self, settings: Settings) -> None:
        options = settings.ipallow
        self.header = options.forwarded_header
        self.proxies: list[Network] = [ipaddress.ip_network(n) for n in options.trusted_proxies]
        entries = [(ipaddress.ip_network(n.cidr), n) for n in options.networks]
        # most specific first; IPv4 and IPv6 never match each other
        self.networks = sorted(entries, key=lambda e: e[0].prefixlen, reverse=True)

    def client_address(self, environ: dict[str, Any]) -> Address | None:
        """The client's address, believing the forwarding header only from trusted proxies."""
        peer = parse_address(environ.get("REMOTE_ADDR", ""))
        if peer is None or not self._trusted(peer):
            return peer
        for hop in reversed(forwarded_chain(environ, self.header)):
            address = parse_address(hop)
            if address is None:
                return None  # "unknown" or garbage: we cannot tell who the client is
            if not self._trusted(address):
                return address
        return peer

    def _trusted(self, address: Address) -> bool:
        return any(
            address in network for network in self.proxies if network.version == address.version
        )

    def match(self, address: Address) -> AllowedNetwork | None:
        for network, entry in self.networks:
            if network.version == address.version and address in network:
                return entry
        return None

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        """The allowed network's service user (or the end user a gateway names)."""
        address = self.client_address(environ)
        entry = self.match(address) if address is not None else None
        if entry is None:
            return None
        user = entry.user
        if entry.on_behalf_header:
            key = "HTTP_" + entry.on_behalf_header.upper().replace("-", "_")
            named = environ.get(key, "").strip()
            if named:
                user = self._end_user(entry, named, address)
        log.debug("ipallow: %s matched %s, acting as %s", address, entry.cidr, user)
        return Identity(user=user, method="ipallow")

    def _end_user(self, entry: AllowedNetwork, named: str, address: Address | None) -> str:
        if not USER_NAME.fullmatch(named):
            raise DAVError(HTTP_FORBIDDEN, f"{entry.on_behalf_header}: not a user name")
        if entry.on_behalf_users and named not in entry.on_behalf_users:
            reason = f"gateway {address} may not act for {named}"
            raise DAVError(HTTP_FORBIDDEN, reason)
        return named
