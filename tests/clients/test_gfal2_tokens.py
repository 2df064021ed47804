"""gfal2 (Debian's ``python3-gfal2`` with ``gfal2-plugin-http``, default config) and the
gateway's tokens, over HTTPS with alice's client certificate, on a memory share, the local
iRODS zone and a real Swift (one gateway, chain ``bearer, x509, basic``):

- ``token_retrieve`` (what gfal2 does before a copy: a POST of
  ``application/macaroon-request``) gets a token; with that token alone (no certificate)
  gfal2 writes, stats, lists and reads as alice; a read-only token cannot make a folder;
- with its default config (``RETRIEVE_BEARER_TOKEN``) gfal2 asks for a token for a new
  file on its own, with its certificate, and writes the file with the token.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from irods.access import iRODSAccess
from swiftclient.client import Connection

from davprovider.backend import Identity
from localgrid.irods import LocalZone
from localgrid.swift import LocalSwift
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.irods_gateway import HOME, seed
from tests.helpers.swift_helpers import ALICE_PROFILE, local_swift, swift_share
from tests.helpers.testpki import TestPKI, make_test_pki
from tests.helpers.tlsgw import irods_tls_config
from tests.helpers.tokens import claims, key_file

SYSTEM_PYTHON = "/usr/bin/python3"
HTTP_PLUGIN = Path("/usr/lib/x86_64-linux-gnu/gfal2-plugins/libgfal_plugin_http.so")

RETRIEVE = """
import sys, gfal2
ctx = gfal2.creat_context()
print(ctx.token_retrieve(sys.argv[1], "", 10, sys.argv[2] == "write"))
"""

USE = """
import sys, gfal2
base, token, data = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = gfal2.creat_context()
ctx.cred_set(base, ctx.cred_new("BEARER", token))
handle = ctx.open(base + "gfal.txt", "w")
handle.write(data)
del handle
print(ctx.stat(base + "gfal.txt").st_size)
print(" ".join(sorted(ctx.listdir(base))))
print(ctx.open(base + "gfal.txt", "r").read(1000))
"""

MKDIR = """
import sys, gfal2
base, token = sys.argv[1], sys.argv[2]
ctx = gfal2.creat_context()
ctx.cred_set(base, ctx.cred_new("BEARER", token))
print(len(ctx.listdir(base)))
try:
    ctx.mkdir(base + "made-by-gfal2", 0o755)
except gfal2.GError as error:
    print("refused", error.code)
"""

WRITE_WITH_CERTIFICATE = """
import sys, gfal2
ctx = gfal2.creat_context()
handle = ctx.open(sys.argv[1], "w")
handle.write("default flow")
del handle
print(ctx.open(sys.argv[1], "r").read(100))
"""


def require_gfal2() -> None:
    if not os.path.exists(SYSTEM_PYTHON):
        require_tool(SYSTEM_PYTHON)
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gfal2"], capture_output=True, timeout=60)
    if probe.returncode != 0 or not HTTP_PLUGIN.exists():
        require_tool("python3-gfal2 with gfal2-plugin-http (import gfal2)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    require_gfal2()
    return make_test_pki(tmp_path_factory.mktemp("gfal2-pki"))


@pytest.fixture(scope="module")
def cert_dir(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An OpenSSL CA directory (``X509_CERT_DIR``) trusting the test CA."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("gfal2-cadir")
    command = [openssl, "x509", "-hash", "-noout", "-in", str(pki.ca)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
    shutil.copy(pki.ca, folder / f"{done.stdout.strip()}.0")
    return str(folder)


@pytest.fixture(scope="module")
def swift_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSwift]:
    with local_swift(tmp_path_factory, "gfal2-swift") as store:
        yield store


@pytest.fixture(scope="module")
def gw(
    pki: TestPKI,
    irods_zone: LocalZone,
    swift_store: LocalSwift,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gateway]:
    seed(irods_zone)
    config = irods_tls_config(pki, irods_zone, chain=["bearer", "x509", "basic"])
    config["bearer"] = {"keys": [key_file(tmp_path_factory.mktemp("gfal2-keys"))]}
    config["shares"] += [
        {"path": "/memory", "backend": "memory", "options": {"users": {"alice": "alice"}}},
        swift_share(swift_store, profiles=ALICE_PROFILE),
    ]
    with running_gateway(config) as running:
        yield running


@dataclass
class Target:
    """A fresh folder of alice's: its URL path, and how to tell whether a name exists."""

    path: str
    exists: Any


