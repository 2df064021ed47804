"""``backend: irods``: shares over an iRODS zone through python-irodsclient.

shares:
  - path: /irods
    backend: irods
    options:
      host: 127.0.0.1
      port: 1247
      zone: tempZone
      root: user            # zone | home | user | /tempZone/some/collection
      auth_scheme: native   # or pam_password
      register_checksums: true  # uploads register the catalog checksum (verified)
      sweep_age: 3600       # leftovers of crashed uploads older than this are removed
      sweep_interval: 600   # seconds between sweeps (0: at start and per session only)
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from irods import exception as ex

from .backend import IrodsBackend
from .errors import BROKEN
from .options import Options
from .pool import SessionPool
from .sweep import leftovers, remove

if TYPE_CHECKING:
    from davprovider.backend import Identity

__all__ = ["IrodsBackend", "IrodsFactory", "Options", "create_factory"]
log = logging.getLogger("davprovider.irods")


class IrodsFactory:
    """Pooled sessions per identity; each request gets a backend over its session."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pool = SessionPool(options)
        self._swept: dict[tuple[str, str, str], float] = {}  # pool key -> last own sweep
        self._lock = threading.Lock()

    def __call__(self, identity: Identity) -> IrodsBackend:
        entry = self.pool.get(identity)
        if not self.options.proxy_user and self._due(entry.key):
            self._sweep_own(entry.session, identity.user, self.options.sweep_age)
        return IrodsBackend(self.pool, entry, identity, self.options)

    def sweep(self, max_age: float | None = None) -> float | None:
        """Remove leftovers of crashed uploads (``sweep.py``): zone-wide through the
        proxy rodsadmin when there is one, else those of every pooled identity."""
        age = self.options.sweep_age if max_age is None else max_age
        if self.options.proxy_user:
            self._sweep_zone(age)
        else:
            for entry in self.pool.pooled():
                self._sweep_own(entry.session, entry.key[1], age)
        return self.options.sweep_interval or None

    def _due(self, key: tuple[str, str, str]) -> bool:
        """Whether this identity's own leftovers are to be swept (once per interval)."""
        now, interval = time.monotonic(), self.options.sweep_interval
        with self._lock:
            last = self._swept.get(key)
            if last is not None and (not interval or now - last < interval):
                return False
            if len(self._swept) > 4 * self.options.pool_size:
                self._swept.clear()
            self._swept[key] = now
            return True

    def _sweep_own(self, session: Any, user: str, age: float) -> None:
        try:
            below = self.options.collection_for(user)
            for path, owner in list(leftovers(session, age, below)):
                if owner == user:
                    remove(session, path)
        except (*BROKEN, ex.iRODSException, OSError) as exc:
            log.warning("sweep of %s's leftover uploads failed: %r", user, exc)

    def _sweep_zone(self, age: float) -> None:
        from davprovider.backend import Identity

        try:
            admin = self.pool.get(Identity(user=self.options.proxy_user, method="sweep"))
            for path, owner in list(leftovers(admin.session, age)):
                remove(self.pool.get(Identity(user=owner, method="sweep")).session, path)
        except (*BROKEN, ex.iRODSException, OSError) as exc:
            log.warning("zone-wide sweep of leftover uploads failed: %r", exc)

    def login(self, user: str, password: str) -> bool:
        """Check a password by logging in; a good session is kept for the requests."""
        from davprovider.backend import Identity

        identity = Identity(user=user, method="basic", password=password)
        if self.pool.lookup(identity) is not None:
            return True  # this very password logged in within pool_ttl
        session = self.pool.new_session(identity)
        try:
            with session.pool.get_connection():
                pass
        except (ex.CAT_INVALID_AUTHENTICATION, ex.CAT_INVALID_USER, ex.CAT_PASSWORD_EXPIRED):
            session.cleanup()
            return False
        except BROKEN as exc:
            raise ConnectionError(f"iRODS zone unreachable: {exc}") from exc
        except ex.iRODSException as exc:
            log.warning("login of %s failed: %r", user, exc)
            session.cleanup()
            return False
        self.pool.put(identity, session)
        return True

    def close(self) -> None:
        self.pool.close()


def create_factory(options: Options) -> IrodsFactory:
    """Build the factory for one iRODS share."""
    return IrodsFactory(options)
