"""A gateway (cheroot, WsgiDAV, our resources) in this process serving a ``/swift``
share over the test Swift, with the in-process tests' client (``gateway.Gateway``),
so that the request sequences of ``client_sequences`` replay here unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from swiftclient.client import Connection

from localgrid.swift import LocalSwift
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.swift_helpers import MiB, swift_share

ALICE = ("alice", "alice")  # tempauth alice:alice, key alice
BOB = ("bob", "bob")


def swift_config(store: LocalSwift, **options: Any) -> dict[str, Any]:
    """A config with one swift share at /swift (Basic logins as ``user:user``)."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 10},
        "logging": {"access_log": False},
        "shares": [swift_share(store, **{"segment_size": MiB, **options})],
    }


@contextmanager
def swift_gateway(
    store: LocalSwift, user: tuple[str, str] = ALICE, **options: Any
) -> Iterator[Gateway]:
    """The gateway for ``swift_config(store, **options)``, requests sent as ``user``."""
    with running_gateway(swift_config(store, **options)) as gw:
        gw.user = user
        yield gw


def connect(store: LocalSwift, user: tuple[str, str] = ALICE, **kw: Any) -> Connection:
    """swiftclient as a tempauth user (``alice`` -> ``alice:alice``)."""
    return Connection(store.auth_url, f"{user[0]}:{user[0]}", user[1], retries=0, **kw)


@contextmanager
def fresh_container(gw: Gateway) -> Iterator[str]:
    """A new container made with MKCOL: yields ``/swift/<name>/``."""
    path = f"/swift/s-{uuid.uuid4().hex[:8]}/"
    assert gw.request("MKCOL", path).status == 201
    try:
        yield path
    finally:
        gw.request("DELETE", path)


@contextmanager
def temp_url_key(store: LocalSwift, user: tuple[str, str] = ALICE) -> Iterator[str]:
    """``user``'s account has a fresh temp URL key (yielded) until the block ends."""
    conn = connect(store, user)
    key = uuid.uuid4().hex
    conn.post_account({"X-Account-Meta-Temp-URL-Key": key})
    try:
        yield key
    finally:
        conn.post_account({"X-Remove-Account-Meta-Temp-URL-Key": "x"})
        conn.close()


@contextmanager
def redirecting_gateway(store: LocalSwift, **options: Any) -> Iterator[Gateway]:
    """``swift_gateway`` with ``temp_url_redirect`` on, alice's account keyed meanwhile."""
    with temp_url_key(store), swift_gateway(store, temp_url_redirect=True, **options) as gw:
        yield gw


def container_of(box: str) -> str:
    """The container of a ``/swift/<container>/...`` path."""
    return box.strip("/").split("/")[1]
