"""The WebDAV verbs as a test suite every share must pass, whatever its backend.

Subclass ``DavVerbSuite`` (one line) in the backend's test folder; its conftest provides
``dav_target``: a ``DavTarget`` whose ``base`` is a fresh, empty collection on a running
gateway, with a way to seed content and to read it back behind the gateway (see
tests/dav, tests/irods and tests/swift). Checks that only one backend can make (iRODS
object ids, Swift segments, memory's tree) stay in that backend's folder.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest

from tests.helpers.davxml import GET_DEAD, LOCKINFO, NAMED, PROPPATCH, hrefs, propstats
from tests.helpers.gateway import Gateway
from tests.helpers.raw_http import put_head, raw_request, read_status

MiB = 1 << 20
DATA = bytes(range(256)) * 1000  # 256000 bytes, every offset distinct modulo 256
LENGTH, MODIFIED, ETAG = "{DAV:}getcontentlength", "{DAV:}getlastmodified", "{DAV:}getetag"
COLOUR = "{urn:example}colour"


@dataclass
class DavTarget:
    """A share under test: ``client`` talks to the gateway as a user who may write in
    ``base`` (a fresh, empty collection: share path ending in ``/``); ``seed(name, data)``
    stores a file at ``base + name`` and ``stored(name)`` reads it (``None`` if missing),
    both straight through the backend's own client, never through the gateway."""

    client: Gateway
    base: str
    seed: Callable[[str, bytes], None]
    stored: Callable[[str], bytes | None]

    @property
    def auth(self) -> str:
        """The client's ``Authorization`` value, for requests written by hand."""
        return self.client.auth_header(self.client.user)["Authorization"]


def make_tree(gw: Gateway, base: str) -> None:
    """``base``/ with a.txt and sub/b.txt."""
    assert gw.request("MKCOL", base).status == 201
    assert gw.request("MKCOL", base + "/sub").status == 201
    assert gw.put(base + "/a.txt", b"a").status == 201
    assert gw.put(base + "/sub/b.txt", b"b").status == 201


def dead_props(gw: Gateway, path: str) -> dict[str, str]:
    reply = gw.request("PROPFIND", path, GET_DEAD, headers={"Depth": "0"})
    assert reply.status == 207
    return next(iter(propstats(reply.body).values()))


def exists(gw: Gateway, path: str) -> bool:
    status = gw.request("PROPFIND", path, NAMED, headers={"Depth": "0"}).status
    assert status in (207, 404), status
    return status == 207


def overwrite_headers(destination: str, overwrite: str | None) -> dict[str, str]:
    headers = {"Destination": destination}
    if overwrite is not None:
        headers["Overwrite"] = overwrite
    return headers


