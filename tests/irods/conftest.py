"""Fixtures of the iRODS gateway tests: per test module, a seeded local iRODS zone and a
``davprovider serve`` process in front of it (see tests/helpers/irods_gateway.py); for the
cost tests, an in-process gateway whose iRODS API requests are counted."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from irods.connection import Connection

from davprovider.irods import Options, create_factory, wire
from localgrid.irods import LocalZone
from tests.contract.dav_verbs import DavTarget
from tests.helpers import external_tools
from tests.helpers.gateway import running_gateway
from tests.helpers.irods_gateway import (
    ALICE,
    HOME,
    SHARE,
    Gateway,
    GatewayProcess,
    gateway_config,
    read_object,
    seed,
    start_gateway,
    write_object,
)


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
def dav_target(gw: Gateway, workdir: str, rods: Any, alice_prc: Any, irods_path: Any) -> DavTarget:
    """The DAV verb suite's share: a fresh collection in alice's home (``workdir``) on the
    ``davprovider serve`` process; content seeded as alice and read as rods, through PRC."""

    def seed(name: str, data: bytes) -> None:
        write_object(alice_prc, irods_path(workdir + name), data)

    def stored(name: str) -> bytes | None:
        path = irods_path(workdir + name)
        return read_object(rods, path) if rods.data_objects.exists(path) else None

    return DavTarget(gw, workdir, seed, stored)


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """``require_tool(name)``: skip without the tool; fail when CI=true."""
    return external_tools.require_tool


@pytest.fixture(scope="module")
def listed_zone(irods_zone: LocalZone) -> LocalZone:
    """The seeded zone with ``alice/many10`` and ``alice/many1200`` (empty objects)."""
    seed(irods_zone)
    with irods_zone.session(*ALICE) as alice:
        for count in (10, 1200):
            coll = f"{HOME}/alice/many{count}"
            alice.collections.create(coll)
            for i in range(count):
                alice.data_objects.create(f"{coll}/f{i:05}.txt")
    return irods_zone


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """iRODS API number -> requests sent, counted around python-irodsclient's own send
    and ``wire.send_with``."""
    calls: Counter[int] = Counter()
    original = Connection.send

    def counting_send(self: Any, message: Any) -> Any:
        # the gateway's background sweep (a thread named "sweep") is not the request's
        if message.msg_type == "RODS_API_REQ" and threading.current_thread().name != "sweep":
            calls[int(message.int_info)] += 1
        return original(self, message)

    def counting_send_with(conn: Any, message: Any, data: Any) -> None:
        calls[int(message.int_info)] += 1  # a block sent from its buffer (wire.write)
        original_with(conn, message, data)

    original_with = wire.send_with
    monkeypatch.setattr(Connection, "send", counting_send)
    monkeypatch.setattr(wire, "send_with", counting_send_with)
    return calls


@pytest.fixture
def counted_gw(listed_zone: LocalZone) -> Iterator[Any]:
    """An in-process gateway over ``listed_zone`` (so ``api_calls`` sees its requests), as alice."""
    config = gateway_config(listed_zone.port)
    factory = create_factory(Options(port=listed_zone.port, root="home"))
    with running_gateway(config, {"/irods": factory}) as gateway:
        gateway.user = ALICE
        gateway.request("OPTIONS", "/irods/alice/")  # log in once; the pool keeps the session
        yield gateway
    factory.close()
