"""Modification times set by sync clients (X-OC-Mtime, PROPPATCH), on the memory share."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest

from davprovider.backend import Backend
from davprovider.memory import MemoryBackend, MemoryFactory, Options
from tests.helpers.client_sequences import WIN32_PATCH, getlastmodified_proppatch, rclone_proppatch
from tests.helpers.davxml import propstats

MODIFIED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/></D:prop></D:propfind>"""


def listed_mtime(gateway, folder: str, name: str) -> float:
    reply = gateway.request("PROPFIND", folder, MODIFIED, headers={"Depth": "1"})
    assert reply.status == 207
    for href, props in propstats(reply.body).items():
        if href.rstrip("/").endswith("/" + name):
            return parsedate_to_datetime(props["{DAV:}getlastmodified"]).timestamp()
    raise AssertionError(f"{name} not listed")


def header_mtime(gateway, path: str) -> float:
    return parsedate_to_datetime(gateway.get(path).header("Last-Modified")).timestamp()


def test_put_with_x_oc_mtime_is_accepted_and_listed(gateway):
    reply = gateway.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": "1500000000"})
    assert reply.status == 201
    assert reply.header("X-OC-Mtime") == "accepted"
    assert listed_mtime(gateway, "/memory/", "a.txt") == 1500000000
    assert header_mtime(gateway, "/memory/a.txt") == 1500000000


def test_x_oc_mtime_keeps_subsecond_precision_where_the_backend_does(gateway):
    gateway.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": "1500000000.25"})
    assert gateway.factories["/memory"].tree.find("/a.txt").modified == 1500000000.25


def test_put_without_x_oc_mtime_has_no_accepted_header(gateway):
    reply = gateway.put("/memory/a.txt", b"abc")
    assert reply.header("X-OC-Mtime") is None


@pytest.mark.parametrize("value", ["yesterday", "-5", "1e400", ""])
def test_malformed_x_oc_mtime_is_400_and_stores_nothing(gateway, value):
    reply = gateway.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": value})
    assert reply.status == 400
    assert gateway.get("/memory/a.txt").status == 404


def test_x_oc_mtime_on_copy_and_move_sets_the_destination(gateway):
    gateway.put("/memory/a.txt", b"abc")
    copy = gateway.request(
        "COPY",
        "/memory/a.txt",
        headers={"Destination": "/memory/b.txt", "X-OC-Mtime": "1400000000"},
    )
    assert copy.status == 201 and copy.header("X-OC-Mtime") == "accepted"
    move = gateway.request(
        "MOVE",
        "/memory/b.txt",
        headers={"Destination": "/memory/c.txt", "X-OC-Mtime": "1300000000"},
    )
    assert move.status == 201 and move.header("X-OC-Mtime") == "accepted"
    assert header_mtime(gateway, "/memory/c.txt") == 1300000000
    assert header_mtime(gateway, "/memory/a.txt") != 1400000000


def test_proppatch_of_rclone_lastmodified_with_checksum_sets_the_mtime(gateway):
    gateway.put("/memory/a.txt", b"abc")
    sha1 = "a9993e364706816aba3e25717850c26c9cd0d89d"
    reply = gateway.request(
        "PROPPATCH", "/memory/a.txt", rclone_proppatch(1600000000, "SHA1:" + sha1)
    )
    assert reply.status == 207
    assert reply.body.count(b"200 OK") == 1 and b"403" not in reply.body
    assert listed_mtime(gateway, "/memory/", "a.txt") == 1600000000


def test_proppatch_of_getlastmodified_sets_the_mtime(gateway):
    gateway.put("/memory/a.txt", b"abc")
    reply = gateway.request(
        "PROPPATCH", "/memory/a.txt", getlastmodified_proppatch("Wed, 27 Sep 2017 14:28:34 GMT")
    )
    assert reply.status == 207 and b"200 OK" in reply.body
    assert header_mtime(gateway, "/memory/a.txt") == 1506522514


def test_proppatch_of_a_folder_mtime(gateway):
    gateway.request("MKCOL", "/memory/d/")
    reply = gateway.request("PROPPATCH", "/memory/d/", rclone_proppatch(1234567890))
    assert reply.status == 207 and b"200 OK" in reply.body
    assert listed_mtime(gateway, "/memory/", "d") == 1234567890


def test_proppatch_with_a_bad_time_is_409_and_changes_nothing(gateway):
    gateway.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": "1500000000"})
    reply = gateway.request("PROPPATCH", "/memory/a.txt", getlastmodified_proppatch("soon"))
    assert reply.status == 207 and b"409 Conflict" in reply.body
    assert header_mtime(gateway, "/memory/a.txt") == 1500000000


def test_removing_getlastmodified_is_forbidden(gateway):
    gateway.put("/memory/a.txt", b"abc")
    remove = getlastmodified_proppatch("x").replace(b"D:set>", b"D:remove>")
    remove = remove.replace(b">x<", b"><")
    reply = gateway.request("PROPPATCH", "/memory/a.txt", remove)
    assert reply.status == 207 and b"403 Forbidden" in reply.body


class NoMtimeBackend(MemoryBackend):
    """A backend that keeps the contract's default set_mtime (NotImplementedError)."""

    set_mtime = Backend.set_mtime


class NoMtimeFactory(MemoryFactory):
    def __call__(self, identity):
        return NoMtimeBackend(self.tree)


def test_without_backend_mtime_put_still_works_and_proppatch_is_403(start_gateway, config):
    gw = start_gateway(config(), {"/memory": NoMtimeFactory(Options(users={"alice": "alice-pw"}))})
    reply = gw.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": "1500000000"})
    assert reply.status == 201 and reply.header("X-OC-Mtime") is None
    assert gw.get("/memory/a.txt").body == b"abc"
    patch = gw.request("PROPPATCH", "/memory/a.txt", rclone_proppatch(1600000000))
    assert patch.status == 207 and b"403 Forbidden" in patch.body
    win32 = WIN32_PATCH.replace(b"Mon, 01 Jan 2001 00:00:00 GMT", b"Wed, 27 Sep 2017 14:28:34 GMT")
    reply = gw.request("PROPPATCH", "/memory/a.txt", win32)
    assert reply.status == 207 and b"200 OK" in reply.body
    stored = gw.factories["/memory"].tree.find("/a.txt").meta
    assert stored["{urn:schemas-microsoft-com:}Win32LastModifiedTime"].startswith("Wed, 27 Sep")
