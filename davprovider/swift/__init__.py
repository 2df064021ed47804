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
          sweep_age: 3600                     # orphan segments older than this go
          sweep_interval: 600                 # seconds between sweeps
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from swiftclient.exceptions import ClientException

from .account import Account, Limits, Share
from .backend import SwiftBackend
from .options import Options, Profile
from .pool import Key, connection_params
from .sweep import sweep_account

if TYPE_CHECKING:
    from davprovider.backend import Identity

__all__ = [
    "Limits", "Options", "Profile", "SwiftBackend", "SwiftFactory", "connection_params",
    "create_factory",
]  # fmt: skip


log = logging.getLogger("davprovider.swift")


class SwiftFactory(Share):
    """Connections pooled per identity (a ``Share``); each request gets a backend over them.

    Orphan segments of crashed uploads (``sweep.py``) are swept per identity: in the
    background when one is first seen (and once per ``sweep_interval`` after), and at
    every ``sweep()`` (the server's, at start and periodically) for the configured
    profiles' accounts and the identities seen since the start.
    """

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._seen: dict[Key, tuple[Identity, float]] = {}  # identity, its last sweep
        self._seen_lock = threading.Lock()

    def __call__(self, identity: Identity) -> SwiftBackend:
        connection_params(self.options, identity)  # a caller without credentials: 403 now
        if self._due(identity):
            args = (identity, self.options.sweep_age)
            threading.Thread(target=self._sweep_one, args=args, name="sweep", daemon=True).start()
        return SwiftBackend(self, identity)

    def sweep(self, max_age: float | None = None) -> float | None:
        """Delete orphan segments in the accounts of the configured profiles (service
        accounts, known at start) and of the identities seen so far."""
        from davprovider.backend import Identity

        with self._seen_lock:
            identities = [identity for identity, _ in self._seen.values()]
        identities += [Identity(user=name, method="sweep") for name in self.options.profiles]
        for identity in identities:
            self._sweep_one(identity, self.options.sweep_age if max_age is None else max_age)
        return self.options.sweep_interval or None

    def _due(self, identity: Identity) -> bool:
        key, now = self.pool.key(identity), time.monotonic()
        with self._seen_lock:
            last = self._seen.get(key)
            interval = self.options.sweep_interval
            if last is not None and (not interval or now - last[1] < interval):
                return False
            if len(self._seen) > 4 * self.options.pool_size:
                self._seen.clear()
            self._seen[key] = (identity, now)
            return True

    def _sweep_one(self, identity: Identity, max_age: float) -> None:
        try:  # the account's connection goes back to the pool when it is dropped
            sweep_account(Account(self, identity), max_age)
        except (ClientException, OSError, ValueError) as exc:
            log.warning("sweep of %s's orphan segments failed: %r", identity.user, exc)

    def login(self, user: str, password: str) -> bool:
        """Check a Basic login with Swift's auth service (``user_template`` applied)."""
        from davprovider.backend import Identity

        return self.pool.login(Identity(user=user, method="basic", password=password))


def create_factory(options: Options) -> SwiftFactory:
    """Build the factory for one Swift share."""
    return SwiftFactory(options)
