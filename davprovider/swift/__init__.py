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

from typing import TYPE_CHECKING

from .account import Limits, Share
from .backend import SwiftBackend
from .options import Options, Profile
from .pool import connection_params

if TYPE_CHECKING:
    from davprovider.backend import Identity

__all__ = [
    "Limits", "Options", "Profile", "SwiftBackend", "SwiftFactory", "connection_params",
    "create_factory",
]  # fmt: skip


class SwiftFactory(Share):
    """Connections pooled per identity (a ``Share``); each request gets a backend over them."""

    def __call__(self, identity: Identity) -> SwiftBackend:
        connection_params(self.options, identity)  # a caller without credentials: 403 now
        return SwiftBackend(self, identity)

    def login(self, user: str, password: str) -> bool:
        """Check a Basic login with Swift's auth service (``user_template`` applied)."""
        from davprovider.backend import Identity

        return self.pool.login(Identity(user=user, method="basic", password=password))


def create_factory(options: Options) -> SwiftFactory:
    """Build the factory for one Swift share."""
    return SwiftFactory(options)
