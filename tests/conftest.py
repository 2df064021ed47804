"""Shared fixtures: a local iRODS zone on a free port, stopped by PID afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localgrid.irods import LocalZone


@pytest.fixture(scope="module")
def irods_zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalZone]:
    with LocalZone(tmp_path_factory.mktemp("zone")) as zone:
        yield zone


@pytest.fixture
def rods(irods_zone: LocalZone) -> Iterator[Any]:
    session = irods_zone.session()
    try:
        yield session
    finally:
        session.cleanup()
