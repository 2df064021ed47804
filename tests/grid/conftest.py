"""Fixtures of the grid tests: the local iRODS zone (seeded) and a Swift of this directory's
own, and two gateways in front of both (``a`` and ``b``), as alice by Basic login; for the
gfal2 modules a demo PKI of their own (``demo``) and alice's proxy from ``grid-proxy-init``
(``proxy``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localgrid.irods import LocalZone
from localgrid.pki import DemoPKI, create_demo_pki
from localgrid.swift import LocalSwift
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.grid import grid_config, require_gfal2
from tests.helpers.gridtls import grid_proxy_init
from tests.helpers.irods_gateway import ALICE, seed
from tests.helpers.swift_helpers import local_swift


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPKI:
    """A demo PKI for the module (gfal2 required: the modules that use it drive gfal2)."""
    require_gfal2()
    return create_demo_pki(tmp_path_factory.mktemp("gfal2-pki"))


@pytest.fixture(scope="module")
def proxy(demo: DemoPKI) -> Path:
    return grid_proxy_init(demo)


@pytest.fixture(scope="module")
def zone(irods_zone: LocalZone) -> LocalZone:
    seed(irods_zone)
    return irods_zone


@pytest.fixture(scope="module")
def swift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    with local_swift(tmp_path_factory, "swift-grid") as store:
        yield store


def _gateway(zone: LocalZone, swift: LocalSwift) -> Iterator[Gateway]:
    with running_gateway(grid_config(zone, swift)) as gateway:
        gateway.user = ALICE
        assert gateway.request("MKCOL", "/swift/tpc/").status in (201, 405)
        yield gateway


@pytest.fixture(scope="module")
def a(zone: LocalZone, swift: LocalSwift) -> Iterator[Gateway]:
    yield from _gateway(zone, swift)


@pytest.fixture(scope="module")
def b(zone: LocalZone, swift: LocalSwift) -> Iterator[Gateway]:
    yield from _gateway(zone, swift)
