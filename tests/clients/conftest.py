"""Fixtures of the real-client tests: for the session, a seeded local iRODS zone, a real
OpenStack Swift and one ``davprovider serve`` process with both shares (``/irods`` over
the zone, ``/swift`` over Swift, Basic logins as alice); per test module and share, a
fresh folder (``share``, parametrized ``irods``/``swift``).

The gateway is a real process (tests/helpers/irods_gateway.py ``start_gateway``):
the clients see exactly what a user's client sees, and its access log tells which
requests they made."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from localgrid.irods import LocalZone
from localgrid.swift import LocalSwift
from tests.helpers.client_tools import SWIFT_SEGMENT, Share
from tests.helpers.irods_gateway import GatewayProcess, gateway_config, seed, start_gateway
from tests.helpers.swift_helpers import local_swift, swift_share

SHARES = ("irods", "swift")


@pytest.fixture(scope="session")
def clients_zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalZone]:
    with LocalZone(tmp_path_factory.mktemp("clients-zone")) as zone:
        seed(zone)
        yield zone


@pytest.fixture(scope="session")
def clients_swift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    with local_swift(tmp_path_factory, "clients-swift") as store:
        yield store


def clients_config(zone: LocalZone, swift: LocalSwift) -> dict[str, Any]:
    config = gateway_config(zone.port)
    config["server"]["timeout"] = 60
    config["shares"].append(swift_share(swift, segment_size=SWIFT_SEGMENT))
    return config


@pytest.fixture(scope="session")
def clients_gateway(
    clients_zone: LocalZone, clients_swift: LocalSwift, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    running = start_gateway(
        clients_config(clients_zone, clients_swift), tmp_path_factory.mktemp("clients-gateway")
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module", params=SHARES)
def share(request: pytest.FixtureRequest, clients_gateway: GatewayProcess) -> Share:
    """A fresh folder for the module: ``/irods/alice/clients-*`` or a new container
    ``/swift/clients-*``, made by MKCOL."""
    folder = f"clients-{uuid.uuid4().hex[:8]}"
    root = f"/irods/alice/{folder}" if request.param == "irods" else f"/swift/{folder}"
    made = Share(request.param, clients_gateway, root)
    reply = made.request("MKCOL", "")
    assert reply.status == 201, (root, reply.status, clients_gateway.log_tail())
    return made
