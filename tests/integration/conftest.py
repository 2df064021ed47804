"""Fixtures of the integration tests: per test module, a seeded local iRODS zone and a
``davprovider serve`` process in front of it (see irods_gateway.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import external_tools
import pytest
from irods_gateway import (
    ALICE,
    HOME,
    SHARE,
    Gateway,
    GatewayProcess,
    gateway_config,
    seed,
    start_gateway,
)

from localgrid.irods import LocalZone


@pytest.fixture(scope="module")
def seeded_zone(irods_zone: LocalZone) -> LocalZone:
    """The module's zone with alice, bob and the shared collection."""
    seed(irods_zone)
    return irods_zone


@pytest.fixture(scope="module")
def gateway_process(
    seeded_zone: LocalZone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """``davprovider serve`` over the module's zone, stopped by PID afterwards."""
    running = start_gateway(gateway_config(seeded_zone.port), tmp_path_factory.mktemp("gateway"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def gw(gateway_process: GatewayProcess) -> Gateway:
    """The HTTP client of the module's gateway, acting as alice by default."""
    return gateway_process.client


@pytest.fixture
def workdir(gw: Gateway) -> str:
    """A fresh collection in alice's home, made by MKCOL: its share path, ending in /."""
    path = f"{SHARE}/alice/t-{uuid.uuid4().hex[:10]}/"
    reply = gw.request("MKCOL", path)
    assert reply.status == 201, reply
    return path


@pytest.fixture
def alice_prc(seeded_zone: LocalZone) -> Iterator[Any]:
    """A python-irodsclient session as alice (the gateway's user), for setting up content."""
    session = seeded_zone.session(*ALICE)
    try:
        yield session
    finally:
        session.cleanup()


@pytest.fixture
def irods_path() -> Callable[[str], str]:
    """Share path (``/irods/alice/x``) -> iRODS path (``/tempZone/home/alice/x``)."""

    def convert(share_path: str) -> str:
        assert share_path.startswith(SHARE + "/"), share_path
        return HOME + share_path[len(SHARE) :].rstrip("/")

    return convert


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """``require_tool(name)``: skip without the tool; fail when CI=true."""
    return external_tools.require_tool
