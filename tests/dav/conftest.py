"""A real gateway (cheroot on 127.0.0.1, free port) over the memory backend."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import Any

import pytest

from davprovider.backend import BackendFactory
from davprovider.dav.cache import CACHE
from davprovider.memory import MemoryBackend, MemoryFactory
from davprovider.memory.tree import Tree
from tests.contract.dav_verbs import DavTarget
from tests.helpers.gateway import Gateway, memory_config, running_gateway


@pytest.fixture(scope="module")
def shared_gateway() -> Iterator[Gateway]:
    with running_gateway(memory_config()) as gw:
        yield gw


@pytest.fixture
def gateway(shared_gateway: Gateway) -> Gateway:
    """The default gateway (one memory share at /memory), emptied for each test."""
    factory = shared_gateway.factories["/memory"]
    assert isinstance(factory, MemoryFactory)
    factory.tree = Tree()
    shared_gateway.app.dav.lock_manager.storage.clear()
    CACHE.forget()  # the storage was replaced behind the gateway's back
    return shared_gateway


@pytest.fixture
def dav_target(gateway: Gateway) -> DavTarget:
    """The DAV verb suite's share: ``/memory/box/`` in the emptied gateway; content is
    seeded and read back through the gateway's own tree."""
    factory = gateway.factories["/memory"]
    assert isinstance(factory, MemoryFactory)
    direct = MemoryBackend(factory.tree)
    direct.mkdir("/box")

    def seed(name: str, data: bytes) -> None:
        upload = direct.open_write("/box/" + name, size=len(data))
        upload.write(data)
        upload.commit()
        CACHE.forget()  # changed behind the gateway's back

    def stored(name: str) -> bytes | None:
        try:
            stream = direct.open_read("/box/" + name)
        except FileNotFoundError:
            return None
        try:
            return stream.read()
        finally:
            stream.close()

    return DavTarget(gateway, "/memory/box/", seed, stored)


@pytest.fixture
def config() -> Any:
    """``config(**overrides)`` -> a memory-share config dict."""
    return memory_config


@pytest.fixture
def start_gateway() -> Iterator[Any]:
    """``start_gateway(config, factories=None)`` -> a running Gateway, stopped at teardown."""
    with ExitStack() as stack:

        def start(
            config: Mapping[str, Any], factories: Mapping[str, BackendFactory] | None = None
        ) -> Gateway:
            return stack.enter_context(running_gateway(config, factories))

        yield start
