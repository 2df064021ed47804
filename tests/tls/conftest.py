"""Fixtures of the TLS tests: the test PKI (made once per session) and gateways over
HTTPS on 127.0.0.1 (in this process, stopped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import Any

import pytest

from localgrid.irods import LocalZone
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.testpki import TestPKI, make_test_pki
from tests.helpers.tlsgw import seed_zone


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def module_gateways() -> Iterator[Any]:
    """``start(config)`` -> a running Gateway, stopped at the end of the module."""
    with ExitStack() as stack:

        def start(config: Mapping[str, Any], factories: Any = None) -> Gateway:
            return stack.enter_context(running_gateway(config, factories))

        yield start


@pytest.fixture
def start_tls_gateway() -> Iterator[Any]:
    """``start(config)`` -> a running Gateway, stopped after the test."""
    with ExitStack() as stack:

        def start(config: Mapping[str, Any], factories: Any = None) -> Gateway:
            return stack.enter_context(running_gateway(config, factories))

        yield start


@pytest.fixture(scope="module")
def seeded_zone(irods_zone: LocalZone) -> LocalZone:
    """The module's local iRODS zone seeded by ``tlsgw.seed_zone``."""
    seed_zone(irods_zone)
    return irods_zone
