"""Password guessing slowed down: failed logins per client address (``login_limit:``).

The controller asks ``check(environ)`` before running the chain (a blocked address gets
429 with ``Retry-After``, whatever it sends) and calls ``failed(environ)`` when
credentials were sent and no authenticator accepted them. The counting is
``fleet/attempts.py`` (across the fleet with ``redis:``). The address is the peer's,
or, from a load balancer in ``login_limit.trusted_proxies``, the nearest untrusted one
its forwarding header names. ``failures: 0`` turns all of this off.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from typing import Any

from wsgidav.dav_error import DAVError

from davprovider.fleet.attempts import LoginAttempts
from davprovider.settings import Settings

log = logging.getLogger(__name__)

HTTP_TOO_MANY_REQUESTS = 429
_FORWARDED_FOR = re.compile(r'(?i)(?:^|;)\s*for=("[^"]*"|[^;,\s]+)')
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse(text: str) -> Address | None:
    """An address from REMOTE_ADDR or a forwarding header's hop (brackets, ports and
    zone ids dropped; IPv4-mapped IPv6 as IPv4), or None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped if mapped is not None else address


def hops(environ: dict[str, Any], header: str) -> list[str]:
    """The addresses a forwarding header lists, nearest proxy last."""
    if header == "forwarded":
        parts = str(environ.get("HTTP_FORWARDED", "")).split(",")
        return [m.group(1) for part in parts for m in _FORWARDED_FOR.finditer(part)]
    return [v for v in str(environ.get("HTTP_X_FORWARDED_FOR", "")).split(",") if v.strip()]


class LoginLimit:
    """The controller's view of ``login_limit:`` (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        limit = settings.login_limit
        self.enabled = limit.failures > 0
        self.attempts = LoginAttempts(limit, settings.redis) if self.enabled else None
        self.header = limit.forwarded_header
        self.proxies = [ipaddress.ip_network(n) for n in limit.trusted_proxies]

    def address(self, environ: dict[str, Any]) -> str:
        """The client's address, believing the forwarding header only from trusted proxies."""
        peer = parse(str(environ.get("REMOTE_ADDR", "")))
        if peer is None:
            return str(environ.get("REMOTE_ADDR", "-"))[:64]
        if not self._trusted(peer):
            return str(peer)
        for hop in reversed(hops(environ, self.header)):
            address = parse(hop)
            if address is None or not self._trusted(address):
                return str(address or peer)
        return str(peer)

    def _trusted(self, address: Any) -> bool:
        return any(address in n for n in self.proxies if n.version == address.version)

    def check(self, environ: dict[str, Any]) -> None:
        """Raise 429 (with ``Retry-After``) while the client's address is blocked."""
        if self.attempts is None:
            return
        left = self.attempts.blocked(self.address(environ))
        if left > 0:
            raise DAVError(
                HTTP_TOO_MANY_REQUESTS,
                "too many failed logins from this address; try again later",
                add_headers=[("Retry-After", str(max(1, math.ceil(left))))],
            )

    def failed(self, environ: dict[str, Any]) -> None:
        """Count a refused login of the client's address."""
        if self.attempts is None:
            return
        address = self.address(environ)
        blocked = self.attempts.failed(address)
        if blocked:
            log.warning("auth: %s blocked for %.0f s after failed logins", address, blocked)
