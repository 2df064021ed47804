"""WLCG and SciTokens JWTs (the ``token`` authenticator) on a memory share, from the demo
issuer (``localgrid/token.py``, also as ``python -m localgrid token``): scopes limit
methods and paths, the subject maps to a user (template or map file), and forged,
expired, unknown-issuer or wrong-audience tokens get the bearer challenge."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from auth.token import scopes_of
from davprovider.settings import ConfigError, settings_from_mapping
from localgrid.token import DEMO_ISSUER, KID, ensure_issuer, issue, token_sections
from tests.helpers.gateway import Gateway, memory_config, running_gateway
from tests.helpers.tokens import bearer, key_file, token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def issuer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("issuer")
    ensure_issuer(folder)
    return folder


def wlcg_config(issuer_dir: Path, chain: list[str], **entry: Any) -> dict[str, Any]:
    sections = token_sections(ensure_issuer(issuer_dir), base="/memory")
    sections["token"]["issuers"][0].update(entry)
    return memory_config(auth={"chain": chain}, **sections)


@pytest.fixture(scope="module")
def gw(issuer_dir: Path) -> Iterator[Gateway]:
    with running_gateway(wlcg_config(issuer_dir, ["bearer", "token", "basic"])) as running:
        for folder in ("/memory/alice", "/memory/bob", "/memory/alice/in"):
            assert running.request("MKCOL", folder).status == 201
        assert running.put("/memory/alice/a.txt", b"alice's").status == 201
        assert running.put("/memory/bob/b.txt", b"bob's").status == 201
        yield running


def test_read_scope_acts_as_the_user_read_only(gw, issuer_dir):
    value = issue(issuer_dir, "alice", "storage.read:/alice")
    reply = gw.get("/memory/alice/a.txt", headers=bearer(value), user=None)
    assert reply.status == 200 and reply.body == b"alice's"
    listing = gw.request("PROPFIND", "/memory/alice", headers={**bearer(value), "Depth": "1"},
                         user=None)  # fmt: skip
    assert listing.status == 207
    assert gw.put("/memory/alice/new.txt", b"x", headers=bearer(value), user=None).status == 403
    assert (
        gw.request("DELETE", "/memory/alice/a.txt", headers=bearer(value), user=None).status == 403
    )
    assert gw.get("/memory/bob/b.txt", headers=bearer(value), user=None).status == 403


def test_an_issuer_key_rotated_in_the_jwks_file_takes_effect_without_a_restart(tmp_path):
    folder = tmp_path / "rotating-issuer"
    with running_gateway(wlcg_config(folder, ["token"])) as running:
        old = issue(folder, "alice", "storage.read:/")

        def stat(value: str) -> int:
            headers = {**bearer(value), "Depth": "0"}
            return running.request("PROPFIND", "/memory/", headers=headers, user=None).status

        assert stat(old) == 207
        for made in ("issuer-key.pem", "jwks.json"):
            (folder / made).unlink()
        new = issue(folder, "alice", "storage.read:/")  # a new key under the same kid
        deadline = time.monotonic() + 10
        while stat(new) != 207:
            assert time.monotonic() < deadline, "the rewritten JWKS file was not read again"
            time.sleep(0.5)
        assert stat(old) == 401


def test_modify_scope_writes_and_deletes(gw, issuer_dir):
    value = issue(issuer_dir, "alice", "storage.read:/alice storage.modify:/alice/in")
    assert gw.put("/memory/alice/in/w.txt", b"w", headers=bearer(value), user=None).status == 201
    assert gw.put("/memory/alice/in/w.txt", b"w2", headers=bearer(value), user=None).status == 204
    assert gw.get("/memory/alice/in/w.txt").body == b"w2"
    assert gw.request("DELETE", "/memory/alice/in/w.txt", headers=bearer(value),
                      user=None).status == 204  # fmt: skip
    assert gw.put("/memory/alice/w.txt", b"w", headers=bearer(value), user=None).status == 403


def test_create_scope_never_overwrites(gw, issuer_dir):
    value = issue(issuer_dir, "alice", "storage.create:/alice/in")
    assert gw.put("/memory/alice/in/c.txt", b"c", headers=bearer(value), user=None).status == 201
    reply = gw.put("/memory/alice/in/c.txt", b"c2", headers=bearer(value), user=None)
    assert reply.status == 403
    assert (
        gw.request("MKCOL", "/memory/alice/in/sub", headers=bearer(value), user=None).status == 201
    )
    assert gw.get("/memory/alice/in/c.txt").body == b"c"


def test_scitokens_scopes(gw, issuer_dir):
    value = issue(issuer_dir, "alice", "read:/alice write:/alice/in")
    assert gw.get(f"/memory/alice/a.txt?authz={value}", user=None).status == 200
    assert gw.put(f"/memory/alice/in/s.txt?authz={value}", b"s", user=None).status == 201
    assert gw.put(f"/memory/alice/s.txt?authz={value}", b"s", user=None).status == 403


def test_bad_tokens_get_the_bearer_challenge(gw, issuer_dir):
    stranger = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    good = {"iss": DEMO_ISSUER, "sub": "alice", "scope": "storage.read:/", "iat": now,
            "exp": now + 600}  # fmt: skip
    tokens = {
        "forged": jwt.encode(good, stranger, algorithm="ES256", headers={"kid": KID}),
        "expired": issue(issuer_dir, "alice", "storage.read:/alice", lifetime=-120),
        "unknown issuer": jwt.encode(
            {**good, "iss": "https://elsewhere.invalid"}, stranger, algorithm="ES256"
        ),  # fmt: skip
        "hs256 with the public key": jwt.encode(
            good, "secret" * 8, algorithm="HS256", headers={"kid": KID}
        ),  # fmt: skip
    }
    for name, value in tokens.items():
        reply = gw.get("/memory/alice/a.txt", headers=bearer(value), user=None)
        assert reply.status == 401, name
        assert reply.header("www-authenticate").startswith('Bearer error="invalid_token"'), name


def test_gateway_tokens_and_wlcg_tokens_share_the_chain(gw, issuer_dir):
    own = token(gw, "/memory/alice", "activity:DOWNLOAD")
    assert gw.get("/memory/alice/a.txt", headers=bearer(own), user=None).status == 200
    wlcg = issue(issuer_dir, "alice", "storage.read:/alice")
    assert gw.get("/memory/alice/a.txt", headers=bearer(wlcg), user=None).status == 200
    assert gw.request("POST", "/memory/alice", b"{}", {**bearer(wlcg), "Content-Type":
                      "application/macaroon-request"}, user=None).status == 403  # fmt: skip


def test_audience_and_map_file(issuer_dir, tmp_path):
    users = tmp_path / "token-users"
    users.write_text('# subject  user\n"Alice Subject" alice\nsub-of-bob bob\n')
    config = wlcg_config(issuer_dir, ["token"], audiences=["https://dav.example"],
                         users=str(users))  # fmt: skip
    with running_gateway(config) as running:
        mapped = issue(issuer_dir, "Alice Subject", "storage.modify:/", aud="https://dav.example")
        assert (
            running.request("MKCOL", "/memory/x", headers=bearer(mapped), user=None).status == 201
        )
        unmapped = issue(issuer_dir, "carol", "storage.read:/", aud="https://dav.example")
        reply = running.get("/memory/x", headers=bearer(unmapped), user=None)
        assert reply.status == 403 and b"not mapped" in reply.body
        elsewhere = issue(issuer_dir, "sub-of-bob", "storage.read:/", aud="https://other.example")
        assert running.get("/memory/x", headers=bearer(elsewhere), user=None).status == 401
        anywhere = issue(issuer_dir, "sub-of-bob", "storage.read:/")  # the WLCG "any" audience
        props = {**bearer(anywhere), "Depth": "0"}
        assert running.request("PROPFIND", "/memory/x", headers=props, user=None).status == 207
        garbage = running.get("/memory/x", headers=bearer("garbage"), user=None)
        assert garbage.status == 401  # no bearer in this chain: the token authenticator says so


def test_localgrid_token_command_prints_a_trusted_token(gw, tmp_path):
    data = tmp_path / "demo"
    command = [sys.executable, "-m", "localgrid", "token", "alice", "storage.read:/alice",
               "--data", str(data)]  # fmt: skip
    printed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60,
                             check=True).stdout.strip()  # fmt: skip
    claims = jwt.decode(printed, options={"verify_signature": False})
    assert claims["sub"] == "alice" and claims["scope"] == "storage.read:/alice"
    jwks = json.loads((data / "tokens" / "jwks.json").read_text())
    key = jwt.PyJWKSet.from_dict(jwks).keys[0]
    assert (
        jwt.decode(printed, key, algorithms=["ES256"], audience=claims["aud"])["iss"] == DEMO_ISSUER
    )


def test_scopes_are_paths_below_the_base():
    scopes = scopes_of(
        {"scope": "storage.read:/a storage.stage:/x openid write:/b/../c read"}, "/irods"
    )
    assert [s.prefix for s in scopes] == ["/irods/a", "/irods"]
    assert scopes_of({"scp": ["storage.modify:/"]}, "/")[0].prefix == "/"


def test_config_checks(issuer_dir, tmp_path):
    with pytest.raises(ConfigError, match="token.issuers"):
        settings_from_mapping(memory_config(auth={"chain": ["token"]}))
    bad = tmp_path / "jwks.json"
    bad.write_text("{not json")
    config = wlcg_config(issuer_dir, ["token"], jwks=str(bad))
    with pytest.raises(ConfigError, match=r"token.issuers\[0\]"):
        settings_from_mapping(config)
    settings_from_mapping(wlcg_config(issuer_dir, ["bearer", "token"]) | {
        "bearer": {"keys": [key_file(tmp_path)]}})  # fmt: skip


def test_the_demo_config_trusts_the_demo_issuer(tmp_path):
    import yaml

    from localgrid.token import demo_tokens

    raw = yaml.safe_load((ROOT / "wsgidav.yaml").read_text())
    demo_tokens(raw, tmp_path / "tokens", "rods", {"alice": "alice", "bob": "bob"})
    settings = settings_from_mapping(raw)
    assert settings.auth.chain == ("bearer", "token", "basic")
    assert settings.token.issuers[0].issuer == DEMO_ISSUER
    irods, swift = settings.shares
    assert irods.options.proxy_user == "rods"
    assert set(swift.options.profiles) == {"alice", "bob"}
