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
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from irods import exception as ex

from .backend import IrodsBackend
from .errors import BROKEN
from .options import Options
from .pool import SessionPool

if TYPE_CHECKING:
    from davprovider.backend import Identity

__all__ = ["IrodsBackend", "IrodsFactory", "Options", "create_factory"]
log = logging.getLogger("davprovider.irods")


class IrodsFactory:
    """Pooled sessions per identity; each request gets a backend over its session."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pool = SessionPool(options)

    def __call__(self, identity: Identity) -> IrodsBackend:
        return IrodsBackend(self.pool, self.pool.get(identity), identity, self.options)

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
