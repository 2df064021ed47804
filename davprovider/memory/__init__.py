"""``backend: memory``: a complete Backend kept in memory.

Used by the fast in-process DAV tests and usable as a share type (data is
lost at exit). Its own user table serves HTTP Basic logins::

    shares:
      - path: /memory
        backend: memory
        options:
          users: {alice: alice, bob: bob}
          read_only_users: [bob]
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from davprovider.memory.backend import MemoryBackend, MemoryUpload
from davprovider.memory.tree import Tree

if TYPE_CHECKING:
    from davprovider.backend import Identity

__all__ = ["MemoryBackend", "MemoryFactory", "MemoryUpload", "Options", "create_factory"]


@dataclass(frozen=True)
class Options:
    """``options:`` of a memory share: a user table (name -> password) and
    users who may only read."""

    users: dict[str, str] = field(default_factory=dict, repr=False)
    read_only_users: tuple[str, ...] = ()


class MemoryFactory:
    """One tree per share; every identity gets a backend over it."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tree = Tree()

    def __call__(self, identity: Identity) -> MemoryBackend:
        read_only = identity.is_anonymous or identity.user in self.options.read_only_users
        return MemoryBackend(self.tree, read_only=read_only)

    def login(self, user: str, password: str) -> bool:
        expected = self.options.users.get(user)
        if expected is None:
            return False
        return hmac.compare_digest(expected.encode(), password.encode())

    def close(self) -> None:
        """Nothing to release."""

    def sweep(self, max_age: float | None = None) -> float | None:
        """Nothing is left behind: an upload lives in memory until it commits."""
        return None


def create_factory(options: Options) -> MemoryFactory:
    """Build the factory for one memory share."""
    return MemoryFactory(options)
