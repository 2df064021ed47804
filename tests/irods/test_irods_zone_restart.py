"""The zone restarts under a running gateway (same port): pooled sessions must recover.

These tests restart the module's zone, so they live apart from the others.
"""

from __future__ import annotations

import re

from tests.helpers.irods_gateway import (
    AUTH_ALICE,
    chunk,
    read_object,
    wait_for_no_leftovers,
    wait_for_temporary,
    write_object,
)
from tests.helpers.raw_http import put_head, raw_request, read_response


def logins(zone, user: str) -> int:
    """How many times ``user`` logged in to the zone so far (from the zone's log)."""
    text = (zone.data_dir / "zone.log").read_text(errors="replace")
    return len(re.findall(rf"INFO localgrid\.irods\.auth: login {user} ", text))


def test_requests_after_a_zone_restart_succeed(gw, seeded_zone, workdir):
    assert gw.put(workdir + "before.txt", b"before").status == 201
    assert gw.get(workdir + "before.txt").body == b"before"
    seeded_zone.restart()
    reply = gw.get(workdir + "before.txt")
    assert (reply.status, reply.body) == (200, b"before")
    assert gw.request("PROPFIND", workdir, headers={"Depth": "1"}).status == 207
    assert gw.put(workdir + "after.txt", b"after").status == 201
    assert gw.get(workdir + "after.txt").body == b"after"


def test_repeated_requests_by_one_user_reuse_the_pooled_session(gw, seeded_zone, workdir):
    """Sessions are pooled per identity: ten requests by alice need at most one login."""
    gw.get("/irods/alice/notes.txt")
    before = logins(seeded_zone, "alice")
    for _ in range(10):
        assert gw.get("/irods/alice/notes.txt").status == 200
    assert logins(seeded_zone, "alice") - before <= 1


def test_upload_broken_by_a_zone_restart_keeps_old_content_and_leaves_no_temporary_object(
    gw, seeded_zone, workdir, rods, alice_prc, irods_path
):
    target = workdir + "victim.bin"
    write_object(alice_prc, irods_path(target), b"old")
    alice_prc.cleanup()
    sock = raw_request(
        gw, put_head(target, f"Authorization: {AUTH_ALICE}", "Transfer-Encoding: chunked")
    )
    try:
        sock.sendall(chunk(b"n" * 65536))
        wait_for_temporary(rods, irods_path(workdir))
        rods.cleanup()
        seeded_zone.restart()  # the upload's iRODS connection dies with the zone
        sock.sendall(chunk(b"m" * 65536) + b"0\r\n\r\n")
        status, body = read_response(sock)
    finally:
        sock.close()
    assert status.startswith("HTTP/1.1 502"), status
    assert read_object(rods, irods_path(target)) == b"old"
    assert gw.get(target).body == b"old"
    assert wait_for_no_leftovers(rods, irods_path(workdir), "victim.bin") == []
    assert b"m" * 100 not in body, "the error response echoes the request body"


def test_zone_down_is_502_with_a_short_reason_and_the_gateway_recovers(gw, seeded_zone):
    assert gw.get("/irods/alice/notes.txt").status == 200
    seeded_zone.stop()
    try:
        reply = gw.get("/irods/alice/notes.txt")
    finally:
        seeded_zone.start()
    assert reply.status == 502
    assert len(reply.body) < 2000
    assert gw.get("/irods/alice/notes.txt").status == 200
