"""What the gateway's common requests cost in Swift requests (counted at swiftclient's
``Connection._retry``: one per HTTP request to Swift, as the proxy log shows them), and
PROPFIND ``allprop`` Depth 1 without a HEAD per member where no dead property was ever
stored (``names.PROPS_FLAG``)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections import Counter
from typing import Any

import pytest
from swiftclient.client import Connection

from tests.helpers.davxml import propstats
from tests.helpers.gateway import Gateway
from tests.helpers.swift_gateway import container_of, fresh_container
from tests.helpers.swift_helpers import put

DATA = os.urandom(4096)
COLOUR = "{urn:z}colour"
SET_COLOUR = (
    b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">'
    b"<D:set><D:prop><Z:colour>red</Z:colour></D:prop></D:set></D:propertyupdate>"
)


class SwiftCalls:
    """Swift requests made by any swiftclient connection, by swiftclient function."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()

    def record(self, name: str) -> None:
        with self._lock:
            self._calls[name] += 1

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)


@pytest.fixture
def swift_calls(monkeypatch: pytest.MonkeyPatch) -> SwiftCalls:
    calls = SwiftCalls()
    inner = Connection._retry

    def counting(self: Connection, reset: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name != "sweep":  # the gateway's background sweeps
            # (at start, and of each account the first time its user is seen)
            calls.record(func.__name__)
        return inner(self, reset, func, *args, **kwargs)

    monkeypatch.setattr(Connection, "_retry", counting)
    return calls


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def allprop(gw: Gateway, folder: str) -> dict[str, dict[str, str]]:
    reply = gw.request("PROPFIND", folder, b"", headers={"Depth": "1"})
    assert reply.status == 207
    return propstats(reply.body)


# --- PUT, GET, PROPFIND -------------------------------------------------------------------


def test_a_new_small_put_costs_a_listing_and_the_put(gw, box, swift_calls):
    swift_calls.clear()
    reply = gw.request("PUT", box + "new.bin", DATA)
    assert reply.status == 201
    # nothing's name starts with "new.bin": so no "new.bin/" folder either
    assert swift_calls.counts() == {"get_container": 1, "put_object": 1}
    assert reply.header("ETag") == f'"{md5(DATA)}"'
    assert gw.request("GET", box + "new.bin").body == DATA


def test_a_streamed_put_trusts_the_token_its_own_lookups_just_used(gw, box, swift_calls):
    body = os.urandom(900_000)  # several request blocks, one segment: the PUT thread
    swift_calls.clear()
    assert gw.request("PUT", box + "big.bin", body).status == 201
    assert swift_calls.counts() == {"get_container": 1, "put_object": 1}  # no HEAD first
    assert gw.request("GET", box + "big.bin").body == body


def test_a_new_small_put_in_a_folder_adds_the_folders_listing(gw, box, swift_calls):
    assert gw.request("MKCOL", box + "dir").status == 201
    swift_calls.clear()
    assert gw.request("PUT", box + "dir/new.bin", DATA).status == 201
    # the first row named "dir..." is its marker "dir/": a folder, in one listing
    assert swift_calls.counts() == {"get_container": 2, "put_object": 1}


def test_new_small_puts_one_after_another_cost_the_put_alone(gw, box, swift_calls):
    """The second new name lists the folder (``dav/cache.py``); every later one is
    missing from that listing, which each commit keeps up to date: the PUT alone."""
    assert gw.request("MKCOL", box + "run").status == 201
    costs = []
    for index in range(5):
        swift_calls.clear()
        assert gw.request("PUT", box + f"run/f{index}.bin", DATA).status == 201
        costs.append(swift_calls.counts())
    assert costs[0] == {"get_container": 2, "put_object": 1}  # the name's, the folder's
    assert costs[1] == {"get_container": 1, "put_object": 1}  # the folder listed
    assert costs[2:] == [{"put_object": 1}] * 3
    listed = allprop(gw, box + "run/")
    assert sorted(p for p in listed if p.endswith(".bin")) == [
        box + f"run/f{index}.bin" for index in range(5)
    ]


def test_an_overwrite_costs_a_listing_a_head_and_the_put_keeping_properties(gw, box, swift_calls):
    assert gw.request("PUT", box + "f.bin", b"old").status == 201
    assert gw.request("PROPPATCH", box + "f.bin", SET_COLOUR).status == 207
    swift_calls.clear()
    reply = gw.request("PUT", box + "f.bin", DATA)
    assert reply.status == 204
    assert swift_calls.counts() == {"get_container": 1, "head_object": 1, "put_object": 1}
    assert reply.header("ETag") == f'"{md5(DATA)}"'
    props = allprop(gw, box)[box + "f.bin"]
    assert props[COLOUR] == "red"
    assert props["{DAV:}getcontentlength"] == str(len(DATA))
    assert props["{DAV:}getetag"].strip('"') == md5(DATA)


def test_get_and_propfind_depth_0_cost_two_requests(gw, box, swift_calls):
    assert gw.request("PUT", box + "f.bin", DATA).status == 201
    swift_calls.clear()
    fresh = {"Cache-Control": "no-cache"}  # past the listing cache
    assert gw.request("GET", box + "f.bin", headers=fresh).body == DATA
    assert swift_calls.counts() == {"get_container": 1, "get_object": 1}
    swift_calls.clear()
    assert gw.request("GET", box + "f.bin").body == DATA  # known from the upload
    assert swift_calls.counts() == {"get_object": 1}
    swift_calls.clear()
    assert gw.request("PROPFIND", box + "f.bin", headers={"Depth": "0"}).status == 207
    assert swift_calls.counts() == {"get_container": 1, "head_object": 1}


def test_put_onto_a_folder_or_into_a_missing_parent_is_still_refused(gw, box, alice):
    assert gw.request("MKCOL", box + "dir").status == 201
    alice.put_object(container_of(box), "implicit/member", b"x")  # a folder without marker
    assert gw.request("PUT", box + "dir", DATA).status == 405
    assert gw.request("PUT", box + "implicit", DATA).status == 405
    assert gw.request("PUT", box + "missing/f.bin", DATA).status == 409
    assert gw.request("PUT", box + "dir/missing/f.bin", DATA).status == 409


def test_if_match_on_put_still_compares_the_stored_etag(gw, box):
    assert gw.request("PUT", box + "f.bin", b"one").status == 201
    wrong = gw.request("PUT", box + "f.bin", DATA, headers={"If-Match": '"0123"'})
    assert wrong.status == 412
    right = gw.request("PUT", box + "f.bin", DATA, headers={"If-Match": f'"{md5(b"one")}"'})
    assert right.status == 204
    again = gw.request("PUT", box + "f.bin", b"two", headers={"If-Match": right.header("ETag")})
    assert again.status == 204


@pytest.mark.parametrize("content_type", ["text/plain; charset=utf-8", None])
def test_commit_describes_the_object_as_a_stat_does(backend, content_type):
    kw = {"content_type": content_type} if content_type else {}
    entry = put(backend, "/f.txt", DATA, **kw)
    stat = backend.stat("/f.txt")
    assert entry == dataclasses.replace(stat, modified=entry.modified)
    assert entry.etag == md5(DATA) and entry.size == len(DATA)
    assert stat.modified is not None and entry.modified is not None
    assert abs(entry.modified - stat.modified) < 1


# --- PROPFIND allprop Depth 1 ----------------------------------------------------------------


def test_allprop_depth_1_in_a_plain_container_heads_no_member(gw, box, alice, swift_calls):
    name = container_of(box)
    for i in range(30):
        alice.put_object(name, f"o{i:02}", b"x")
    alice.put_object(name, "dir/", b"", content_type="application/directory")
    swift_calls.clear()
    listed = allprop(gw, box)
    assert len(listed) == 32  # the container and its 31 members
    assert swift_calls.counts() == {"head_container": 1, "get_container": 1}


def test_allprop_depth_1_shows_a_property_set_by_proppatch(gw, box, alice, swift_calls):
    name = container_of(box)
    for i in range(5):
        alice.put_object(name, f"o{i}", b"x")
    alice.put_object(name, "implicit/member", b"x")
    assert gw.request("PROPPATCH", box + "o3", SET_COLOUR).status == 207
    assert gw.request("PROPPATCH", box + "implicit", SET_COLOUR).status == 207
    swift_calls.clear()
    listed = allprop(gw, box)
    assert listed[box + "o3"][COLOUR] == "red"
    assert listed[box + "implicit/"][COLOUR] == "red"
    assert COLOUR not in listed[box + "o1"]
    assert swift_calls.counts()["head_object"] >= 6  # flagged: every member's metadata read


def test_properties_copied_or_moved_into_another_container_show_in_its_listings(gw, box):
    assert gw.request("PUT", box + "f.bin", DATA).status == 201
    assert gw.request("PROPPATCH", box + "f.bin", SET_COLOUR).status == 207
    with fresh_container(gw) as other:
        copied = gw.request("COPY", box + "f.bin", headers={"Destination": other + "c.bin"})
        assert copied.status == 201
        assert allprop(gw, other)[other + "c.bin"][COLOUR] == "red"
    with fresh_container(gw) as other:
        moved = gw.request("MOVE", box + "f.bin", headers={"Destination": other + "m.bin"})
        assert moved.status == 201
        assert allprop(gw, other)[other + "m.bin"][COLOUR] == "red"
        whole = other.rstrip("/") + "-copy/"
        copied = gw.request("COPY", other, headers={"Destination": whole})
        assert copied.status == 201
        try:
            assert allprop(gw, whole)[whole + "m.bin"][COLOUR] == "red"
        finally:
            gw.request("DELETE", whole)


#: rclone's PROPFIND (webdav backend, vendor owncloud), sent after each upload
RCLONE_PROPFIND = b"""<?xml version="1.0"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">
<d:prop><d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/>
<d:getcontenttype/><oc:checksums/><oc:permissions/></d:prop></d:propfind>"""


def test_rclones_steps_for_new_small_files_cost_the_put_alone_once_listed(gw, box, swift_calls):
    """rclone (owncloud vendor) per file: MKCOL of the folder (405), PUT with
    X-OC-Mtime and OC-Checksum, PROPFIND of the new file with oc:checksums. The mtime
    and digests travel in the object's PUT; the folder and the new file's entry and
    digests are known from the upload (``dav/cache.py``). From the second file on, the
    folder's listing (taken once, and kept up to date by each commit) shows the name
    missing: the PUT alone."""
    assert gw.request("MKCOL", box + "tree/").status == 201
    costs = []
    for index in range(4):
        data = os.urandom(4096)
        sha1 = hashlib.sha1(data).hexdigest()
        swift_calls.clear()
        assert gw.request("MKCOL", box + "tree/").status == 405
        headers = {"X-OC-Mtime": "1500000000", "OC-Checksum": f"SHA1:{sha1}"}
        put = gw.request("PUT", box + f"tree/f{index}.dat", data, headers=headers)
        assert put.status == 201 and put.header("X-OC-Mtime") == "accepted"
        found = gw.request("PROPFIND", box + f"tree/f{index}.dat", RCLONE_PROPFIND,
                           headers={"Depth": "1"})  # fmt: skip
        assert found.status == 207
        assert f"SHA1:{sha1}".encode() in found.body
        assert b"Fri, 14 Jul 2017 02:40:00 GMT" in found.body
        costs.append(swift_calls.counts())
    assert costs == [
        # the folder for the 405 (the MKCOL that made it emptied the cache), the new
        # name's listing, the folder's (the PUT checks it is one), the PUT
        {"get_container": 3, "put_object": 1},
        # a second member asked of Swift: the folder is listed, and lacks the name
        {"get_container": 1, "put_object": 1},
        {"put_object": 1},  # the listing, with the files put since
        {"put_object": 1},
    ]


#: what davix (gfal2's stat) sends: it names properties no server keeps (LCGDM:mode,
#: DAV:owner), so a server must look for dead properties
DAVIX_STAT = (
    b'<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:" xmlns:L="LCGDM:">'
    b"<D:prop><D:displayname/><D:getlastmodified/><D:getcontentlength/>"
    b"<D:resourcetype><D:collection/></D:resourcetype><L:mode/><D:owner></D:owner>"
    b"</D:prop></D:propfind>"
)


def test_a_repeated_stat_naming_unknown_properties_asks_swift_nothing(gw, box, swift_calls):
    assert gw.request("PUT", box + "f.bin", DATA).status == 201
    assert gw.request("PROPFIND", box + "f.bin", DAVIX_STAT, {"Depth": "0"}).status == 207
    swift_calls.clear()
    for _ in range(3):
        reply = gw.request("PROPFIND", box + "f.bin", DAVIX_STAT, {"Depth": "0"})
        assert reply.status == 207 and b"<D:getcontentlength>4096<" in reply.body
    assert swift_calls.counts() == {}  # entry and dead properties from the listing cache
    assert gw.request("PROPPATCH", box + "f.bin", SET_COLOUR).status == 207
    colour = b'<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:colour/></D:prop></D:propfind>'
    shown = gw.request("PROPFIND", box + "f.bin", colour, {"Depth": "0"})
    assert b">red<" in shown.body  # a change through the gateway shows at once


def test_stats_of_one_member_after_another_list_the_folder_once(gw, box, alice, swift_calls):
    """davfs2, Finder or a script's loop stat the members of a folder in turn: the
    second member's stat lists the folder (cached for ``listing_cache`` seconds), and
    the others are answered from that listing."""
    name = container_of(box)
    for i in range(20):
        alice.put_object(name, f"d/f{i:02}", b"x" * i)
    swift_calls.clear()
    common = (
        b'<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/>'
        b"<D:getetag/><D:resourcetype/></D:prop></D:propfind>"
    )
    for i in range(20):
        reply = gw.request("PROPFIND", box + f"d/f{i:02}", common, {"Depth": "0"})
        assert reply.status == 207 and f"<D:getcontentlength>{i}<".encode() in reply.body
    # f00: its listing row; f01: the folder listed; then nothing
    assert swift_calls.counts() == {"get_container": 2}
    assert gw.request("PROPFIND", box + "d/missing", headers={"Depth": "0"}).status == 404


def test_a_get_of_a_cached_entry_reads_what_swift_holds_now(gw, box, alice):
    """The GET takes size and ETag from the listing cache; an object replaced or
    deleted outside the gateway since is still answered correctly: whole in its
    current version, or 404."""
    assert gw.request("PUT", box + "f.bin", DATA).status == 201
    assert gw.request("GET", box + "f.bin").body == DATA  # cached: no lookup
    alice.put_object(container_of(box), "f.bin", b"replaced outside, another size")
    reply = gw.request("GET", box + "f.bin")
    assert reply.status == 200 and reply.body == b"replaced outside, another size"
    assert reply.header("Content-Length") == str(len(reply.body))
    alice.delete_object(container_of(box), "f.bin")
    assert gw.request("GET", box + "f.bin").status == 404


def test_a_put_stating_a_condition_looks_the_target_up_despite_the_listing(gw, box, alice):
    """The folder's cached listing lacks a name made outside the gateway since: a PUT
    with ``If-None-Match: *`` still sees it (412); a plain PUT replaces it whole."""
    assert gw.request("MKCOL", box + "d").status == 201
    assert gw.request("PUT", box + "d/one.bin", DATA).status == 201
    assert gw.request("PROPFIND", box + "d", headers={"Depth": "1"}).status == 207
    alice.put_object(container_of(box), "d/outside.bin", b"made outside")
    taken = gw.request("PUT", box + "d/outside.bin", DATA, headers={"If-None-Match": "*"})
    assert taken.status == 412
    assert gw.request("PUT", box + "d/outside.bin", DATA).status in (201, 204)
    fresh = {"Cache-Control": "no-cache"}
    assert gw.request("GET", box + "d/outside.bin", headers=fresh).body == DATA
