"""Windows Explorer and macOS Finder request sequences, replayed on the memory share."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from tests.helpers.client_sequences import LOCKINFO, WIN32_PATCH, finder_copy, windows_copy
from tests.helpers.davxml import propstats

DATA = bytes(range(256)) * 400  # 102400 bytes
MODIFIED = "Thu, 28 Feb 2008 19:15:10 GMT"
WIN32 = "{urn:schemas-microsoft-com:}"


def last_modified(gateway, path: str) -> float:
    header = gateway.request("HEAD", path).header("Last-Modified")
    assert header, path
    return parsedate_to_datetime(header).timestamp()


def test_windows_copy_ends_with_the_content_and_the_explorer_mtime(gateway):
    seen = windows_copy(gateway, "/memory/", "report.docx", DATA, MODIFIED)

    assert seen == {
        "propfind": 404, "create": 201, "lock": 200, "proppatch": 207, "head": 200,
        "put": 204, "proppatch2": 207, "unlock": 204,
    }  # fmt: skip
    assert gateway.get("/memory/report.docx").body == DATA
    assert (
        last_modified(gateway, "/memory/report.docx") == parsedate_to_datetime(MODIFIED).timestamp()
    )


def test_windows_proppatch_answers_200_for_every_win32_property(gateway):
    windows_copy(gateway, "/memory/", "a.txt", b"x", MODIFIED)
    reply = gateway.request("PROPFIND", "/memory/a.txt", headers={"Depth": "0"})
    props = next(iter(propstats(reply.body).values()))
    assert props[WIN32 + "Win32FileAttributes"] == "00000020"
    assert props[WIN32 + "Win32CreationTime"] == MODIFIED
    assert props["{DAV:}getlastmodified"] == MODIFIED


def test_windows_proppatch_without_the_lock_token_is_refused(gateway):
    windows_copy(gateway, "/memory/", "b.txt", b"x", MODIFIED)
    lock = gateway.request("LOCK", "/memory/b.txt", LOCKINFO, headers={"Depth": "0"})
    assert lock.status == 200
    reply = gateway.request("PROPPATCH", "/memory/b.txt", WIN32_PATCH, user=("bob", "bob-pw"))
    assert reply.status == 423


def test_finder_copy_stores_the_data_and_its_side_files_by_default(gateway):
    gateway.request("MKCOL", "/memory/mac/")
    before = time.time()

    seen = finder_copy(gateway, "/memory/mac/", "photo.jpg", DATA)

    assert seen == {
        "propfind": 404, "propfind_twin": 404, "create": 201, "lock": 200, "put": 204,
        "put_twin": 201, "unlock": 204, "ds_store": 201, "listing": 207,
    }  # fmt: skip
    assert gateway.get("/memory/mac/photo.jpg").body == DATA
    assert before - 1 <= last_modified(gateway, "/memory/mac/photo.jpg") <= time.time() + 1
    assert gateway.get("/memory/mac/._photo.jpg").status == 200
    assert gateway.get("/memory/mac/.DS_Store").status == 200


def test_finder_side_files_are_refused_when_configured(start_gateway, config):
    gw = start_gateway(config(clients={"apple_files": "refuse"}))
    gw.request("MKCOL", "/memory/mac/")

    seen = finder_copy(gw, "/memory/mac/", "photo.jpg", DATA)

    assert seen["put"] == 204 and seen["unlock"] == 204
    assert seen["put_twin"] == 403 and seen["ds_store"] == 403
    assert gw.get("/memory/mac/photo.jpg").body == DATA
    tree = gw.factories["/memory"].tree
    assert sorted(tree.find("/mac").children) == ["photo.jpg"]


def test_refused_side_files_cover_mkcol_lock_copy_and_move(start_gateway, config):
    gw = start_gateway(config(share={"apple_files": "refuse"}))
    gw.put("/memory/f.txt", b"x")
    assert gw.request("MKCOL", "/memory/._d/").status == 403
    assert gw.request("LOCK", "/memory/._l", LOCKINFO, headers={"Depth": "0"}).status == 403
    assert gw.request("COPY", "/memory/f.txt", headers={"Destination": "/memory/._c"}).status == 403
    move = gw.request("MOVE", "/memory/f.txt", headers={"Destination": "/memory/.DS_Store"})
    assert move.status == 403
    assert gw.get("/memory/f.txt").body == b"x"
    assert gw.put("/memory/._ok.txt", b"x").status == 403
    assert gw.put("/memory/_ok.txt", b"x").status == 201
