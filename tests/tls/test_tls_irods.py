"""Certificate and IP identities on an iRODS share (the local zone): the gateway acts
through a rodsadmin proxy session with client_user = the mapped user, so the zone's
ACLs apply as for a password login. DNs mapped by grid-mapfile and by the zone's own
DN registry (``iadmin aua``)."""

from __future__ import annotations

import logging

import pytest

from tests.helpers.tlsgw import HOME, NOTES, SECRET, curl, irods_tls_config


@pytest.fixture(scope="module")
def gw(seeded_zone, test_pki, module_gateways):
    return module_gateways(irods_tls_config(test_pki, seeded_zone))


@pytest.fixture(scope="module")
def registry_gw(seeded_zone, test_pki, module_gateways):
    return module_gateways(irods_tls_config(test_pki, seeded_zone, mapping="irods", gridmap=""))


def get(gw, pki, case, path, *args, interface=None):
    return curl(f"https://127.0.0.1:{gw.port}{path}", pki, case, *args, interface=interface)


def test_alice_certificate_reads_her_irods_home(gw, test_pki):
    result = get(gw, test_pki, "alice", "/irods/alice/notes.txt")
    assert (result.status, result.body) == (200, NOTES)


def test_alice_certificate_writes_as_alice(gw, test_pki, seeded_zone):
    put = get(gw, test_pki, "alice", "/irods/alice/by-cert.txt", "-X", "PUT", "--data-binary", "c")
    assert put.status == 201, put
    with seeded_zone.session() as rods:
        obj = rods.data_objects.get(f"{HOME}/alice/by-cert.txt")
        owners = {acl.user_name for acl in rods.acls.get(obj) if acl.access_name == "own"}
    assert owners == {"alice"}


@pytest.mark.parametrize("case", ["alice", "alice_proxy"])
def test_alice_by_certificate_cannot_read_bobs_home(gw, test_pki, case):
    result = get(gw, test_pki, case, "/irods/bob/secret.txt")
    assert result.status in (403, 404), result
    assert SECRET not in result.body
    listing = get(gw, test_pki, case, "/irods/bob/", "-X", "PROPFIND", "-H", "Depth: 1")
    assert b"secret.txt" not in listing.body


def test_alice_proxy_reads_her_files(gw, test_pki):
    assert get(gw, test_pki, "alice_proxy", "/irods/alice/notes.txt").body == NOTES


def test_bob_revoked_certificate_is_refused(gw, test_pki):
    result = get(gw, test_pki, "bob", "/irods/bob/secret.txt")
    assert result.status == 403 and b"certificate revoked" in result.body


def test_password_login_still_works_through_the_chain(gw, test_pki):
    result = get(gw, test_pki, None, "/irods/bob/secret.txt", "-u", "bob:bob")
    assert (result.status, result.body) == (200, SECRET)


def test_gateway_acting_for_alice_has_alices_rights(gw, test_pki):
    named = ("-H", "X-On-Behalf-Of: alice")
    mine = get(gw, test_pki, None, "/irods/alice/notes.txt", *named, interface="127.0.0.4")
    assert (mine.status, mine.body) == (200, NOTES)
    theirs = get(gw, test_pki, None, "/irods/bob/secret.txt", *named, interface="127.0.0.4")
    assert theirs.status in (403, 404)
    itself = get(gw, test_pki, None, "/irods/bob/secret.txt", interface="127.0.0.4")
    assert (itself.status, itself.body) == (200, SECRET)


def test_dn_registry_maps_alice(registry_gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    assert get(registry_gw, test_pki, "alice", "/irods/alice/notes.txt").body == NOTES
    assert "accepted as alice by x509" in caplog.text
    secret = get(registry_gw, test_pki, "alice", "/irods/bob/secret.txt")
    assert secret.status in (403, 404)


def test_dn_registry_does_not_match_a_slash_inside_a_cn(registry_gw, test_pki, caplog):
    caplog.set_level(logging.INFO, logger="auth.controller")
    # CN "Eve/O=Admin" prints as /O=Test/CN=Eve/O=Admin, the DN registered for rods
    result = get(registry_gw, test_pki, "eve_slash", "/irods/bob/secret.txt")
    assert result.status == 403
    assert b"is not mapped to a user" in result.body
    assert "accepted as rods" not in caplog.text


def test_dn_registry_unregistered_dn_is_403(registry_gw, test_pki):
    result = get(registry_gw, test_pki, "carol", "/irods/alice/notes.txt")
    assert result.status == 403
    assert b"/O=Test/CN=Carol is not mapped to a user" in result.body
