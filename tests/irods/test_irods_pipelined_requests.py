"""Requests sent together on one iRODS connection (``wire.apply_then_rename``,
``Catalog.closed_temp_row``): the zone answers them in order, and a failure of either
leaves the connection in step or drops it, never a half-made object in sight."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from davprovider.backend import Identity
from davprovider.irods import IrodsFactory, Options, create_factory, upload, wire
from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import HOME, SHARE, TEMP

ALICE_ID = Identity(user="alice", method="basic", password="alice")
BODY = b"pipelined\n" * 100


@pytest.fixture
def factory(seeded_zone: LocalZone) -> Iterator[IrodsFactory]:
    made = create_factory(Options(port=seeded_zone.port, root="home"))
    yield made
    made.close()


def _put(factory: IrodsFactory, path: str, data: bytes = BODY) -> Any:
    writer = factory(ALICE_ID).open_write(path, size=len(data))
    writer.set_digests(
        {"sha-256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()}
    )
    writer.write(data)
    return writer.commit()


def _names(alice_prc: Any, folder: str) -> list[str]:
    return sorted(o.name for o in alice_prc.collections.get(f"{HOME}{folder}").data_objects)


def test_digests_and_rename_in_one_round_trip(
    factory: IrodsFactory, workdir: str, alice_prc: Any
) -> None:
    folder = workdir[len(SHARE) :].rstrip("/")
    entry = _put(factory, f"{folder}/one.txt")

    stored = alice_prc.data_objects.get(f"{HOME}{folder}/one.txt")
    assert stored.open("r").read() == BODY
    expected = "sha2:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert stored.checksum == expected and entry.size == len(BODY)
    assert stored.metadata.items()  # the digests, bound to that checksum
    assert _names(alice_prc, folder) == ["one.txt"]


def test_failed_digests_still_place_the_object_and_keep_the_connection_in_step(
    factory: IrodsFactory,
    workdir: str,
    alice_prc: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = workdir[len(SHARE) :].rstrip("/")
    refused = {"operation": "no-such-operation", "attribute": "a", "value": "v"}
    monkeypatch.setattr(upload, "_as_json", lambda op: refused)
    with caplog.at_level(logging.WARNING, "davprovider.irods"):
        _put(factory, f"{folder}/kept.txt")
    monkeypatch.undo()

    assert "its digests were not kept" in caplog.text
    stored = alice_prc.data_objects.get(f"{HOME}{folder}/kept.txt")
    assert stored.open("r").read() == BODY and not stored.metadata.items()
    _put(factory, f"{folder}/next.txt", b"next")  # the same pooled connection, in step
    assert _names(alice_prc, folder) == ["kept.txt", "next.txt"]


def test_a_failed_close_shows_nothing_and_drops_the_connection(
    factory: IrodsFactory, workdir: str, alice_prc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = workdir[len(SHARE) :].rstrip("/")
    real = wire.close_message

    def wrong_descriptor(handle: Any) -> Any:
        message = real(handle)
        message.msg.l1descInx = 999
        return message

    monkeypatch.setattr("davprovider.irods.catalog.close_message", wrong_descriptor)
    with pytest.raises(OSError):
        _put(factory, f"{folder}/lost.txt")
    monkeypatch.undo()

    left = _names(alice_prc, folder)
    assert "lost.txt" not in left and not [n for n in left if n.startswith(TEMP)]
    _put(factory, f"{folder}/after.txt", b"after")
    assert _names(alice_prc, folder) == ["after.txt"]
