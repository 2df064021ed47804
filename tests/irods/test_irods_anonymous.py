"""An anonymous read-only share over iRODS (as Davrods offers): a fixed zone account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from irods.access import iRODSAccess

from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import (
    HOME,
    README,
    GatewayProcess,
    gateway_config,
    seed,
    start_gateway,
)


@pytest.fixture(scope="module")
def anonymous_gateway(
    irods_zone: LocalZone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    seed(irods_zone)
    with irods_zone.session() as rods:
        rods.users.create("anonymous", "rodsuser")
        rods.acls.set(iRODSAccess("read", f"{HOME}/shared", "anonymous"), admin=True)
        rods.acls.set(iRODSAccess("read", f"{HOME}/shared/readme.txt", "anonymous"), admin=True)
    config = gateway_config(irods_zone.port)
    config["shares"][0]["anonymous"] = {"user": "anonymous"}
    running = start_gateway(config, Path(tmp_path_factory.mktemp("anon-gw")))
    try:
        yield running
    finally:
        running.stop()


def test_anonymous_get_of_a_readable_object_succeeds(anonymous_gateway: GatewayProcess) -> None:
    reply = anonymous_gateway.client.request("GET", "/irods/shared/readme.txt", user=None)

    assert reply.status == 200
    assert reply.body == README


def test_anonymous_get_of_a_private_object_is_refused(anonymous_gateway: GatewayProcess) -> None:
    reply = anonymous_gateway.client.request("GET", "/irods/bob/secret.txt", user=None)

    assert reply.status in (401, 403, 404)


def test_anonymous_put_is_refused_and_creates_nothing(
    anonymous_gateway: GatewayProcess, irods_zone: LocalZone
) -> None:
    client = anonymous_gateway.client
    reply = client.request("PUT", "/irods/shared/new.txt", b"data", user=None)

    assert reply.status in (401, 403)
    with irods_zone.session() as rods:
        assert not rods.data_objects.exists(f"{HOME}/shared/new.txt")
