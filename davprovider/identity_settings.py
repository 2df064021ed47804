"""The identity sections of the config: ``tls:``, ``x509:`` and ``ipallow:``.

Frozen dataclasses validated by ``settings.py`` like every other section (unknown keys
and bad values are errors naming the key path and the file); the cross-section checks
(an x509 chain needs client certificates, an iRODS share a proxy user) are in
``settings._check_identity_sources``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Literal


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port number (0-65535)"


def _readable(value: str) -> str | None:
    if not value:
        return None
    return None if os.access(value, os.R_OK) else f"cannot read file {value!r}"


def _readable_all(values: tuple[str, ...]) -> str | None:
    return next((p for p in map(_readable, values) if p), None)


def _network(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return f"not an IP network (CIDR): {exc}"
    return None


def _networks(values: tuple[str, ...]) -> str | None:
    return next((p for p in map(_network, values) if p), None)


def _header_name(value: str) -> str | None:
    if value and not re.fullmatch(r"[A-Za-z0-9-]+", value):
        return "must be an HTTP header name (letters, digits, dashes)"
    return None


@dataclass(frozen=True)
class TLSSettings:
    """``tls:``: HTTPS on the server's port.

    ``certificate`` (PEM, the server's certificate, optionally followed by its
    intermediates) and ``key`` (``key_password`` if it is encrypted); ``chain``: more
    intermediates to send. ``client_ca``: the CAs trusted to issue client
    certificates, kept apart from the server chain.
    ``crls``: PEM files with a current CRL for every CA in ``client_ca`` (the whole
    chain is checked, so a CA without a CRL fails every client it issued).
    """

    certificate: str = field(metadata={"check": _readable})
    key: str = field(metadata={"check": _readable})
    key_password: str = field(default="", repr=False)
    chain: str = field(default="", metadata={"check": _readable})
    client_ca: str = field(default="", metadata={"check": _readable})
    client_certificates: Literal["none", "optional", "required"] = "none"
    crls: tuple[str, ...] = field(default=(), metadata={"check": _readable_all})
    allow_proxies: bool = True
    min_version: Literal["1.2", "1.3"] = "1.2"
    session_cache: int = field(default=10000, metadata={"check": _positive})

    def __post_init__(self) -> None:
        if self.client_certificates != "none" and not self.client_ca:
            raise ValueError("client_ca is required when client_certificates is not none")
        if self.client_certificates != "none" and not self.crls:
            raise ValueError("crls are required when client certificates are checked")


@dataclass(frozen=True)
class IrodsRegistrySettings:
    """``x509.irods:``: where the zone's DN registry is read (as a rodsadmin)."""

    host: str = "127.0.0.1"
    port: int = field(default=1247, metadata={"check": _port})
    zone: str = "tempZone"
    user: str = "rods"
    password: str = field(default="", repr=False)
    timeout: int = field(default=10, metadata={"check": _positive})


@dataclass(frozen=True)
class X509Settings:
    """``x509:``: how a verified client certificate's subject becomes a user.

    ``mapping``: ``gridmap`` (the file ``gridmap``, re-read when it changes) or
    ``irods`` (the zone's DN registry: ``x509.irods``, or else the share's own iRODS
    options with their ``proxy_user``). ``unmapped``: ``deny`` (403 with a reason) or
    ``continue`` (let the rest of the chain try).
    """

    mapping: Literal["gridmap", "irods"] = "gridmap"
    gridmap: str = field(default="", metadata={"check": _readable})
    irods: IrodsRegistrySettings | None = None
    cache_seconds: float = 60.0
    unmapped: Literal["deny", "continue"] = "deny"
    limited_proxies: bool = True


@dataclass(frozen=True)
class AllowedNetwork:
    """``ipallow.networks[]``: callers from ``cidr`` act as ``user``; when
    ``on_behalf_header`` is set, this network (a science gateway) may name the end
    user in that header (one of ``on_behalf_users`` when that list is not empty)."""

    cidr: str = field(metadata={"check": _network})
    user: str
    on_behalf_header: str = field(default="", metadata={"check": _header_name})
    on_behalf_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class IPAllowSettings:
    """``ipallow:``: networks mapped to service users. ``forwarded_header``
    (``x-forwarded-for`` or ``forwarded``) is believed only from ``trusted_proxies``."""

    networks: tuple[AllowedNetwork, ...] = ()
    trusted_proxies: tuple[str, ...] = field(default=(), metadata={"check": _networks})
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
