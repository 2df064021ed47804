"""Failed logins per client address, counted across the fleet (``login_limit:``).

``failed(address)`` counts one failure; the ``failures``-th within ``window`` seconds
blocks the address for ``block`` seconds; ``blocked(address)`` is the seconds left (0:
not blocked). With ``redis:`` the count is the fleet's (``logins:<address>`` with the
window as TTL, ``blocked:<address>`` with the block as TTL, one Lua step per failure),
so password guessing is slowed on every gateway at once; without it, or while Redis is
out of reach, this process counts alone (at most ``MAX_ADDRESSES`` addresses).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from davprovider.fleet.connection import UNREACHABLE, client, key
from davprovider.settings import LoginLimitSettings, RedisSettings

log = logging.getLogger("davprovider.fleet")

MAX_ADDRESSES = 100_000
_FAILED = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if count >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
  return tonumber(ARGV[2])
end
return 0
"""


class LocalAttempts:
    """The counts of this process (thread-safe, bounded)."""

    def __init__(self, limit: LoginLimitSettings) -> None:
        self.limit = limit
        self._guard = threading.Lock()
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._until: dict[str, float] = {}

    def blocked(self, address: str) -> float:
        with self._guard:
            left = self._until.get(address, 0.0) - time.monotonic()
            if left <= 0:
                self._until.pop(address, None)
            return max(left, 0.0)

    def failed(self, address: str) -> float:
        now = time.monotonic()
        with self._guard:
            recent = [t for t in self._failures.pop(address, []) if now - t < self.limit.window]
            recent.append(now)
            if len(recent) >= self.limit.failures:
                self._until[address] = now + self.limit.block
                return self.limit.block
            self._failures[address] = recent
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
            if len(self._until) > MAX_ADDRESSES:
                self._until = {a: u for a, u in self._until.items() if u > now}
            return 0.0


class LoginAttempts:
    """The fleet's counts in Redis, this process's while Redis is out of reach."""

    def __init__(self, limit: LoginLimitSettings, options: RedisSettings | None) -> None:
        self.limit = limit
        self.options = options
        self.local = LocalAttempts(limit)
        self.redis: Any = client(options) if options is not None else None
        self._failed = self.redis.register_script(_FAILED) if self.redis is not None else None

    def blocked(self, address: str) -> float:
        """Seconds the address is still refused: the fleet's block, or this process's
        (counted while Redis was out of reach)."""
        left = self.local.blocked(address)
        if self.redis is not None and self.options is not None:
            try:
                fleet = self.redis.pttl(key(self.options, "blocked", address))
                left = max(left, int(fleet) / 1000.0)
            except UNREACHABLE as exc:
                log.warning("login counts kept in this process (Redis: %s)", type(exc).__name__)
        return left

    def failed(self, address: str) -> float:
        """Count a failure; the seconds the address is now blocked for (0: not)."""
        if self._failed is not None and self.options is not None:
            names = [key(self.options, "logins", address), key(self.options, "blocked", address)]
            window, block = int(self.limit.window * 1000), int(self.limit.block * 1000)
            try:
                return (
                    int(self._failed(keys=names, args=[window, block, self.limit.failures])) / 1000
                )
            except UNREACHABLE as exc:
                log.warning("login counts kept in this process (Redis: %s)", type(exc).__name__)
        return self.local.failed(address)
