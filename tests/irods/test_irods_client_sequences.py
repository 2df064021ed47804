"""Windows Explorer and macOS Finder request sequences, replayed on the iRODS share; the
result is checked in the zone (content, modify time, AVUs, no side files when refused)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC
from email.utils import parsedate_to_datetime

import pytest

from localgrid.irods import LocalZone
from tests.helpers.client_sequences import finder_copy, windows_copy
from tests.helpers.irods_gateway import (
    SHARE,
    GatewayProcess,
    gateway_config,
    read_object,
    start_gateway,
)

DATA = bytes(range(256)) * 1200  # 307200 bytes
MODIFIED = "Thu, 28 Feb 2008 19:15:10 GMT"


def modify_time(rods, path: str) -> float:
    return rods.data_objects.get(path).modify_time.replace(tzinfo=UTC).timestamp()


def test_windows_copy_sets_the_modify_time_and_keeps_win32_attributes_as_avus(
    gw, workdir, rods, irods_path
):
    seen = windows_copy(gw, workdir, "report.docx", DATA, MODIFIED)

    assert seen == {
        "propfind": 404, "create": 201, "lock": 200, "proppatch": 207, "head": 200,
        "put": 204, "proppatch2": 207, "unlock": 204,
    }  # fmt: skip
    path = irods_path(workdir + "report.docx")
    assert read_object(rods, path) == DATA
    assert modify_time(rods, path) == parsedate_to_datetime(MODIFIED).timestamp()
    avus = {a.name: a.value for a in rods.data_objects.get(path).metadata.items()}
    assert avus["dav:{urn:schemas-microsoft-com:}Win32FileAttributes"] == "00000020"
    assert "dav:{urn:schemas-microsoft-com:}Win32LastModifiedTime" not in avus


def test_finder_copy_stores_the_object_and_its_side_files_in_the_zone(
    gw, workdir, rods, irods_path
):
    before = time.time()
    seen = finder_copy(gw, workdir, "photo.jpg", DATA)

    assert seen == {
        "propfind": 404, "propfind_twin": 404, "create": 201, "lock": 200, "put": 204,
        "put_twin": 201, "unlock": 204, "ds_store": 201, "listing": 207,
    }  # fmt: skip
    path = irods_path(workdir + "photo.jpg")
    assert read_object(rods, path) == DATA
    assert before - 2 <= modify_time(rods, path) <= time.time() + 2
    names = {o.name for o in rods.collections.get(irods_path(workdir)).data_objects}
    assert names == {"photo.jpg", "._photo.jpg", ".DS_Store"}


@pytest.fixture(scope="module")
def refusing_gateway(
    seeded_zone: LocalZone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """A second gateway over the same zone with ``clients.apple_files: refuse``."""
    config = gateway_config(seeded_zone.port)
    config["clients"] = {"apple_files": "refuse"}
    running = start_gateway(config, tmp_path_factory.mktemp("refusing"))
    try:
        yield running
    finally:
        running.stop()


def test_finder_side_files_never_reach_the_zone_when_refused(refusing_gateway, rods, irods_path):
    gw = refusing_gateway.client
    folder = f"{SHARE}/alice/mac-{uuid.uuid4().hex[:8]}/"
    assert gw.request("MKCOL", folder).status == 201

    seen = finder_copy(gw, folder, "photo.jpg", DATA)

    assert (seen["put"], seen["unlock"]) == (204, 204)
    assert (seen["put_twin"], seen["ds_store"]) == (403, 403)
    names = {o.name for o in rods.collections.get(irods_path(folder)).data_objects}
    assert names == {"photo.jpg"}
    assert read_object(rods, irods_path(folder + "photo.jpg")) == DATA
