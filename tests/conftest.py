"""Shared fixtures: a local iRODS zone on a free port, stopped by PID afterwards."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from localgrid.irods import LocalZone


def require_tool(name: str) -> str:
    """Path of an external tool; skip without it, but fail when CI=true."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI but is not installed")
        pytest.skip(f"{name} is not installed")
    return path


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