def irods_folder(zone: LocalZone, name: str) -> Target:
    with zone.session() as rods:
        rods.collections.create(f"{HOME}/alice/{name}")
        rods.acls.set(iRODSAccess("own", f"{HOME}/alice/{name}", "alice"))

    def exists(member: str) -> bool:
        with zone.session() as rods:
            path = f"{HOME}/alice/{name}/{member}"
            return bool(rods.data_objects.exists(path) or rods.collections.exists(path))

    return Target(f"/irods/alice/{name}/", exists)


def swift_folder(store: LocalSwift, name: str) -> Target:
    conn = Connection(authurl=store.auth_url, user="alice:alice", key="alice", retries=1)
    conn.put_container(name)

    def exists(member: str) -> bool:
        listed = conn.get_container(name)[1]
        return any(o.get("name", o.get("subdir", "")).rstrip("/") == member for o in listed)

    return Target(f"/swift/{name}/", exists)


def memory_folder(gw: Gateway, name: str) -> Target:
    alice = gw.factories["/memory"](Identity("alice", "basic", password="alice"))
    alice.mkdir(f"/{name}")

    def exists(member: str) -> bool:
        try:
            alice.stat(f"/{name}/{member}")
        except FileNotFoundError:
            return False
        return True

    return Target(f"/memory/{name}/", exists)


@pytest.fixture(params=["memory", "irods", "swift"])
def target(
    request: pytest.FixtureRequest, gw: Gateway, irods_zone: LocalZone, swift_store: LocalSwift
) -> Target:
    """A fresh folder of alice's on each share."""
    name = f"gfal2-{uuid.uuid4().hex[:8]}"
    if request.param == "irods":
        return irods_folder(irods_zone, name)
    if request.param == "swift":
        return swift_folder(swift_store, name)
    return memory_folder(gw, name)


def gfal2(code: str, env: dict[str, str], *args: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("X509_", "PYTHON"))}
    done = subprocess.run([SYSTEM_PYTHON, "-c", code, *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def with_certificate(pki: TestPKI, cert_dir: str) -> dict[str, str]:
    cert, key = pki.pair("alice")
    return {"X509_CERT_DIR": cert_dir, "X509_USER_CERT": cert, "X509_USER_KEY": key}


def test_gfal2_retrieves_a_token_and_works_with_it_alone(gw, target, pki, cert_dir, caplog):
    base = f"davs://127.0.0.1:{gw.port}{target.path}"
    token = gfal2(RETRIEVE, with_certificate(pki, cert_dir), base, "write").strip()
    made = claims(token)
    assert made["sub"] == "alice" and made["dav"]["path"] == target.path.rstrip("/")
    assert set(made["dav"]["act"]) == {"LIST", "DOWNLOAD", "MANAGE", "UPLOAD", "DELETE"}
    with caplog.at_level(logging.INFO, logger="auth.controller"):
        out = gfal2(USE, {"X509_CERT_DIR": cert_dir}, base, token, "written by gfal2").split("\n")
    assert out[:3] == ["16", "gfal.txt", "written by gfal2"]
    assert target.exists("gfal.txt")
    assert "accepted as alice by bearer" in caplog.text
    assert "by x509" not in caplog.text  # no certificate went with these requests
    assert token not in caplog.text


def test_gfal2_read_token_cannot_write(gw, target, pki, cert_dir):
    base = f"davs://127.0.0.1:{gw.port}{target.path}"
    token = gfal2(RETRIEVE, with_certificate(pki, cert_dir), base, "read").strip()
    assert set(claims(token)["dav"]["act"]) == {"LIST", "DOWNLOAD"}
    out = gfal2(MKDIR, {"X509_CERT_DIR": cert_dir}, base, token).split("\n")
    assert out[1].startswith("refused"), out
    assert not target.exists("made-by-gfal2")


def test_gfal2_default_config_writes_with_a_token_it_asked_for(gw, target, pki, cert_dir, caplog):
    """RETRIEVE_BEARER_TOKEN (on by default): gfal2 first asks for a token for the new
    file with its certificate, then writes it with that token."""
    url = f"davs://127.0.0.1:{gw.port}{target.path}by-default.txt"
    with caplog.at_level(logging.INFO, logger="auth.controller"):
        assert gfal2(WRITE_WITH_CERTIFICATE, with_certificate(pki, cert_dir), url).strip() == (
            "default flow"
        )
    assert f"POST {target.path}by-default.txt accepted as alice by x509" in caplog.text
    assert f"PUT {target.path}by-default.txt accepted as alice by bearer" in caplog.text
    assert target.exists("by-default.txt")
