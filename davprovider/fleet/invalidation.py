"""Listing-cache coherence across the fleet: a change counter in Redis and its channel.

Every change through any gateway (``changed()``, after the backend call returned) bumps
the counter ``listings`` and publishes the new value on the channel ``listings`` in one
Lua step. Each gateway process listens on that channel (a daemon thread) and drops its
cached listings as a message arrives. Because a message may still be in flight when a
client that saw the change asks another gateway, a request that would answer from the
cache first reads the counter (``current()``, one GET) and ``align``s: a counter other
than the one the cache was filled under drops the cache. So a change acknowledged by any
gateway is never answered stale by another.

Redis out of reach (the GET fails, or the listener is not subscribed): ``current()`` is
None and the caller neither answers from nor fills its cache; a failed GET is not retried
for ``BACKOFF`` seconds. The listener reconnects by itself (0.1 s, doubling to 2 s), drops
the cache when it does, and caching resumes: no gateway restart. A counter that starts
anew (Redis restarted empty) starts at a random value, so an old mark never matches it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from davprovider.fleet.connection import UNREACHABLE, client, key, make_client
from davprovider.settings import RedisSettings

log = logging.getLogger("davprovider.fleet")

BACKOFF = 1.0  # seconds without asking Redis after a failed counter read
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local value = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[1], value)
return value
"""


class ChangeFeed:
    """The fleet's change counter and channel, for one process (see the module doc)."""

    def __init__(self, options: RedisSettings, on_change: Callable[[], None]) -> None:
        self.options = options
        self.on_change = on_change
        self.name = key(options, "listings")
        self.redis: Any = client(options)
        self._bump = self.redis.register_script(_BUMP)
        self.mark: int | None = None  # the counter the cached listings belong to
        self.subscribed = threading.Event()
        self._quiet_until = 0.0
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._starting = threading.Lock()

    def start(self) -> ChangeFeed:
        """Start listening (again in a forked child: threads do not survive a fork)."""
        with self._starting:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self.subscribed.clear()
                self._thread = threading.Thread(target=self._listen, name="listings", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def changed(self) -> None:
        """Tell every gateway that something changed (after the change)."""
        try:
            self._bump(keys=[self.name], args=[secrets.randbits(48) + (1 << 50)])
        except UNREACHABLE as exc:
            log.warning("listing change not shared (Redis: %s)", type(exc).__name__)

    def current(self) -> int | None:
        """The fleet's counter (0 before any change), or None: do not use the cache."""
        if self._pid != os.getpid():
            self.start()
        if not self.subscribed.is_set() or time.monotonic() < self._quiet_until:
            return None
        try:
            value = self.redis.get(self.name)
        except UNREACHABLE:
            self._quiet_until = time.monotonic() + BACKOFF
            return None
        return int(value) if value is not None else 0

    def align(self, mark: int | None) -> None:
        """The cache belongs to counter ``mark`` from now on (dropped if it was another).
        ``None`` twice drops nothing the second time: while the mark is ``None`` no
        request answers from or fills the cache (``current()`` is ``None``), and a
        listener retrying an unreachable Redis must not keep emptying the process's
        cache (other shares' entries, in a process serving more than one config)."""
        with self._guard:
            if mark == self.mark:
                return
            self.mark = mark
        self.on_change()

    def _listen(self) -> None:
        pause = 0.1
        listener = make_client(self.options, socket_timeout=None, health_check_interval=5)
        while not self._stop.is_set():
            try:
                self._follow(listener)
            except UNREACHABLE as exc:
                was_up = self.subscribed.is_set()
                if was_up:  # a fresh loss: say so once, and retry soon
                    log.warning("listing channel lost (Redis: %s)", type(exc).__name__)
                    pause = 0.1
            except Exception:  # noqa: BLE001 - the listener must outlive any surprise
                log.exception("listing channel failed")
            self.subscribed.clear()
            self.align(None)
            self._stop.wait(pause)
            pause = min(2.0, pause * 2)

    def _follow(self, listener: Any) -> None:
        pubsub = listener.pubsub()
        try:
            pubsub.subscribe(self.name)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self.align(None)  # whatever happened while away: start empty
                    self.subscribed.set()
                    log.info("listing channel subscribed")
                elif message["type"] == "message":
                    self.align(int(message["data"]))
        finally:
            pubsub.close()


_FEEDS: dict[tuple[str, str], ChangeFeed] = {}
_FEEDS_GUARD = threading.Lock()


def feed_for(options: RedisSettings, on_change: Callable[[], None]) -> ChangeFeed:
    """The process's feed for this Redis and key prefix (started once)."""
    with _FEEDS_GUARD:
        found = _FEEDS.get((options.url, options.key_prefix))
        if found is None:
            found = _FEEDS[(options.url, options.key_prefix)] = ChangeFeed(options, on_change)
            found.start()
        return found
