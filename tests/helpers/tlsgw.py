"""Helpers of the TLS tests: configs, an HTTPS client (Python's ssl), curl, and
``start_process`` (``serve_process``: ``davprovider serve`` as a child process,
over HTTPS when its config has a ``tls`` section)."""

from __future__ import annotations

import base64
import http.client
import os
import ssl
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.serve_process import start_process  # noqa: F401  (re-exported to the tests)
from tests.helpers.testpki import TestPKI

USERS = {"alice": "alice-pw", "bob": "bob-pw", "portal": "portal-pw"}


def tls_section(
    pki: TestPKI, client_certificates: str = "optional", **extra: Any
) -> dict[str, Any]:
    return {
        "certificate": str(pki.server_cert),
        "key": str(pki.server_key),
        "client_ca": str(pki.ca),
        "crls": [str(pki.crl)],
        "client_certificates": client_certificates,
        **extra,
    }


def memory_tls_config(
    pki: TestPKI,
    chain: list[str] | None = None,
    client_certificates: str = "optional",
    **overrides: Any,
) -> dict[str, Any]:
    """A memory share at /memory over HTTPS; x509 then basic by default."""
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 10},
        "logging": {"access_log": False},
        "auth": {"chain": ["x509", "basic"] if chain is None else chain},
        "tls": tls_section(pki, client_certificates),
        "x509": {"gridmap": str(pki.gridmap)},
        "shares": [
            {
                "path": "/memory",
                "backend": "memory",
                "options": {"users": dict(USERS), "read_only_users": ["portal"]},
            }
        ],
    }
    config.update(overrides)
    return config


def logged(caplog: Any, text: str, timeout: float = 5.0) -> bool:
    """Wait until ``text`` shows in the captured log (server threads log late)."""
    deadline = time.monotonic() + timeout
    while text not in caplog.text:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def basic(user: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{USERS.get(user, user)}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def client_context(
    pki: TestPKI, case: str | None = None, max_version: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if case is not None:
        context.load_cert_chain(*pki.pair(case))
    if max_version is not None:
        context.maximum_version = max_version
    return context


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def https(
    port: int,
    context: ssl.SSLContext,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One request on a fresh HTTPS connection (raises ``ssl.SSLError``/``OSError``
    when the handshake is refused)."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        reply = conn.getresponse()
        data = reply.read()
        return Reply(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)
    finally:
        conn.close()


@dataclass
class CurlResult:
    returncode: int
    status: int  # 0 when no HTTP answer came
    body: bytes
    stderr: str


def curl(
    url: str,
    pki: TestPKI,
    case: str | None = None,
    *args: str,
    interface: str | None = None,
    timeout: float = 20,
) -> CurlResult:
    """curl over HTTPS trusting the test CA, presenting ``case``'s certificate."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"curl-{os.getpid()}-{id(args)}.out"
    cmd = ["curl", "-sS", "--cacert", str(pki.ca), "-o", str(out), "-w", "%{http_code}"]
    if case is not None:
        cert, key = pki.pair(case)
        cmd += ["--cert", cert, "--key", key]
    if interface is not None:
        cmd += ["--interface", interface]
    run = subprocess.run([*cmd, *args, url], capture_output=True, text=True, timeout=timeout)
    body = out.read_bytes() if out.exists() else b""
    out.unlink(missing_ok=True)
    code = run.stdout.strip()[-3:]
    return CurlResult(run.returncode, int(code) if code.isdigit() else 0, body, run.stderr)


HOME = "/tempZone/home"
SECRET = b"bob's secret\n"
NOTES = b"alice's notes\n"


def write_object(session: Any, path: str, data: bytes) -> None:
    with session.data_objects.open(path, "w") as stream:
        stream.write(data)


def seed_zone(zone: Any) -> None:
    """alice/alice and bob/bob with a file each (bob's readable by bob only), a shared
    collection, and DNs in the zone's registry: alice's, and the three-RDN
    ``/O=Test/CN=Eve/O=Admin`` for rods."""
    from irods.access import iRODSAccess

    with zone.session() as rods:
        for user in ("alice", "bob"):
            rods.users.create(user, "rodsuser")
            rods.users.modify(user, "password", user)
        rods.collections.create(f"{HOME}/shared")
        write_object(rods, f"{HOME}/shared/readme.txt", b"shared\n")
        for user in ("alice", "bob"):
            rods.acls.set(iRODSAccess("read", f"{HOME}/shared", user))
            rods.acls.set(iRODSAccess("read", f"{HOME}/shared/readme.txt", user))
        rods.users.modify("alice", "addAuth", "/O=Test/CN=Alice")
        rods.users.modify("rods", "addAuth", "/O=Test/CN=Eve/O=Admin")
    for user, name, data in (("alice", "notes.txt", NOTES), ("bob", "secret.txt", SECRET)):
        with zone.session(user, user) as session:
            write_object(session, f"{HOME}/{user}/{name}", data)


def irods_tls_config(
    pki: TestPKI,
    zone: Any,
    chain: list[str] | None = None,
    client_certificates: str = "optional",
    **x509: Any,
) -> dict[str, Any]:
    """An iRODS share /irods over the zone's home (proxy user rods), HTTPS, chain
    [x509, ipallow, basic]; 127.0.0.4 is a gateway (service user bob) that may name users."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 20},
        "logging": {"access_log": False},
        "auth": {"chain": ["x509", "ipallow", "basic"] if chain is None else chain},
        "tls": tls_section(pki, client_certificates),
        "x509": {"gridmap": str(pki.gridmap), **x509},
        "ipallow": {
            "networks": [
                {"cidr": "127.0.0.4/32", "user": "bob", "on_behalf_header": "X-On-Behalf-Of"}
            ]
        },
        "shares": [
            {
                "path": "/irods",
                "backend": "irods",
                "options": {
                    "port": zone.port,
                    "root": "home",
                    "proxy_user": "rods",
                    "proxy_password": "rods",
                    "timeout": 20,
                },
            }
        ],
    }
