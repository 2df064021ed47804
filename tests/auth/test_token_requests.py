"""dCache-style token requests and the gateway's own bearer tokens on a memory share
(cheroot on 127.0.0.1, real requests): minting, use as ``Bearer`` and ``?authz=``, every
limit (path, activity, expiry, networks), forged and rotated keys, bad requests, and
tokens kept out of logs, error pages and listing links."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from davprovider.settings import ConfigError, settings_from_mapping
from tests.helpers.gateway import Gateway, memory_config, running_gateway
from tests.helpers.tokens import ask, bearer, claims, key_file, token

CHAIN = {"chain": ["bearer", "basic"]}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("token-keys")
    return {"new": key_file(folder, "new.key"), "old": key_file(folder, "old.key")}


def config(keys: list[str], **overrides: Any) -> dict[str, Any]:
    made = memory_config(auth=CHAIN, bearer={"keys": keys, "max_validity": 3600})
    made.update(overrides)
    return made


@pytest.fixture(scope="module")
def gw(keys: dict[str, str]) -> Iterator[Gateway]:
    with running_gateway(config([keys["new"]])) as running:
        assert running.request("MKCOL", "/memory/data").status == 201
        assert running.put("/memory/data/a.txt", b"hello").status == 201
        assert running.request("MKCOL", "/memory/data/sub").status == 201
        assert running.put("/memory/data/sub/b.txt", b"below").status == 201
        assert running.request("MKCOL", "/memory/other").status == 201
        assert running.put("/memory/other/c.txt", b"elsewhere").status == 201
        yield running


def test_a_token_request_answers_dcache_json(gw):
    reply = ask(gw, "/memory/data", "activity:DOWNLOAD,LIST")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert reply.header("cache-control") == "no-store"
    answer = json.loads(reply.body)
    value = answer["macaroon"]
    uri = answer["uri"]
    assert uri["target"] == f"http://{gw.host}:{gw.port}/memory/data"
    assert uri["base"] == f"http://{gw.host}:{gw.port}/"
    assert uri["targetWithMacaroon"] == uri["target"] + "?authz=" + value
    assert uri["baseWithMacaroon"] == uri["base"] + "?authz=" + value
    made = claims(value)
    assert made["sub"] == "alice"
    assert made["dav"]["path"] == "/memory/data"
    assert made["dav"]["act"] == ["DOWNLOAD", "LIST"]


def test_bearer_and_authz_read_within_the_path(gw):
    value = token(gw, "/memory/data", "activity:DOWNLOAD,LIST")
    assert gw.get("/memory/data/a.txt", headers=bearer(value), user=None).body == b"hello"
    assert gw.get(f"/memory/data/sub/b.txt?authz={value}", user=None).body == b"below"
    listing = gw.request("PROPFIND", "/memory/data", headers={**bearer(value), "Depth": "1"},
                         user=None)  # fmt: skip
    assert listing.status == 207


def test_refused_on_another_path(gw):
    value = token(gw, "/memory/data", "activity:DOWNLOAD")
    reply = gw.get("/memory/other/c.txt", headers=bearer(value), user=None)
    assert reply.status == 403
    assert b"outside the token's path" in reply.body
    assert gw.get("/memory/database", headers=bearer(value), user=None).status == 403  # a sibling
    copy = {**bearer(value), "Destination": f"http://{gw.host}:{gw.port}/memory/other/x.txt"}
    assert gw.request("COPY", "/memory/data/a.txt", headers=copy, user=None).status == 403


def test_refused_for_an_activity_it_lacks(gw):
    value = token(gw, "/memory/data", "activity:DOWNLOAD")
    put = gw.put("/memory/data/new.txt", b"x", headers=bearer(value), user=None)
    assert put.status == 403
    assert b"PUT needs UPLOAD" in put.body
    assert (
        gw.request("DELETE", "/memory/data/a.txt", headers=bearer(value), user=None).status == 403
    )
    propfind = {**bearer(value), "Depth": "1"}
    assert gw.request("PROPFIND", "/memory/data", headers=propfind, user=None).status == 403
    assert gw.get("/memory/data/a.txt", user=None).status == 401  # no token: a login prompt


def test_metadata_only_token_stats_but_does_not_read(gw):
    value = token(gw, "/memory/data/a.txt", "activity:READ_METADATA")
    stat = gw.request("PROPFIND", "/memory/data/a.txt", headers={**bearer(value), "Depth": "0"},
                      user=None)  # fmt: skip
    assert stat.status == 207
    assert gw.get("/memory/data/a.txt", headers=bearer(value), user=None).status == 403


def test_upload_token_lets_a_client_without_credentials_write(gw):
    value = token(gw, "/memory/data/sub", "activity:UPLOAD")
    reply = gw.put(f"/memory/data/sub/up.txt?authz={value}", b"uploaded", user=None)
    assert reply.status == 201
    assert gw.get("/memory/data/sub/up.txt").body == b"uploaded"
    assert gw.request("MKCOL", f"/memory/data/sub/new?authz={value}", user=None).status == 201
    assert gw.put(f"/memory/data/up.txt?authz={value}", b"x", user=None).status == 403


def test_manage_moves_within_the_path_only(gw):
    assert gw.put("/memory/data/sub/m.txt", b"move me").status == 201
    value = token(gw, "/memory/data", "activity:MANAGE")
    base = f"http://{gw.host}:{gw.port}"
    inside = {**bearer(value), "Destination": f"{base}/memory/data/m2.txt"}
    assert gw.request("MOVE", "/memory/data/sub/m.txt", headers=inside, user=None).status == 201
    outside = {**bearer(value), "Destination": f"{base}/memory/other/m3.txt"}
    assert gw.request("MOVE", "/memory/data/m2.txt", headers=outside, user=None).status == 403


def test_path_caveat_narrows_below_the_url(gw):
    value = token(gw, "/memory/data", "activity:DOWNLOAD", "path:sub")
    assert claims(value)["dav"]["path"] == "/memory/data/sub"
    assert gw.get("/memory/data/sub/b.txt", headers=bearer(value), user=None).status == 200
    assert gw.get("/memory/data/a.txt", headers=bearer(value), user=None).status == 403


def test_refused_after_expiry(gw):
    value = token(gw, "/memory/data", "activity:DOWNLOAD", validity="PT1S")
    assert gw.get("/memory/data/a.txt", headers=bearer(value), user=None).status == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        reply = gw.get("/memory/data/a.txt", headers=bearer(value), user=None)
        if reply.status != 200:
            break
        time.sleep(0.2)
    assert reply.status == 401
    assert reply.header("www-authenticate").startswith('Bearer error="invalid_token"')
    assert b"expired" in reply.body


def test_expiry_is_the_earliest_limit(gw):
    now = time.time()
    capped = claims(token(gw, "/memory/data", "activity:DOWNLOAD", validity="P30D"))
    assert capped["exp"] <= now + 3600 + 5  # bearer.max_validity
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 120))
    early = claims(token(gw, "/memory/data", f"before:{before}", validity="PT1H"))
    assert abs(early["exp"] - (now + 120)) < 5
    assert claims(token(gw, "/memory/data", validity=None))["exp"] <= now + 3600 + 5


def test_refused_from_another_network(gw):
    far = token(gw, "/memory/data", "activity:DOWNLOAD", "ip:192.0.2.0/24,2001:db8::/32")
    reply = gw.get("/memory/data/a.txt", headers=bearer(far), user=None)
    assert reply.status == 403
    assert b"client address" in reply.body
    near = token(gw, "/memory/data", "activity:DOWNLOAD", "ip:127.0.0.0/8")
    assert gw.get("/memory/data/a.txt", headers=bearer(near), user=None).status == 200


def test_forged_and_malformed_tokens_get_the_bearer_challenge(gw):
    value = token(gw, "/memory/data", "activity:DOWNLOAD")
    head, body, signature = value.split(".")
    forged_claims = {**claims(value), "dav": {"path": "/memory", "act": ["DELETE"], "ip": []}}
    forged = jwt.encode(forged_claims, "not-the-key-" * 4, algorithm="HS256",
                        headers={"kid": jwt.get_unverified_header(value)["kid"]})  # fmt: skip
    for bad in (forged, f"{head}.{body}.{signature[::-1]}", "not-a-token", "a" * 9000):
        reply = gw.get("/memory/data/a.txt", headers=bearer(bad), user=None)
        assert reply.status == 401, bad[:20]
        assert reply.header("www-authenticate").startswith('Bearer error="invalid_token"')
    none_alg = jwt.encode(forged_claims, None, algorithm="none")
    assert gw.get("/memory/data/a.txt", headers=bearer(none_alg), user=None).status == 401


def test_rotation_old_key_verifies_until_removed(keys):
    with running_gateway(config([keys["old"]])) as old:
        assert old.request("MKCOL", "/memory/d").status == 201
        value = token(old, "/memory/d", "activity:LIST")
    with running_gateway(config([keys["new"], keys["old"]])) as both:
        assert both.request("MKCOL", "/memory/d").status == 201
        listing = {**bearer(value), "Depth": "1"}
        assert both.request("PROPFIND", "/memory/d", headers=listing, user=None).status == 207
        fresh = token(both, "/memory/d", "activity:LIST")
        assert jwt.get_unverified_header(fresh)["kid"] != jwt.get_unverified_header(value)["kid"]
    with running_gateway(config([keys["new"]])) as rotated:
        assert rotated.request("MKCOL", "/memory/d").status == 201
        listing = {**bearer(value), "Depth": "1"}
        assert rotated.request("PROPFIND", "/memory/d", headers=listing, user=None).status == 401
        assert rotated.request("PROPFIND", "/memory/d", headers={**bearer(fresh), "Depth": "1"},
                               user=None).status == 207  # fmt: skip


def test_a_key_file_rewritten_takes_effect_without_a_restart(tmp_path):
    path = key_file(tmp_path, "rotating.key")
    with running_gateway(config([path])) as running:
        assert running.request("MKCOL", "/memory/d").status == 201
        value = token(running, "/memory/d", "activity:LIST")
        listing = {**bearer(value), "Depth": "1"}
        assert running.request("PROPFIND", "/memory/d", headers=listing, user=None).status == 207
        key_file(tmp_path, "rotating.key")  # a new secret in the same file
        deadline = time.monotonic() + 10
        while running.request("PROPFIND", "/memory/d", headers=listing, user=None).status != 401:
            assert time.monotonic() < deadline, "the rewritten key file was not read again"
            time.sleep(0.5)
        fresh = token(running, "/memory/d", "activity:LIST")
        assert jwt.get_unverified_header(fresh)["kid"] != jwt.get_unverified_header(value)["kid"]
        again = {**bearer(fresh), "Depth": "1"}
        assert running.request("PROPFIND", "/memory/d", headers=again, user=None).status == 207


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", b"not JSON"),
        (b'["a"]', b"not a JSON object"),
        (b'{"caveats": "activity:LIST"}', b"list of strings"),
        (b'{"caveats": ["colour:blue"]}', b"unsupported caveat"),
        (b'{"caveats": ["activity:FLY"]}', b"unknown activity"),
        (b'{"caveats": ["ip:nowhere"]}', b"not a list of networks"),
        (b'{"caveats": ["before:soon"]}', b"ISO 8601 time"),
        (b'{"caveats": ["path:../bob"]}', b"may not climb"),
        (b'{"caveats": ["before:2001-01-01T00:00:00Z"]}', b"already have expired"),
        (b'{"validity": "10 minutes"}', b"ISO 8601 duration"),
        (b'{"validity": 600}', b"duration string"),
    ],
)
def test_bad_token_requests_get_400_with_a_reason(gw, body, reason):
    reply = gw.request(
        "POST", "/memory/data", body, {"Content-Type": "application/macaroon-request"}
    )
    assert reply.status == 400
    assert reason in reply.body


def test_who_may_ask(gw):
    assert ask(gw, "/memory/data", user=None).status == 401  # log in first
    assert ask(gw, "/memory/missing/deeper").status == 404
    value = token(gw, "/memory/data")
    reply = ask(gw, "/memory/data", headers=bearer(value), user=None)
    assert reply.status == 403  # a token cannot make tokens
    huge = gw.request("POST", "/memory/data", b"{" + b" " * 70000 + b"}",
                      {"Content-Type": "application/macaroon-request"})  # fmt: skip
    assert huge.status == 413


def test_tokens_stay_out_of_logs_pages_and_links(gw, caplog):
    value = token(gw, "/memory/data", "activity:DOWNLOAD,LIST")
    with caplog.at_level(logging.INFO):
        page = gw.get(f"/memory/data/?authz={value}", headers={"Accept": "text/html"}, user=None)
        refused = gw.put(f"/memory/data/z.txt?authz={value}", b"z", user=None,
                         headers={"Accept": "text/html"})  # fmt: skip
        forged = gw.get(f"/memory/data/a.txt?authz={value[:-4]}AAAA", user=None)
    assert page.status == 200 and refused.status == 403 and forged.status == 401
    for reply in (page, refused, forged):
        assert value.encode() not in reply.body
        assert value[:-4].encode() not in reply.body
        assert value[:-4] not in (reply.header("www-authenticate") or "")
    assert value[:-4] not in caplog.text


def test_access_log_writes_no_query(keys, caplog):
    with running_gateway(config([keys["new"]], logging={"access_log": True})) as running:
        assert running.request("MKCOL", "/memory/d").status == 201
        value = token(running, "/memory/d", "activity:LIST")
        with caplog.at_level(logging.INFO, logger="davprovider.access"):
            reply = running.request("PROPFIND", f"/memory/d?authz={value}", headers={"Depth": "0"},
                                    user=None)  # fmt: skip
            assert reply.status == 207
            deadline = time.monotonic() + 5
            while "PROPFIND /memory/d" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
    assert "PROPFIND /memory/d" in caplog.text
    assert value not in caplog.text and "authz" not in caplog.text


def test_config_needs_usable_key_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="bearer.keys"):
        settings_from_mapping(memory_config(auth=CHAIN))
    short = tmp_path / "short.key"
    short.write_text("too short\n")
    with pytest.raises(ConfigError, match="fewer than 32 bytes"):
        settings_from_mapping(memory_config(auth=CHAIN, bearer={"keys": [str(short)]}))


def test_tokens_are_refused_where_bearer_is_not_in_the_chain(keys):
    with running_gateway(memory_config(bearer={"keys": [keys["new"]]})) as plain:
        assert plain.request("MKCOL", "/memory/d").status == 201
        assert ask(plain, "/memory/d").status == 403


def test_a_list_token_shows_a_folder_page_but_no_zip(gw):
    value = token(gw, "/memory/data", "activity:LIST")
    assert gw.get(f"/memory/data/?authz={value}", user=None).status == 200
    assert gw.get(f"/memory/data/?download=zip&authz={value}", user=None).status == 403
    assert gw.get(f"/memory/data/a.txt?authz={value}", user=None).status == 403


def test_an_address_identity_gets_a_token_for_its_address_only(keys):
    networks = {"networks": [{"cidr": "127.0.0.0/8", "user": "alice"}]}
    made = config([keys["new"]], auth={"chain": ["bearer", "ipallow"]}, ipallow=networks)
    with running_gateway(made) as running:
        assert running.request("MKCOL", "/memory/d", user=None).status == 201
        value = token(running, "/memory/d", "activity:LIST", "ip:0.0.0.0/0", user=None)
        assert claims(value)["dav"]["ip"] == ["127.0.0.1/32"]


def test_anonymous_visitors_cannot_ask(keys):
    made = config([keys["new"]])
    made["shares"][0]["anonymous"] = {"user": "reader", "password": "reader-pw"}
    with running_gateway(made) as running:
        assert running.request("MKCOL", "/memory/d").status == 201
        assert ask(running, "/memory/d", user=None).status in (401, 403)


def test_a_token_for_a_new_name_uploads_that_name_only(gw):
    value = token(gw, "/memory/data/planned.txt", "activity:UPLOAD,DOWNLOAD")
    assert gw.put(f"/memory/data/planned.txt?authz={value}", b"p", user=None).status == 201
    assert gw.get(f"/memory/data/planned.txt?authz={value}", user=None).body == b"p"
    assert gw.put(f"/memory/data/other.txt?authz={value}", b"o", user=None).status == 403
