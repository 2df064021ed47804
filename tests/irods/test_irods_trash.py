"""``trash: true``: DELETE moves to the zone's trash (``/Z/trash/home/<user>``), as irm
without -f does; without it, DELETE removes for good."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from irods.column import Like
from irods.models import Collection, DataObject

from tests.helpers.irods_gateway import GatewayProcess, gateway_config, start_gateway


@pytest.fixture(scope="module")
def trash_gateway(seeded_zone, tmp_path_factory) -> Iterator[GatewayProcess]:
    config = gateway_config(seeded_zone.port)
    config["shares"][0]["options"]["trash"] = True
    running = start_gateway(config, tmp_path_factory.mktemp("trash-gateway"))
    try:
        yield running
    finally:
        running.stop()


def in_trash(rods, name: str) -> list[str]:
    rows = rods.query(Collection.name, DataObject.name).filter(
        Like(Collection.name, "/tempZone/trash/home/alice%"), DataObject.name == name
    )
    return [f"{r[Collection.name]}/{r[DataObject.name]}" for r in rows]


def test_delete_with_trash_moves_the_object_to_the_users_trash(trash_gateway, workdir, rods):
    gw = trash_gateway.client
    name = workdir.strip("/").split("/")[-1] + "-binned.txt"
    assert gw.put(workdir + name, b"keep me somewhere").status == 201
    assert gw.request("DELETE", workdir + name).status == 204
    assert gw.get(workdir + name).status == 404
    assert len(in_trash(rods, name)) == 1


def test_delete_of_a_folder_with_trash_moves_it_whole(trash_gateway, workdir, rods):
    gw = trash_gateway.client
    folder = workdir + "binned-folder/"
    assert gw.request("MKCOL", folder).status == 201
    assert gw.put(folder + "inside-binned.txt", b"x").status == 201
    assert gw.request("DELETE", folder).status == 204
    assert len(in_trash(rods, "inside-binned.txt")) >= 1


def test_delete_without_trash_removes_for_good(gw, workdir, rods):
    name = workdir.strip("/").split("/")[-1] + "-gone.txt"
    assert gw.put(workdir + name, b"x").status == 201
    assert gw.request("DELETE", workdir + name).status == 204
    assert in_trash(rods, name) == []
