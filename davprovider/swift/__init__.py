"""``backend: swift``: shares over an OpenStack Swift account through python-swiftclient.

The share root lists the caller's containers; MKCOL there creates a container.
Inside a container, folders are pseudo-directories with ``application/directory``
marker objects, as the ``swift`` CLI and Horizon show them. See
``config/swift.example.yaml`` for every option::

    shares:
      - path: /swift
        backend: swift
        options:
          auth_url: http://127.0.0.1:8080/auth/v1.0
          user_template: "{user}:{user}"      # tempauth account:user
          segment_size: 1073741824            # larger uploads become SLOs
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from swiftclient.exceptions import ClientException

from .backend import SwiftBackend
from .names import MetaLimits
from .options import Options, Profile
from .pool import ConnectionPool, connection_params
from .sync import KeyCache

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from davprovider.backend import Identity

__all__ = [
    "Limits", "Options", "Profile", "SwiftBackend", "SwiftFactory", "connection_params",
    "create_factory",
]  # fmt: skip
log = logging.getLogger("davprovider.swift")


@dataclass(frozen=True)
class Limits:
    """What this Swift accepts, from its ``/info`` (defaults when it does not say)."""

    meta: MetaLimits = field(default_factory=MetaLimits)
    max_segments: int = 1000
    max_file: int = 5 * (1 << 30) + 2
    listing: int = 10000
    bulk_deletes: int = 10000  # 0: no bulk middleware, delete one by one

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> Limits:
        swift = info.get("swift", {})
        slo = info.get("slo", {})
        bulk = info.get("bulk_delete")
        return cls(
            meta=MetaLimits.from_info(swift),
            max_segments=int(slo.get("max_manifest_segments", cls.max_segments)),
            max_file=int(swift.get("max_file_size", cls.max_file)),
            listing=int(swift.get("container_listing_limit", cls.listing)),
            bulk_deletes=int(bulk.get("max_deletes_per_request", 10000)) if bulk else 0,
        )


class SwiftFactory:
    """Connections pooled per identity; each request gets a backend over them."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pool = ConnectionPool(options)
        self._limits: Limits | None = None
        self._lock = threading.Lock()
        self._keys = KeyCache(options.pool_ttl)

    def __call__(self, identity: Identity) -> SwiftBackend:
        connection_params(self.options, identity)  # a caller without credentials: 403 now
        return SwiftBackend(self, identity)

    def login(self, user: str, password: str) -> bool:
        """Check a Basic login with Swift's auth service (``user_template`` applied)."""
        from davprovider.backend import Identity

        return self.pool.login(Identity(user=user, method="basic", password=password))

    def limits(self, conn: Connection) -> Limits:
        """Swift's limits, asked once (``GET /info``)."""
        with self._lock:
            if self._limits is None:
                try:
                    self._limits = Limits.from_info(conn.get_capabilities())
                except (ClientException, OSError, ValueError) as exc:
                    log.warning("Swift /info unavailable, assuming default limits: %s", exc)
                    self._limits = Limits()
            return self._limits

    def account_key(self, conn: Connection) -> str | None:
        """The account's temp URL key (asked once per ``pool_ttl``)."""
        with self._lock:
            return self._keys.get(conn)

    def close(self) -> None:
        self.pool.close()


def create_factory(options: Options) -> SwiftFactory:
    """Build the factory for one Swift share."""
    return SwiftFactory(options)
