"""``localgrid.redis``: Debian's redis-server on a free loopback port, stopped by PID."""

from __future__ import annotations

import os

import pytest

from localgrid.redis import LocalRedis
from tests.helpers.redis_server import local_redis


def test_starts_answers_restarts_empty_and_stops(tmp_path_factory: pytest.TempPathFactory) -> None:
    with local_redis(tmp_path_factory, "lr") as server:
        assert isinstance(server, LocalRedis)
        client = server.client()
        client.set("k", "v")
        assert client.get("k") == b"v"
        port, pid = server.port, server.pid
        assert pid is not None
        server.restart()
        assert server.port == port and server.pid != pid
        assert client.get("k") is None  # no persistence: a restart starts empty
        conf = (server.root / "redis.conf").read_text()
        assert "bind 127.0.0.1" in conf and 'save ""' in conf
        pid = server.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not server.ping()
