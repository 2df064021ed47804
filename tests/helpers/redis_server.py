"""A real ``redis-server`` (``localgrid.redis``) for the fleet tests.

``local_redis(tmp_path_factory, name)`` is a context manager: Redis on a free loopback
port, no persistence, stopped by PID afterwards. Without ``redis-server`` the test is
skipped, except in CI (``CI=true``), where that is a failure. ``redis_server`` is the
same as a module-scoped fixture (import it into a test module or a conftest), with
``KEYS`` disabled: nothing of ours may scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from localgrid.redis import NO_KEYS, LocalRedis, RedisUnavailable
from localgrid.redis import redis_server as server_binary
from tests.helpers.external_tools import require_tool

__all__ = ["NO_KEYS", "local_redis", "redis_server"]


@contextmanager
def local_redis(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra_config: str = ""
) -> Iterator[LocalRedis]:
    if server_binary() is None:
        require_tool("redis-server")
    store = LocalRedis(tmp_path_factory.mktemp(name), extra_config=extra_config)
    try:
        store.start()
    except RedisUnavailable as exc:
        require_tool(f"redis-server (it did not start: {exc})")
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedis]:
    with local_redis(tmp_path_factory, "redis", NO_KEYS) as store:
        yield store
