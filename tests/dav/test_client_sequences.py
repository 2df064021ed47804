"""Windows Explorer and macOS Finder on the memory share beyond the shared sync suite
(tests/contract/dav_sync.py): another user's PROPPATCH on a lock, side files refused."""

from __future__ import annotations

from tests.helpers.client_sequences import LOCKINFO, WIN32_PATCH, finder_copy, windows_copy

DATA = bytes(range(256)) * 400  # 102400 bytes
MODIFIED = "Thu, 28 Feb 2008 19:15:10 GMT"


def test_windows_proppatch_by_another_user_on_a_locked_file_is_423(gateway):
    windows_copy(gateway, "/memory/", "b.txt", b"x", MODIFIED)
    lock = gateway.request("LOCK", "/memory/b.txt", LOCKINFO, headers={"Depth": "0"})
    assert lock.status == 200
    reply = gateway.request("PROPPATCH", "/memory/b.txt", WIN32_PATCH, user=("bob", "bob-pw"))
    assert reply.status == 423


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
