"""The Redis client of a gateway process, from ``redis:``, and the names of its keys.

One ``redis.Redis`` (a thread-safe connection pool) per process. Each command is bounded
by ``redis.timeout``; a lost connection is re-opened by the next command, so a gateway
follows Redis through a restart without being restarted itself. Keys all start with
``redis.key_prefix``; ``key(settings, "lock", token)`` joins the parts with ``:``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from davprovider.settings import RedisSettings

#: What a Redis call raises when the server cannot be reached or answers late.
UNREACHABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)

_CLIENTS: dict[int, redis.Redis] = {}
_GUARD = threading.Lock()


def password_of(options: RedisSettings) -> str | None:
    """The password from ``password_file`` (first line), or None (the URL's own)."""
    if not options.password_file:
        return None
    return Path(options.password_file).read_text(encoding="utf-8").splitlines()[0].strip()


def client(options: RedisSettings) -> redis.Redis:
    """The process's client for ``options`` (made once)."""
    with _GUARD:
        found = _CLIENTS.get(id(options))
        if found is None:
            found = _CLIENTS[id(options)] = make_client(options)
        return found


def make_client(options: RedisSettings, **extra: Any) -> redis.Redis:
    """A new client (its own pool); ``extra`` overrides ``redis.Redis`` options."""
    settings: dict[str, Any] = {
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        "retry_on_timeout": False,
        # once, at once, and only when the connection failed (a pooled socket that
        # died with a Redis restart): a timed-out write is never sent twice
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        "health_check_interval": 30,
        "decode_responses": False,
    }
    password = password_of(options)
    if password is not None:
        settings["password"] = password
    settings.update(extra)
    return redis.Redis.from_url(options.url, **settings)


def key(options: RedisSettings, *parts: str) -> str:
    """``key_prefix`` followed by ``parts`` joined with ``:``."""
    return options.key_prefix + ":".join(parts)
