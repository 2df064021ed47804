"""gfal2 (Debian's ``python3-gfal2`` with ``gfal2-plugin-http``, default config) asks the
gateway for a token the way it does before a copy (``token_retrieve``: a POST of
``application/macaroon-request`` over HTTPS, as alice by her client certificate), then
uses it with no certificate at all: it writes, stats, lists and reads as alice, and a
read-only token cannot write."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from davprovider.backend import Identity
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.testpki import TestPKI, make_test_pki
from tests.helpers.tlsgw import memory_tls_config
from tests.helpers.tokens import claims, key_file

SYSTEM_PYTHON = "/usr/bin/python3"

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
if data:
    handle = ctx.open(base + "gfal.txt", "w")
    handle.write(data)
    del handle
print(ctx.stat(base + "gfal.txt").st_size)
print(" ".join(sorted(ctx.listdir(base))))
print(ctx.open(base + "gfal.txt", "r").read(1000))
"""


def require_gfal2() -> None:
    if not os.path.exists(SYSTEM_PYTHON):
        require_tool(SYSTEM_PYTHON)
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gfal2"], capture_output=True, timeout=60)
    plugin = Path("/usr/lib/x86_64-linux-gnu/gfal2-plugins/libgfal_plugin_http.so")
    if probe.returncode != 0 or not plugin.exists():
        require_tool("python3-gfal2 with gfal2-plugin-http (import gfal2)")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_test_pki(tmp_path_factory.mktemp("gfal2-pki"))


@pytest.fixture(scope="module")
def cert_dir(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An OpenSSL CA directory (``X509_CERT_DIR``) trusting the test CA."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("gfal2-cadir")
    command = [openssl, "x509", "-hash", "-noout", "-in", str(pki.ca)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
    name = done.stdout.strip()
    shutil.copy(pki.ca, folder / f"{name}.0")
    return str(folder)


@pytest.fixture(scope="module")
def gw(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    require_gfal2()
    keys = {"keys": [key_file(tmp_path_factory.mktemp("gfal2-keys"))]}
    config = memory_tls_config(pki, chain=["bearer", "x509", "basic"], bearer=keys)
    with running_gateway(config) as running:
        yield running


def gfal2(code: str, env: dict[str, str], *args: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("X509_", "PYTHON"))}
    done = subprocess.run([SYSTEM_PYTHON, "-c", code, *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def retrieve(gw: Gateway, pki: TestPKI, cert_dir: str, url: str, access: str) -> str:
    cert, key = pki.pair("alice")
    env = {"X509_CERT_DIR": cert_dir, "X509_USER_CERT": cert, "X509_USER_KEY": key}
    return gfal2(RETRIEVE, env, url, access).strip()


def test_gfal2_retrieves_a_token_and_works_with_it_alone(gw, pki, cert_dir, caplog: Any):
    base = f"davs://127.0.0.1:{gw.port}/memory/"
    token = retrieve(gw, pki, cert_dir, base, "write")
    made = claims(token)
    assert made["sub"] == "alice" and made["dav"]["path"] == "/memory"
    assert set(made["dav"]["act"]) == {"LIST", "DOWNLOAD", "MANAGE", "UPLOAD", "DELETE"}
    with caplog.at_level(logging.INFO, logger="auth.controller"):
        out = gfal2(USE, {"X509_CERT_DIR": cert_dir}, base, token, "written by gfal2").split("\n")
    assert out[:3] == ["16", "gfal.txt", "written by gfal2"]
    assert "accepted as alice by bearer" in caplog.text
    assert "by x509" not in caplog.text  # no certificate went with these requests
    assert token not in caplog.text


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


def test_gfal2_read_token_cannot_write(gw, pki, cert_dir):
    base = f"davs://127.0.0.1:{gw.port}/memory/"
    token = retrieve(gw, pki, cert_dir, base, "read")
    assert set(claims(token)["dav"]["act"]) == {"LIST", "DOWNLOAD"}
    out = gfal2(MKDIR, {"X509_CERT_DIR": cert_dir}, base, token).split("\n")
    assert out[1].startswith("refused"), out
    with pytest.raises(FileNotFoundError):
        gw.factories["/memory"](Identity("alice", "basic")).stat("/made-by-gfal2")


WRITE_WITH_CERTIFICATE = """
import sys, gfal2
ctx = gfal2.creat_context()
handle = ctx.open(sys.argv[1], "w")
handle.write("default flow")
del handle
print(ctx.open(sys.argv[1], "r").read(100))
"""


def test_gfal2_default_config_writes_with_a_token_it_asked_for(gw, pki, cert_dir, caplog: Any):
    """RETRIEVE_BEARER_TOKEN (on by default): gfal2 first asks for a token for the new
    file with its certificate, then writes it with that token."""
    cert, key = pki.pair("alice")
    env = {"X509_CERT_DIR": cert_dir, "X509_USER_CERT": cert, "X509_USER_KEY": key}
    url = f"davs://127.0.0.1:{gw.port}/memory/by-default.txt"
    with caplog.at_level(logging.INFO, logger="auth.controller"):
        assert gfal2(WRITE_WITH_CERTIFICATE, env, url).strip() == "default flow"
    assert "POST /memory/by-default.txt accepted as alice by x509" in caplog.text
    assert "PUT /memory/by-default.txt accepted as alice by bearer" in caplog.text
