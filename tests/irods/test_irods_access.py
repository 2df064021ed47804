"""Who may see what: basic auth handed to iRODS, and iRODS ACLs enforced through HTTP."""

from __future__ import annotations

import pytest

from tests.helpers.davxml import NAMED, propstats
from tests.helpers.irods_gateway import BOB, NOTES, README, SECRET

WRONG = ("alice", "not-alice")


def test_alice_cannot_read_bobs_file(gw):
    reply = gw.get("/irods/bob/secret.txt")
    assert reply.status == 403
    assert SECRET not in reply.body


def test_alice_cannot_list_bobs_home(gw):
    reply = gw.request("PROPFIND", "/irods/bob/", NAMED, headers={"Depth": "1"})
    assert reply.status in (403, 404)
    assert b"secret.txt" not in reply.body


def test_alice_cannot_write_into_bobs_home(gw, rods):
    assert gw.put("/irods/bob/from-alice.txt", b"x").status in (403, 404, 409)
    assert not rods.data_objects.exists("/tempZone/home/bob/from-alice.txt")


def test_bob_reads_his_own_file(gw):
    reply = gw.get("/irods/bob/secret.txt", user=BOB)
    assert (reply.status, reply.body) == (200, SECRET)


def test_alice_reads_her_own_file(gw):
    reply = gw.get("/irods/alice/notes.txt")
    assert (reply.status, reply.body) == (200, NOTES)


def test_alice_reads_the_shared_collection(gw):
    reply = gw.get("/irods/shared/readme.txt")
    assert (reply.status, reply.body) == (200, README)
    listing = gw.request("PROPFIND", "/irods/shared/", NAMED, headers={"Depth": "1"})
    assert listing.status == 207
    assert "/irods/shared/readme.txt" in propstats(listing.body)


def test_listing_of_the_share_root_shows_only_what_alice_may_see(gw):
    reply = gw.request("PROPFIND", "/irods/", NAMED, headers={"Depth": "1"})
    assert reply.status == 207
    names = set(propstats(reply.body))
    assert {"/irods/alice/", "/irods/shared/"} <= names


@pytest.mark.parametrize("user", [WRONG, ("nobody", "x"), ("alice", "")])
def test_bad_credentials_are_401_with_a_basic_challenge(gw, user):
    reply = gw.get("/irods/alice/notes.txt", user=user)
    assert reply.status == 401
    assert (reply.header("WWW-Authenticate") or "").startswith("Basic")
    assert NOTES not in reply.body


def test_no_credentials_is_401_with_a_basic_challenge(gw):
    reply = gw.get("/irods/alice/notes.txt", user=None)
    assert reply.status == 401
    assert (reply.header("WWW-Authenticate") or "").startswith("Basic")


def test_wrong_password_does_not_reuse_a_pooled_session(gw):
    assert gw.get("/irods/alice/notes.txt").status == 200  # alice's session is pooled now
    assert gw.get("/irods/alice/notes.txt", user=WRONG).status == 401
