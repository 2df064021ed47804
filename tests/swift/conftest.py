"""A real OpenStack Swift for the session (``localgrid.swift``), and backends over it.

Swift is installed into ``.swiftvenv`` on first use. Without it (no network, no
venv module) the Swift tests are skipped, except in CI (``CI=true``), where that
is a failure. The store lives on tmpfs when tmpfs takes user xattrs (kernel 6.6
and later): no fsync cost, no ext4 xattr size limit; else in pytest's tmp dir.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from swiftclient.client import ClientException, Connection

from davprovider.dav.cache import CACHE
from davprovider.swift import Options, SwiftBackend, SwiftFactory, create_factory
from localgrid.swift import LocalSwift
from tests.contract.dav_verbs import DavTarget
from tests.helpers.swift_gateway import connect, container_of, fresh_container, swift_gateway
from tests.helpers.swift_helpers import KEY, USER, MiB, as_tester, local_swift


@pytest.fixture(scope="session")
def swift_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    """Swift's four servers on free loopback ports for the whole session."""
    with local_swift(tmp_path_factory, "swift") as store:
        yield store


@pytest.fixture
def swift_conn(swift_store: LocalSwift) -> Iterator[Connection]:
    """swiftclient as test:tester, for setting up and checking behind the backend."""
    conn = Connection(swift_store.auth_url, USER, KEY, retries=0)
    yield conn
    conn.close()


@pytest.fixture
def container(swift_conn: Connection) -> str:
    """A fresh, empty container for this test."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    swift_conn.put_container(name)
    return name


@pytest.fixture
def make_factory(swift_store: LocalSwift) -> Iterator[Callable[..., SwiftFactory]]:
    """``make_factory(**options)`` -> a SwiftFactory over the test Swift (closed after)."""
    made: list[SwiftFactory] = []

    def make(**overrides: Any) -> SwiftFactory:
        options = {"auth_url": swift_store.auth_url, "segment_size": MiB, **overrides}
        factory = create_factory(Options(**options))
        made.append(factory)
        return factory

    yield make
    for factory in made:
        factory.close()


@pytest.fixture
def account(make_factory: Callable[..., SwiftFactory]) -> SwiftBackend:
    """A backend whose share root is test:tester's account (containers on top)."""
    return make_factory()(as_tester())


@pytest.fixture
def backend(make_factory: Callable[..., SwiftFactory], container: str) -> SwiftBackend:
    """A backend whose share root is a fresh container (for the contract suite)."""
    return make_factory(container=container)(as_tester())


@pytest.fixture(scope="module")
def gw(swift_store: LocalSwift) -> Iterator[Any]:
    """A gateway with one ``/swift`` share over the session's Swift (a module may
    define its own ``gw``: ``box`` then uses that one)."""
    with swift_gateway(swift_store) as gateway:
        yield gateway


@pytest.fixture
def box(gw: Any) -> Iterator[str]:
    """``/swift/<fresh container>/``, made with MKCOL (so the gateway's token is warm)."""
    with fresh_container(gw) as path:
        yield path


@pytest.fixture
def alice(swift_store: LocalSwift) -> Iterator[Connection]:
    """A swiftclient connection as alice, beside the gateway."""
    conn = connect(swift_store)
    yield conn
    conn.close()


@pytest.fixture
def dav_target(gw: Any, box: str, alice: Connection) -> DavTarget:
    """The DAV verb suite's share: a fresh container (``box``) on the in-process gateway;
    content seeded and read back as alice through swiftclient."""
    container = container_of(box)

    def seed(name: str, data: bytes) -> None:
        alice.put_object(container, name, data)
        CACHE.forget()  # changed behind the gateway's back

    def stored(name: str) -> bytes | None:
        try:
            return alice.get_object(container, name)[1]
        except ClientException as exc:
            if exc.http_status == 404:
                return None
            raise

    return DavTarget(gw, box, seed, stored)
