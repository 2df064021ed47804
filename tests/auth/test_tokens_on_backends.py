"""Tokens on the real backends: one ``davprovider serve`` over the local iRODS zone
(``/irods``) and a real OpenStack Swift (``/swift``), chain ``bearer, token, basic``.

Token identities have no password: the iRODS share acts for them through its rodsadmin
``proxy_user`` (so a file written with alice's token is alice's, as python-irodsclient
shows), the Swift share with alice's entry in ``options.profiles``. alice cannot ask for
a token on bob's file; a WLCG token from the demo issuer acts as its user, read-only
when its scope says so."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from swiftclient.client import Connection

from localgrid.irods import LocalZone
from localgrid.swift import LocalSwift
from localgrid.token import ensure_issuer, issue, token_sections
from tests.helpers.irods_gateway import (
    HOME,
    GatewayProcess,
    gateway_config,
    read_object,
    seed,
    start_gateway,
)
from tests.helpers.swift_helpers import ALICE_PROFILE, local_swift, swift_share
from tests.helpers.tokens import ask, bearer, key_file, token


@pytest.fixture(scope="module")
def swift_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    with local_swift(tmp_path_factory, "token-swift") as store:
        yield store


@pytest.fixture(scope="module")
def issuer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("token-issuer")
    ensure_issuer(folder)
    return folder


def backends_config(zone: LocalZone, swift: LocalSwift, issuer: Path, key: str) -> dict[str, Any]:
    config = gateway_config(zone.port)
    config["auth"] = {"chain": ["bearer", "token", "basic"]}
    config.update(token_sections(ensure_issuer(issuer)))
    config["bearer"] = {"keys": [key]}
    config["shares"][0]["options"].update(proxy_user="rods", proxy_password=zone.admin_password)
    config["shares"].append(swift_share(swift, profiles=ALICE_PROFILE))
    return config


@pytest.fixture(scope="module")
def gateway(
    irods_zone: LocalZone,
    swift_store: LocalSwift,
    issuer_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayProcess]:
    seed(irods_zone)
    workdir = tmp_path_factory.mktemp("token-gateway")
    config = backends_config(irods_zone, swift_store, issuer_dir, key_file(workdir))
    running = start_gateway(config, workdir)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def folder(gateway: GatewayProcess, request: pytest.FixtureRequest) -> str:
    """A fresh folder of alice's on the share named by the test's ``share`` parameter."""
    name = f"tok-{uuid.uuid4().hex[:8]}"
    path = f"/irods/alice/{name}" if request.param == "irods" else f"/swift/{name}"
    assert gateway.client.request("MKCOL", path).status == 201
    assert gateway.client.put(f"{path}/data.txt", b"alice's data").status == 201
    return path


both = pytest.mark.parametrize("folder", ["irods", "swift"], indirect=True)


@both
def test_bearer_and_authz_read_on_both_shares(gateway, folder):
    gw = gateway.client
    value = token(gw, folder, "activity:DOWNLOAD,LIST")
    assert gw.get(f"{folder}/data.txt", headers=bearer(value), user=None).body == b"alice's data"
    assert gw.get(f"{folder}/data.txt?authz={value}", user=None).body == b"alice's data"
    props = {**bearer(value), "Depth": "1"}
    assert gw.request("PROPFIND", folder + "/", headers=props, user=None).status == 207
    assert gw.put(f"{folder}/no.txt", b"x", headers=bearer(value), user=None).status == 403
    assert value not in gateway.log()


@both
def test_upload_token_writes_as_alice(gateway, folder, irods_zone, swift_store):
    gw = gateway.client
    value = token(gw, folder, "activity:UPLOAD")
    reply = gw.put(f"{folder}/dropped.txt?authz={value}", b"from a token", user=None)
    assert reply.status == 201, gateway.log_tail()
    assert gw.get(f"{folder}/dropped.txt").body == b"from a token"  # alice sees it
    if folder.startswith("/irods"):
        path = HOME + folder[len("/irods") :] + "/dropped.txt"
        with irods_zone.session() as rods:
            assert rods.data_objects.get(path).owner_name == "alice"
            assert read_object(rods, path) == b"from a token"
    else:
        conn = Connection(authurl=swift_store.auth_url, user="alice:alice", key="alice")
        try:
            _, body = conn.get_object(folder.split("/")[2], "dropped.txt")
        finally:
            conn.close()
        assert body == b"from a token"  # in alice's own account


@both
def test_refused_elsewhere_later_and_from_afar(gateway, folder):
    gw = gateway.client
    value = token(gw, folder, "activity:DOWNLOAD", "ip:192.0.2.0/24")
    assert gw.get(f"{folder}/data.txt", headers=bearer(value), user=None).status == 403
    near = token(gw, f"{folder}/data.txt", "activity:DOWNLOAD")
    other = "/irods/alice/notes.txt" if folder.startswith("/irods") else "/swift"
    assert gw.get(other, headers=bearer(near), user=None).status == 403


def test_alice_cannot_ask_for_bobs_file(gateway):
    gw = gateway.client
    reply = ask(gw, "/irods/bob/secret.txt", "activity:DOWNLOAD")
    assert reply.status in (403, 404), reply.body
    assert b"macaroon" not in reply.body
    assert ask(gw, "/irods/bob/planted.txt", "activity:UPLOAD").status in (403, 404)
    bob = ask(gw, "/irods/bob/secret.txt", "activity:DOWNLOAD", user=("bob", "bob"))
    assert bob.status == 200  # bob may share his own file


def test_a_token_never_writes_where_its_user_cannot(gateway, irods_zone):
    gw = gateway.client  # /irods/shared is readable, not writable, by alice
    value = token(gw, "/irods/shared", "activity:DOWNLOAD,UPLOAD")
    assert gw.get(f"/irods/shared/readme.txt?authz={value}", user=None).status == 200
    assert gw.put(f"/irods/shared/new.txt?authz={value}", b"x", user=None).status in (403, 409)
    with irods_zone.session() as rods:
        assert not rods.data_objects.exists(f"{HOME}/shared/new.txt")


def test_wlcg_token_acts_as_the_mapped_user_on_irods(gateway, issuer_dir, irods_zone):
    gw = gateway.client
    reader = issue(issuer_dir, "alice", "storage.read:/irods/alice")
    notes = gw.get("/irods/alice/notes.txt", headers=bearer(reader), user=None)
    assert notes.status == 200 and notes.body == b"alice's notes\n"
    refused = gw.put("/irods/alice/w.txt", b"w", headers=bearer(reader), user=None)
    assert refused.status == 403
    writer = issue(issuer_dir, "alice", "storage.modify:/irods/alice")
    assert gw.put("/irods/alice/w.txt", b"w", headers=bearer(writer), user=None).status == 201
    with irods_zone.session() as rods:
        assert rods.data_objects.get(f"{HOME}/alice/w.txt").owner_name == "alice"
    bobs = issue(issuer_dir, "alice", "storage.read:/irods/bob")
    assert gw.get("/irods/bob/secret.txt", headers=bearer(bobs), user=None).status in (403, 404)


def test_wlcg_token_on_swift(gateway, issuer_dir):
    gw = gateway.client
    container = f"wlcg-{uuid.uuid4().hex[:8]}"
    assert gw.request("MKCOL", f"/swift/{container}").status == 201
    writer = issue(issuer_dir, "alice", f"storage.create:/swift/{container}")
    assert (
        gw.put(f"/swift/{container}/w.txt", b"w", headers=bearer(writer), user=None).status == 201
    )
    assert (
        gw.put(f"/swift/{container}/w.txt", b"v", headers=bearer(writer), user=None).status == 403
    )
    reader = issue(issuer_dir, "alice", f"storage.read:/swift/{container}")
    assert gw.get(f"/swift/{container}/w.txt", headers=bearer(reader), user=None).body == b"w"
    nobody = issue(issuer_dir, "bob", f"storage.read:/swift/{container}")  # bob has no profile
    assert gw.get(f"/swift/{container}/w.txt", headers=bearer(nobody), user=None).status == 403


def test_no_token_is_made_that_the_share_cannot_honour(gateway):
    reply = ask(gateway.client, "/swift", "activity:LIST", user=("bob", "bob"))
    assert reply.status == 403  # bob logs in to Swift, but has no profile for password-less use
    assert b"without a password" in reply.body
