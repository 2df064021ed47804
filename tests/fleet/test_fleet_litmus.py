"""litmus, every suite, through HAProxy round-robin over three gateways sharing Redis, on
the iRODS and the Swift share: each request may reach another gateway, so locks and
listings must be the fleet's. Needs the gateway's ``redis:`` section (shared locks); a
version without it skips."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from davprovider.settings import Settings
from localgrid.fleet import Fleet, free_port
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway
from tests.helpers.irods_gateway import ALICE, gateway_config, seed
from tests.helpers.litmus_run import assert_litmus_passes
from tests.helpers.swift_gateway import swift_config
from tests.helpers.swift_helpers import local_swift

pytestmark = pytest.mark.skipif(
    not any(f.name == "redis" for f in dataclasses.fields(Settings)),
    reason="this version keeps locks per gateway (no redis: section)",
)


@pytest.fixture(scope="module")
def fleet(irods_zone, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Redis, three gateways (iRODS and Swift shares) and HAProxy; a client of HAProxy."""
    for tool in ("redis-server", "haproxy", "litmus"):
        require_tool(tool)
    seed(irods_zone)
    folder = tmp_path_factory.mktemp("fleet")
    with local_swift(tmp_path_factory, "fleet-swift") as store:
        config = gateway_config(irods_zone.port)
        config["shares"] += swift_config(store)["shares"]
        path = folder / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        running = Fleet(folder / "data", path, 3, free_port())
        try:
            running.start()
            yield Gateway("127.0.0.1", running.port, {}, None, ALICE)
        finally:
            running.stop()


@pytest.mark.parametrize("share", ["/irods/alice", "/swift"])
def test_litmus_passes_through_the_balancer(fleet: Gateway, share: str, tmp_path: Path):
    folder = f"{share}/litmus-{uuid.uuid4().hex[:8]}/"
    assert fleet.request("MKCOL", folder).status == 201
    url = f"http://127.0.0.1:{fleet.port}{folder}"
    assert_litmus_passes(["-k", url, *ALICE], tmp_path)
