"""Failed logins per client address (``login_limit:``): 429 with ``Retry-After`` after
``failures`` in ``window``, for ``block`` seconds; counted across gateways with Redis,
in the process without; the address from a trusted balancer's forwarding header."""

from __future__ import annotations

import http.client
import time
from typing import Any

from localgrid.redis import LocalRedis
from tests.helpers.gateway import Gateway, memory_config, running_gateway
from tests.helpers.redis_server import redis_server  # noqa: F401  (fixture)

WRONG = ("alice", "wrong")


def limited(**extra: Any) -> dict[str, Any]:
    return memory_config(login_limit={"failures": 3, "window": 60, "block": 2, **extra})


def status(gw: Gateway, user: Any = "default", **headers: str) -> int:
    return gw.request("PROPFIND", "/memory/", headers={"Depth": "0", **headers}, user=user).status


def test_repeated_failures_get_429_for_a_while_in_one_process() -> None:
    with running_gateway(limited()) as gw:
        assert status(gw) == 207
        assert status(gw, user=None) == 401  # no credentials: not a failure
        assert [status(gw, WRONG) for _ in range(3)] == [401, 401, 401]
        reply = gw.request("PROPFIND", "/memory/", headers={"Depth": "0"})
        assert reply.status == 429, reply
        assert reply.header("retry-after") == "2"
        conn = http.client.HTTPConnection(gw.host, gw.port, timeout=10)
        conn.request("GET", "/memory/", headers=gw.auth_header(WRONG))
        assert conn.getresponse().reason == "Too Many Requests"
        conn.close()
        assert b"too many failed logins" in reply.body and b"alice" not in reply.body
        time.sleep(2.1)
        assert status(gw) == 207


def test_the_count_is_the_fleets_with_redis(redis_server: LocalRedis) -> None:  # noqa: F811
    config = limited(block=30)
    config["redis"] = {"url": redis_server.url, "key_prefix": "login-test:"}
    with running_gateway(config) as one, running_gateway(config) as two:
        assert status(one, WRONG) == 401
        assert status(two, WRONG) == 401
        assert status(one, WRONG) == 401
        for gw in (one, two):
            assert status(gw) == 429  # blocked on both, with the right password too
        left = redis_server.client().pttl("login-test:blocked:127.0.0.1")
        assert 25_000 < left <= 30_000
        redis_server.client().delete("login-test:blocked:127.0.0.1")
        assert status(two) == 207


def test_a_trusted_balancers_header_names_the_client() -> None:
    with running_gateway(limited(trusted_proxies=["127.0.0.0/8"])) as gw:
        for _ in range(3):
            assert status(gw, WRONG, **{"X-Forwarded-For": "192.0.2.7"}) == 401
        assert status(gw, **{"X-Forwarded-For": "192.0.2.7"}) == 429
        assert status(gw, **{"X-Forwarded-For": "192.0.2.8"}) == 207  # another client
    with running_gateway(limited()) as gw:  # not trusted: the header is ignored
        for n in range(3):
            assert status(gw, WRONG, **{"X-Forwarded-For": f"192.0.2.{n}"}) == 401
        assert status(gw, **{"X-Forwarded-For": "192.0.2.99"}) == 429
