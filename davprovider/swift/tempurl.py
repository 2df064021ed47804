"""Short-lived Swift URLs handed to clients that follow redirects (gLibrary-style).

With ``temp_url_redirect`` on a share, a GET or PUT (``temp_url_methods``) of an
object by a client whose User-Agent matches one of ``temp_url_clients`` (regular
expressions, searched) gets a Swift temp URL for that object and method, valid
``temp_url_seconds`` and, with ``temp_url_bind_ip``, usable only from the client's
address (Swift's ``temp_url_ip_range``). The DAV layer answers the request with a
307 to it and leaves out the clients it knows never follow one.

- The key is ``temp_url_key`` when configured (it then signs for every caller of
  the share), else the caller's account's ``X-Account-Meta-Temp-URL-Key`` (readable
  only by the account's owner); without a key the request is served through the
  gateway.
- A PUT URL is signed only for an object whose length is known and at most
  ``segment_size`` (larger uploads become Static Large Objects through the
  gateway), inside a visible container: one Swift object PUT, which Swift makes
  visible whole, or not at all. Folder markers and containers are never handed out.
- URLs carry their signature in the query; nothing here logs one.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import re
from urllib.parse import quote, urlsplit

from swiftclient.utils import generate_temp_url

from .account import Account
from .errors import translated
from .names import Location

log = logging.getLogger("davprovider.swift")


def ip_range(address: str) -> str | None:
    """The client's own address as a ``temp_url_ip_range`` (IPv4-mapped IPv6 as
    IPv4), or ``None`` when ``address`` is not an IP address."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


class TempUrls(Account):
    """``redirect_url`` (GET) and ``upload_url`` (PUT) of ``SwiftBackend``."""

    def _follows(self, method: str, agent: str) -> bool:
        options = self.options
        if not options.temp_url_redirect or method not in options.temp_url_methods:
            return False
        return any(re.search(p, agent) for p in options.temp_url_clients)

    @translated
    def redirect_url(self, path: str, *, address: str = "", agent: str = "") -> str | None:
        """A GET temp URL for the object at ``path``, or ``None`` (see the module)."""
        if not self._follows("GET", agent):
            return None
        loc = self.locate(path)
        entry = self.lookup(loc)[0]  # this request's stat
        if entry.is_dir:
            raise IsADirectoryError(errno.EISDIR, f"is a collection: {path}")
        return self._signed(loc, "GET", address)

    @translated
    def upload_url(self, path: str, size: int, *, address: str = "", agent: str = "") -> str | None:
        """A PUT temp URL for ``size`` bytes to the object at ``path``, or ``None``."""
        if not self._follows("PUT", agent) or not 0 < size <= self.options.segment_size:
            return None
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            return None
        self.check_visible(loc.container)
        return self._signed(loc, "PUT", address)

    def _signed(self, loc: Location, method: str, address: str) -> str | None:
        options = self.options
        bound = ip_range(address) if options.temp_url_bind_ip else None
        if options.temp_url_bind_ip and bound is None:
            log.info("no temp URL for client address %r", address)
            return None
        storage = urlsplit(self.conn.url)
        key = options.temp_url_key or self.share.account_key(self.conn)
        if not key:
            log.info("no temp URL key on %s: served through the gateway", storage.path)
            return None
        target = f"{storage.path}/{loc.container}/{loc.obj}"
        signed = generate_temp_url(
            target,
            options.temp_url_seconds,
            key,
            method,
            ip_range=bound,
            digest=options.temp_url_digest,
        )
        query = signed.split("?", 1)[1]
        return f"{storage.scheme}://{storage.netloc}{quote(target)}?{query}"
