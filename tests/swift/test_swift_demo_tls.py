"""The TLS demo (``localgrid demo --tls``): its PKI and its config, over the test Swift.

RSA user certificates, from which Globus ``grid-proxy-init`` makes an RFC 3820 proxy
non-interactively; alice's certificate and that proxy log in on ``/swift`` as her own
Swift account (a profile, not 403); davix and gfal2 list, upload and read with the proxy
and the demo's CA directory as the README shows; bob's revoked certificate gets 403 with
the reason."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from localgrid.__main__ import tls_config
from localgrid.pki import PROXY_CERT_INFO, DemoPKI, create_demo_pki
from localgrid.swift import LocalSwift
from tests.helpers.external_tools import require_tool
from tests.helpers.gateway import Gateway, running_gateway
from tests.helpers.grid import SYSTEM_PYTHON, require_gfal2
from tests.helpers.swift_gateway import connect

ROOT = Path(__file__).resolve().parents[2]
HELLO = b"Hello alice, this object lives in Swift.\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPKI:
    return create_demo_pki(tmp_path_factory.mktemp("demo-pki"))


@pytest.fixture(scope="module")
def grid_proxy(demo: DemoPKI) -> Path:
    """``grid-proxy-init`` with alice's certificate and unencrypted key, no terminal."""
    tool = require_tool("grid-proxy-init")
    cert, key, _ = demo.users["alice"]
    out = demo.folder / "x509up_alice"
    command = [tool, "-cert", str(cert), "-key", str(key), "-out", str(out)]
    run = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    return out


@pytest.fixture(scope="module")
def gw(demo: DemoPKI, swift_store: LocalSwift) -> Iterator[Gateway]:
    """The demo's own wsgidav.yaml (its Swift share) turned HTTPS by ``tls_config``."""
    conn = connect(swift_store)
    conn.put_container("sample")
    conn.put_object("sample", "hello.txt", HELLO)
    conn.close()
    raw: dict[str, Any] = yaml.safe_load((ROOT / "wsgidav.yaml").read_text())
    raw["server"] = {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 10}
    raw["logging"] = {"access_log": False}
    raw["shares"] = [s for s in raw["shares"] if s["backend"] == "swift"]
    raw["shares"][0]["options"]["auth_url"] = swift_store.auth_url
    with running_gateway(tls_config(raw, demo)) as gateway:
        yield gateway


def swift_url(gw: Gateway, path: str = "/sample/hello.txt") -> str:
    return f"https://127.0.0.1:{gw.port}/swift{path}"


def curl(demo: DemoPKI, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [require_tool("curl"), "-sS", "--cacert", str(demo.ca), *args]
    return subprocess.run(command, capture_output=True, timeout=60, check=False)


def test_demo_user_certificates_are_rsa(demo):
    for cert_path, _key, _p12 in demo.users.values():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        assert isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert any(p.suffix == ".0" for p in demo.ca_dir.iterdir())  # the hashed CA link


def test_grid_proxy_init_makes_an_rfc3820_proxy_of_alice(demo, grid_proxy):
    proxy = x509.load_pem_x509_certificates(grid_proxy.read_bytes())[0]
    alice = x509.load_pem_x509_certificate(demo.users["alice"][0].read_bytes())
    assert proxy.issuer == alice.subject
    assert proxy.extensions.get_extension_for_oid(PROXY_CERT_INFO).critical


def test_alice_certificate_logs_in_on_swift(demo, gw):
    cert, key, _ = demo.users["alice"]
    run = curl(demo, "--cert", str(cert), "--key", str(key), "-w", "%{http_code}", swift_url(gw))
    assert run.stdout == HELLO + b"200", run.stderr


def test_alice_grid_proxy_logs_in_on_swift(demo, gw, grid_proxy):
    run = curl(demo, "--cert", str(grid_proxy), "-w", "%{http_code}", swift_url(gw))
    assert run.stdout == HELLO + b"200", run.stderr


def test_bob_revoked_certificate_gets_403_with_the_reason(demo, gw):
    cert, key, _ = demo.users["bob"]
    run = curl(demo, "--cert", str(cert), "--key", str(key), swift_url(gw))
    assert run.stdout == b"403 Forbidden: client certificate refused: certificate revoked\n"


def test_davix_with_the_grid_proxy_as_the_readme_shows(demo, gw, grid_proxy, tmp_path):
    tls = ["--capath", str(demo.ca_dir), "--cert", str(grid_proxy)]
    source = tmp_path / "davix.txt"
    source.write_bytes(b"put by davix\n")
    put = [require_tool("davix-put"), *tls, str(source), swift_url(gw, "/sample/davix.txt")]
    assert subprocess.run(put, capture_output=True, timeout=60).returncode == 0
    listing = subprocess.run(
        [require_tool("davix-ls"), "-l", *tls, swift_url(gw, "/sample/")],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr.decode()
    assert b"davix.txt" in listing.stdout and b"hello.txt" in listing.stdout
    got = subprocess.run(
        [require_tool("davix-get"), *tls, swift_url(gw, "/sample/davix.txt")],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert got.stdout == b"put by davix\n", got.stderr.decode()


GFAL2_LISTING = """
import gfal2, sys
ctx = gfal2.creat_context()
print(sorted(ctx.listdir(sys.argv[1])))
print(ctx.stat(sys.argv[1] + "hello.txt").st_size)
"""


def test_gfal2_with_the_grid_proxy_as_the_readme_shows(demo, gw, grid_proxy):
    require_gfal2()
    python = SYSTEM_PYTHON
    env = {
        **os.environ,
        "X509_USER_PROXY": str(grid_proxy),
        "X509_CERT_DIR": str(demo.ca_dir),
    }
    url = f"davs://127.0.0.1:{gw.port}/swift/sample/"
    run = subprocess.run(
        [python, "-c", GFAL2_LISTING, url], capture_output=True, timeout=60, env=env
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    names, size = run.stdout.decode().splitlines()
    assert "'hello.txt'" in names and int(size) == len(HELLO)
