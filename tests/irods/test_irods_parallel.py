"""Parallel iRODS streams (``parallel_streams``, ``irods/parallel.py``): a large PUT is
written and a large GET read by several connections to one replica, byte for byte,
atomically (nothing visible before commit, nothing left after a failure).

The threshold is lowered to 1 MiB so that a 18 MiB object (five 4 MiB blocks over four
streams, the last one short) takes the parallel path; the gateway runs in-process over
the local zone, so the wire can be counted as in test_irods_backend_calls.py.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from davprovider.backend import Identity
from davprovider.irods import IrodsFactory, Options, create_factory
from davprovider.irods.catalog import TEMP_PREFIX
from localgrid.irods import LocalZone
from tests.helpers.gateway import running_gateway
from tests.helpers.irods_gateway import ALICE, HOME, gateway_config, read_object

OPEN, FD_INFO, REPLICA_CLOSE, CLOSE = 602, 20000, 20004, 673
ALICE_ID = Identity(user="alice", method="basic", password="alice")
SIZE = 18 * (1 << 20) + 12345
STREAMS = 4


def options(port: int) -> Options:
    return Options(port=port, root="home", parallel_streams=STREAMS, parallel_threshold=1 << 20)


@pytest.fixture(scope="module")
def parallel_factory(seeded_zone: LocalZone) -> Iterator[IrodsFactory]:
    factory = create_factory(options(seeded_zone.port))
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def parallel_gw(seeded_zone: LocalZone, parallel_factory: IrodsFactory) -> Iterator[Any]:
    with running_gateway(gateway_config(seeded_zone.port), {"/irods": parallel_factory}) as gw:
        gw.user = ALICE
        yield gw


@pytest.fixture
def body() -> bytes:
    return os.urandom(SIZE)


def leftovers(rods: Any, collection: str) -> list[str]:
    return [o.name for o in rods.collections.get(collection).data_objects if TEMP_PREFIX in o.name]


def test_put_and_get_go_over_four_streams_byte_for_byte(
    parallel_gw: Any, api_calls: Counter[int], rods: Any, body: bytes
) -> None:
    name = f"par-{uuid.uuid4().hex[:8]}.bin"

    put = parallel_gw.put(f"/irods/alice/{name}", body)

    assert put.status == 201
    assert api_calls[OPEN] == STREAMS and api_calls[FD_INFO] == 1, api_calls
    assert api_calls[REPLICA_CLOSE] == STREAMS - 1 and api_calls[CLOSE] == 1, api_calls
    stored = rods.data_objects.get(f"{HOME}/alice/{name}")
    assert stored.size == SIZE
    assert read_object(rods, f"{HOME}/alice/{name}") == body
    assert leftovers(rods, f"{HOME}/alice") == []
    api_calls.clear()

    got = parallel_gw.get(f"/irods/alice/{name}", headers={"Cache-Control": "no-cache"})

    assert got.status == 200 and hashlib.sha256(got.body).digest() == hashlib.sha256(body).digest()
    assert api_calls[OPEN] == STREAMS and api_calls[REPLICA_CLOSE] == STREAMS - 1, api_calls


def test_a_range_inside_a_parallel_get_is_served_from_its_offset(
    parallel_gw: Any, body: bytes
) -> None:
    name = f"/irods/alice/par-{uuid.uuid4().hex[:8]}.bin"
    assert parallel_gw.put(name, body).status == 201
    start, end = 5 * (1 << 20) - 7, 13 * (1 << 20) + 3

    reply = parallel_gw.get(name, headers={"Range": f"bytes={start}-{end}"})

    assert reply.status == 206
    assert reply.body == body[start : end + 1]


def test_an_aborted_parallel_upload_leaves_nothing_and_keeps_the_old_object(
    parallel_factory: IrodsFactory, rods: Any, body: bytes
) -> None:
    path = f"/alice/par-{uuid.uuid4().hex[:8]}.bin"
    old = parallel_factory(ALICE_ID).open_write(path, size=3)
    old.write(b"old")
    old.commit()

    upload = parallel_factory(ALICE_ID).open_write(path, size=SIZE)
    upload.write(body[: SIZE // 2])
    upload.abort()
    short = parallel_factory(ALICE_ID).open_write(path, size=SIZE)
    short.write(body[:-1])
    with pytest.raises(ValueError):
        short.commit()

    assert read_object(rods, HOME + path) == b"old"
    assert leftovers(rods, f"{HOME}/alice") == []


def test_an_overwrite_over_parallel_streams_replaces_the_object(
    parallel_factory: IrodsFactory, rods: Any, body: bytes
) -> None:
    path = f"/alice/par-{uuid.uuid4().hex[:8]}.bin"
    for data in (body[::-1], body):
        upload = parallel_factory(ALICE_ID).open_write(path, size=len(data))
        for piece in range(0, len(data), 65536):
            upload.write(data[piece : piece + 65536])
        entry = upload.commit()

    assert entry.size == SIZE and entry.checksum  # registered over the whole object
    assert read_object(rods, HOME + path) == body
