"""A fleet for the tests: gateway processes over one local iRODS zone (and optionally a
Swift), sharing one Redis, behind HAProxy.

``fleet_config(zone_port, redis_url, ...)`` is ``irods_gateway.gateway_config`` with a
``redis:`` section and a long ``listing_cache`` (so a stale listing would show);
``start_gateways(config, root, n)`` starts ``n`` of them (each its own folder and log).
"""

from __future__ import annotations

import http.client
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.helpers.irods_gateway import AUTH_ALICE, GatewayProcess, gateway_config, start_gateway

LOCK_BODY = b"""<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>
<D:locktype><D:write/></D:locktype><D:owner>fleet test</D:owner></D:lockinfo>"""


def fleet_config(
    zone_port: int, redis_url: str, shares: Sequence[dict[str, Any]] = (), **extra: Any
) -> dict[str, Any]:
    config = gateway_config(zone_port)
    config["shares"].extend(shares)
    config["redis"] = {"url": redis_url, "timeout": 1, "connect_timeout": 1}
    config["listing_cache"] = 60
    config["server"]["threads"] = 24
    config.update(extra)
    return config


def start_gateways(config: dict[str, Any], root: Path, count: int) -> list[GatewayProcess]:
    started: list[GatewayProcess] = []
    try:
        for index in range(count):
            folder = root / f"gateway-{index}"
            folder.mkdir(parents=True, exist_ok=True)
            started.append(start_gateway(config, folder))
    except BaseException:
        for gateway in started:
            gateway.stop()
        raise
    return started


def send(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    auth: str | None = AUTH_ALICE,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection to 127.0.0.1:``port``: status, headers, body."""
    sent = {**({"Authorization": auth} if auth else {}), **(headers or {})}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=sent)
        reply = conn.getresponse()
        data = reply.read()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, data
    finally:
        conn.close()