class DavVerbSuite:
    """Every verb, as a client sees it; ``dav_target`` comes from the backend's conftest."""

    #: False for a backend that stores no content type (iRODS): the type is then the one
    #: guessed from the name.
    keeps_content_type = True

    # --- OPTIONS, GET, HEAD ----------------------------------------------------------------

    def test_options_advertises_class_1_and_2_and_the_dav_methods(self, dav_target):
        reply = dav_target.client.request("OPTIONS", dav_target.base)
        assert reply.status == 200
        classes = {c.strip() for c in (reply.header("DAV") or "").split(",")}
        assert {"1", "2"} <= classes
        allowed = set((reply.header("Allow") or "").replace(" ", "").split(","))
        assert {"PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "COPY", "MOVE"} <= allowed

    def test_get_returns_content_stored_behind_the_gateway(self, dav_target):
        dav_target.seed("seeded.bin", DATA)
        reply = dav_target.client.get(dav_target.base + "seeded.bin")
        assert (reply.status, reply.body) == (200, DATA)
        assert reply.header("Content-Length") == str(len(DATA))

    def test_head_gives_length_etag_and_last_modified_without_body(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "h.bin", DATA)
        reply = gw.request("HEAD", base + "h.bin")
        assert (reply.status, reply.header("Content-Length"), reply.body) == (200, "256000", b"")
        assert reply.header("ETag") and reply.header("Last-Modified")

    def test_get_missing_is_404(self, dav_target):
        assert dav_target.client.get(dav_target.base + "none.bin").status == 404

    def test_get_single_range_is_206_with_that_slice(self, dav_target):
        dav_target.seed("r.bin", DATA)
        reply = dav_target.client.get(
            dav_target.base + "r.bin", headers={"Range": "bytes=1000-1999"}
        )
        assert (reply.status, reply.body) == (206, DATA[1000:2000])
        assert reply.header("Content-Range") == f"bytes 1000-1999/{len(DATA)}"

    def test_get_suffix_range_returns_the_last_bytes(self, dav_target):
        dav_target.seed("r.bin", DATA)
        reply = dav_target.client.get(dav_target.base + "r.bin", headers={"Range": "bytes=-500"})
        assert (reply.status, reply.body) == (206, DATA[-500:])
        assert reply.header("Content-Range") == f"bytes {len(DATA) - 500}-255999/{len(DATA)}"

    def test_get_unsatisfiable_range_is_416(self, dav_target):
        dav_target.seed("r.bin", DATA)
        reply = dav_target.client.get(
            dav_target.base + "r.bin", headers={"Range": f"bytes={len(DATA) + 10}-"}
        )
        assert reply.status == 416

    def test_get_of_a_collection_is_an_html_listing_of_its_members(self, dav_target):
        dav_target.seed("listed.txt", b"x")
        reply = dav_target.client.get(dav_target.base)
        assert reply.status == 200
        assert (reply.header("Content-Type") or "").startswith("text/html")
        assert b"listed.txt" in reply.body

    # --- PUT -------------------------------------------------------------------------------

    def test_put_new_file_is_201_and_stored_with_etag_and_last_modified(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.put(base + "new.bin", DATA).status == 201
        assert dav_target.stored("new.bin") == DATA
        reply = gw.get(base + "new.bin")
        assert (reply.status, reply.body) == (200, DATA)
        assert reply.header("ETag") and reply.header("Last-Modified")

    def test_put_overwrite_is_204_and_replaces_content(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("o.bin", DATA)
        assert gw.put(base + "o.bin", b"shorter").status == 204
        assert dav_target.stored("o.bin") == b"shorter"
        assert gw.get(base + "o.bin").body == b"shorter"

    def test_put_empty_body_creates_an_empty_file(self, dav_target):
        assert dav_target.client.put(dav_target.base + "empty", b"").status == 201
        assert dav_target.stored("empty") == b""

    def test_put_into_missing_parent_is_409(self, dav_target):
        assert dav_target.client.put(dav_target.base + "no/such/x.bin", b"x").status == 409

    def test_put_onto_a_collection_is_405(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("MKCOL", base + "dir").status == 201
        assert gw.put(base + "dir", b"x").status == 405

    def test_chunked_put_stores_every_chunk(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        pieces = [bytes([i]) * (70_000 + i) for i in range(12)]  # not block-aligned
        conn = http.client.HTTPConnection(gw.host, gw.port, timeout=20)
        try:
            headers = {"Authorization": dav_target.auth, "Transfer-Encoding": "chunked"}
            conn.request(
                "PUT", base + "chunked.bin", body=iter(pieces), encode_chunked=True, headers=headers
            )
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 201
        finally:
            conn.close()
        assert dav_target.stored("chunked.bin") == b"".join(pieces)

    @pytest.mark.parametrize(
        ("length", "sent"),
        [(10 * MiB, 4 * MiB), (512 * 1024, 384 * 1024)],
        ids=["large", "small"],
    )
    def test_put_cut_short_leaves_old_content(self, dav_target, length, sent):
        gw, target = dav_target.client, dav_target.base + "big.bin"
        dav_target.seed("big.bin", b"old content")
        sock = raw_request(
            gw, put_head(target, f"Authorization: {dav_target.auth}", f"Content-Length: {length}")
        )
        sock.sendall(b"x" * sent)
        sock.shutdown(socket.SHUT_WR)  # the client stops sending: a clean FIN
        status, _ = read_status(sock)
        sock.close()
        assert status.startswith("HTTP/1.1 400"), status
        assert dav_target.stored("big.bin") == b"old content"
        assert gw.get(target).body == b"old content"

    def test_put_cut_short_on_a_new_name_leaves_nothing(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "never.bin"
        sock = raw_request(
            gw, put_head(target, f"Authorization: {dav_target.auth}", f"Content-Length: {2 * MiB}")
        )
        sock.sendall(b"y" * MiB)
        sock.shutdown(socket.SHUT_WR)
        status, _ = read_status(sock)
        sock.close()
        assert status.startswith("HTTP/1.1 400"), status
        assert dav_target.stored("never.bin") is None
        assert gw.get(target).status == 404

    def test_put_with_a_stale_if_match_is_412_and_keeps_content(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "e.txt"
        gw.put(target, b"1")
        stale = gw.get(target).header("ETag")
        gw.put(target, b"2")
        assert gw.put(target, b"3", headers={"If-Match": stale}).status == 412
        assert gw.get(target).body == b"2"

    # --- DELETE, MKCOL ---------------------------------------------------------------------

    def test_delete_file_removes_it(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("d.bin", b"x")
        assert gw.request("DELETE", base + "d.bin").status == 204
        assert dav_target.stored("d.bin") is None
        assert gw.get(base + "d.bin").status == 404

    def test_delete_collection_removes_the_whole_tree(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        make_tree(gw, base + "tree")
        assert gw.request("DELETE", base + "tree/").status == 204
        assert dav_target.stored("tree/sub/b.txt") is None
        assert not exists(gw, base + "tree/")
        assert gw.request("DELETE", base + "tree/").status == 404

    def test_delete_missing_is_404(self, dav_target):
        assert dav_target.client.request("DELETE", dav_target.base + "none").status == 404

    def test_mkcol_creates_a_collection_with_201(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("MKCOL", base + "made").status == 201
        reply = gw.request("PROPFIND", base + "made/", NAMED, headers={"Depth": "0"})
        assert hrefs(reply.body)[base + "made/"]["{DAV:}resourcetype"] == "{DAV:}collection"

    def test_mkcol_on_an_existing_collection_is_405(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("MKCOL", base + "twice").status == 201
        assert gw.request("MKCOL", base + "twice").status == 405

    def test_mkcol_on_an_existing_file_is_405(self, dav_target):
        dav_target.seed("file", b"x")
        assert dav_target.client.request("MKCOL", dav_target.base + "file").status == 405

    def test_mkcol_with_a_missing_parent_is_409_and_creates_nothing(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("MKCOL", base + "no/such").status == 409
        assert not exists(gw, base + "no/")

    # --- COPY ------------------------------------------------------------------------------

    def test_copy_file_to_a_new_name_is_201_and_keeps_the_source(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", DATA)
        headers = {"Destination": base + "dst.bin"}
        assert gw.request("COPY", base + "src.bin", headers=headers).status == 201
        assert dav_target.stored("dst.bin") == DATA
        assert dav_target.stored("src.bin") == DATA

    def test_copy_to_an_absolute_destination_url_is_201(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", b"abs")
        headers = {"Destination": f"http://{gw.host}:{gw.port}{base}dst.bin"}
        assert gw.request("COPY", base + "src.bin", headers=headers).status == 201
        assert dav_target.stored("dst.bin") == b"abs"

    @pytest.mark.parametrize("overwrite", [None, "T"], ids=["default", "T"])
    def test_copy_onto_an_existing_file_replaces_it_with_204(self, dav_target, overwrite):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", b"new")
        dav_target.seed("dst.bin", b"old")
        headers = overwrite_headers(base + "dst.bin", overwrite)
        assert gw.request("COPY", base + "src.bin", headers=headers).status == 204
        assert dav_target.stored("dst.bin") == b"new"
        assert dav_target.stored("src.bin") == b"new"

    def test_copy_onto_an_existing_file_with_overwrite_f_is_412_and_keeps_it(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", b"new")
        dav_target.seed("dst.bin", b"old")
        headers = overwrite_headers(base + "dst.bin", "F")
        assert gw.request("COPY", base + "src.bin", headers=headers).status == 412
        assert dav_target.stored("dst.bin") == b"old"

    def test_copy_collection_depth_infinity_copies_every_member(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        make_tree(gw, base + "tree")
        headers = {"Destination": base + "copy", "Depth": "infinity"}
        assert gw.request("COPY", base + "tree", headers=headers).status == 201
        assert dav_target.stored("copy/a.txt") == b"a"
        assert dav_target.stored("copy/sub/b.txt") == b"b"
        assert dav_target.stored("tree/sub/b.txt") == b"b"

    def test_copy_collection_depth_0_copies_no_members(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        make_tree(gw, base + "tree")
        headers = {"Destination": base + "shallow", "Depth": "0"}
        assert gw.request("COPY", base + "tree", headers=headers).status == 201
        reply = gw.request("PROPFIND", base + "shallow/", NAMED, headers={"Depth": "1"})
        assert reply.status == 207
        assert set(hrefs(reply.body)) == {base + "shallow/"}

    def test_copy_into_a_missing_parent_is_409(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", b"x")
        headers = {"Destination": base + "no/such/dst.bin"}
        assert gw.request("COPY", base + "src.bin", headers=headers).status == 409

    # --- MOVE ------------------------------------------------------------------------------

    def test_move_file_to_a_new_name_is_201_and_removes_the_source(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("before.bin", DATA)
        headers = {"Destination": base + "after"}
        assert gw.request("MOVE", base + "before.bin", headers=headers).status == 201
        assert dav_target.stored("after") == DATA
        assert dav_target.stored("before.bin") is None
        assert gw.get(base + "after").body == DATA

    def test_move_collection_moves_every_member(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        make_tree(gw, base + "tree")
        headers = {"Destination": base + "moved"}
        assert gw.request("MOVE", base + "tree/", headers=headers).status == 201
        assert dav_target.stored("moved/a.txt") == b"a"
        assert dav_target.stored("moved/sub/b.txt") == b"b"
        assert dav_target.stored("tree/sub/b.txt") is None
        assert not exists(gw, base + "tree/")

    @pytest.mark.parametrize("overwrite", [None, "T"], ids=["default", "T"])
    def test_move_onto_an_existing_file_replaces_it_with_204(self, dav_target, overwrite):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", b"new")
        dav_target.seed("dst.bin", b"old")
        headers = overwrite_headers(base + "dst.bin", overwrite)
        assert gw.request("MOVE", base + "src.bin", headers=headers).status == 204
        assert dav_target.stored("dst.bin") == b"new"
        assert dav_target.stored("src.bin") is None

    def test_move_onto_an_existing_file_with_overwrite_f_is_412_and_moves_nothing(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("src.bin", b"new")
        dav_target.seed("dst.bin", b"old")
        headers = overwrite_headers(base + "dst.bin", "F")
        assert gw.request("MOVE", base + "src.bin", headers=headers).status == 412
        assert dav_target.stored("dst.bin") == b"old"
        assert dav_target.stored("src.bin") == b"new"

    # --- PROPFIND --------------------------------------------------------------------------

    def test_propfind_depth_0_describes_only_the_resource(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("one.bin", DATA)
        reply = gw.request("PROPFIND", base + "one.bin", NAMED, headers={"Depth": "0"})
        assert reply.status == 207
        found = hrefs(reply.body)
        assert list(found) == [base + "one.bin"]
        props = found[base + "one.bin"]
        assert props[LENGTH] == str(len(DATA))
        assert props[MODIFIED] and props[ETAG]

    def test_propfind_depth_1_lists_members_with_their_live_properties(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "a.txt", b"a")
        gw.put(base + "b.bin", DATA)
        gw.request("MKCOL", base + "sub")
        reply = gw.request("PROPFIND", base, NAMED, headers={"Depth": "1"})
        assert reply.status == 207
        found = hrefs(reply.body)
        assert set(found) == {base, base + "a.txt", base + "b.bin", base + "sub/"}
        assert found[base + "a.txt"][LENGTH] == "1"
        assert found[base + "b.bin"][LENGTH] == str(len(DATA))
        assert found[base]["{DAV:}resourcetype"] == "{DAV:}collection"
        assert found[base + "sub/"]["{DAV:}resourcetype"] == "{DAV:}collection"
        for name in ("a.txt", "b.bin"):
            for prop in (MODIFIED, ETAG, "{DAV:}creationdate", "{DAV:}getcontenttype"):
                assert found[base + name][prop], (name, prop)
        assert found[base + "a.txt"][ETAG] != found[base + "b.bin"][ETAG]

    def test_propfind_reports_the_content_type_given_at_put_or_guessed_from_the_name(
        self, dav_target
    ):
        gw, base = dav_target.client, dav_target.base
        gw.put(base + "p.txt", b"12345", headers={"Content-Type": "text/x-test"})
        reply = gw.request("PROPFIND", base, NAMED, headers={"Depth": "1"})
        expected = "text/x-test" if self.keeps_content_type else "text/plain"
        found = hrefs(reply.body)[base + "p.txt"]["{DAV:}getcontenttype"]
        assert found.split(";")[0] == expected, found

    def test_propfind_allprop_without_body_works_at_depth_1(self, dav_target):
        dav_target.seed("a.txt", b"abc")
        reply = dav_target.client.request("PROPFIND", dav_target.base, headers={"Depth": "1"})
        assert reply.status == 207
        assert hrefs(reply.body)[dav_target.base + "a.txt"][LENGTH] == "3"

    def test_propfind_depth_infinity_is_refused_with_403_by_default(self, dav_target):
        reply = dav_target.client.request(
            "PROPFIND", dav_target.base, NAMED, headers={"Depth": "infinity"}
        )
        assert reply.status == 403
        assert b"propfind-finite-depth" in reply.body

    def test_propfind_without_depth_header_is_treated_as_infinity(self, dav_target):
        reply = dav_target.client.request("PROPFIND", dav_target.base, NAMED)
        assert reply.status == 403
        assert b"propfind-finite-depth" in reply.body

    def test_propfind_missing_is_404(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        assert gw.request("PROPFIND", base + "none", headers={"Depth": "0"}).status == 404

    def test_propfind_propname_lists_live_and_dead_property_names(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "d.txt"
        dav_target.seed("d.txt", b"x")
        assert gw.request("PROPPATCH", target, PROPPATCH).status == 207
        body = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>'
        reply = gw.request("PROPFIND", target, body, headers={"Depth": "0"})
        assert reply.status == 207
        root = ElementTree.fromstring(reply.body)
        names = {el.tag for el in root.iter() if el.tag.startswith("{urn:example}")}
        assert names == {COLOUR, "{urn:example}doc"}
        assert root.find(".//{DAV:}getcontentlength") is not None
        assert not (root.find(".//" + COLOUR).text or "").strip()

    # --- PROPPATCH (dead properties) -------------------------------------------------------

    def test_proppatch_sets_dead_properties_read_back_by_propfind(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "p.txt"
        dav_target.seed("p.txt", b"x")
        reply = gw.request("PROPPATCH", target, PROPPATCH)
        assert reply.status == 207
        statuses = {s.text for s in ElementTree.fromstring(reply.body).iter("{DAV:}status")}
        assert statuses == {"HTTP/1.1 200 OK"}
        props = dead_props(gw, target)
        assert props[COLOUR] == "blue"
        assert props["{urn:example}doc"] == "{urn:example}a"

    def test_proppatch_value_with_xml_special_characters_round_trips(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "p.txt"
        dav_target.seed("p.txt", b"x")
        patch = PROPPATCH.replace(b">blue<", b">blue &amp; &lt;green&gt;<")
        assert gw.request("PROPPATCH", target, patch).status == 207
        assert dead_props(gw, target)[COLOUR] == "blue & <green>"

    def test_proppatch_remove_deletes_the_property(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "d.txt"
        dav_target.seed("d.txt", b"x")
        gw.request("PROPPATCH", target, PROPPATCH)
        remove = PROPPATCH.replace(b"<D:set>", b"<D:remove>").replace(b"</D:set>", b"</D:remove>")
        remove = remove.replace(b">blue<", b"><").replace(b'<Z:a x="1">t</Z:a>', b"")
        assert gw.request("PROPPATCH", target, remove).status == 207
        assert COLOUR not in dead_props(gw, target)

    def test_dead_properties_follow_copy(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("p.txt", b"x")
        gw.request("PROPPATCH", base + "p.txt", PROPPATCH)
        headers = {"Destination": base + "copied.txt"}
        assert gw.request("COPY", base + "p.txt", headers=headers).status == 201
        assert dead_props(gw, base + "copied.txt")[COLOUR] == "blue"
        assert dead_props(gw, base + "p.txt")[COLOUR] == "blue"

    def test_dead_properties_follow_move(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        dav_target.seed("p.txt", b"x")
        gw.request("PROPPATCH", base + "p.txt", PROPPATCH)
        headers = {"Destination": base + "moved.txt"}
        assert gw.request("MOVE", base + "p.txt", headers=headers).status == 201
        props = dead_props(gw, base + "moved.txt")
        assert props[COLOUR] == "blue"
        assert props["{urn:example}doc"] == "{urn:example}a"

    def test_dead_properties_follow_a_collection_moved_with_its_members(self, dav_target):
        gw, base = dav_target.client, dav_target.base
        make_tree(gw, base + "tree")
        gw.request("PROPPATCH", base + "tree/sub/b.txt", PROPPATCH)
        assert gw.request("MOVE", base + "tree/", headers={"Destination": base + "m"}).status == 201
        assert dead_props(gw, base + "m/sub/b.txt")[COLOUR] == "blue"

    def test_dead_properties_survive_an_overwriting_put(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "p.txt"
        dav_target.seed("p.txt", b"x")
        gw.request("PROPPATCH", target, PROPPATCH)
        assert gw.put(target, b"new content").status == 204
        assert dead_props(gw, target)[COLOUR] == "blue"

    # --- LOCK, UNLOCK ----------------------------------------------------------------------

    def test_lock_refuses_put_and_delete_without_the_token_until_unlock(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "l.txt"
        dav_target.seed("l.txt", b"1")
        lock = gw.request("LOCK", target, LOCKINFO, headers={"Depth": "0"})
        assert lock.status == 200
        token = lock.header("Lock-Token")
        assert token and token.startswith("<")
        assert gw.put(target, b"2").status == 423
        assert gw.request("DELETE", target).status == 423
        assert gw.put(target, b"3", headers={"If": f"({token})"}).status == 204
        assert dav_target.stored("l.txt") == b"3"
        assert gw.request("UNLOCK", target, headers={"Lock-Token": token}).status == 204
        assert gw.put(target, b"4").status == 204
        assert dav_target.stored("l.txt") == b"4"

    def test_lock_on_an_unmapped_url_creates_an_empty_file(self, dav_target):
        gw, target = dav_target.client, dav_target.base + "new.txt"
        reply = gw.request("LOCK", target, LOCKINFO, headers={"Depth": "0"})
        assert reply.status == 201
        assert dav_target.stored("new.txt") == b""
        token = reply.header("Lock-Token")
        assert gw.request("UNLOCK", target, headers={"Lock-Token": token}).status == 204
