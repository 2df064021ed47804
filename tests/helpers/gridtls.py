"""Grid endpoints over HTTPS as a grid user meets them: the demo PKI (RSA, so Globus
``grid-proxy-init`` makes a proxy of alice's certificate), gateways serving ``/irods`` and
``/swift`` (``grid.grid_config``) with certificate logins mapped by the demo grid-mapfile,
their own token keys (``bearer``) and the demo CA trusted for third-party copies, and the
clients' environment (``X509_USER_PROXY``, ``X509_CERT_DIR``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from localgrid.irods import LocalZone
from localgrid.pki import DemoPKI
from localgrid.swift import LocalSwift
from tests.helpers.external_tools import require_tool
from tests.helpers.grid import grid_config
from tests.helpers.tokens import key_file


def grid_tls_config(
    zone: LocalZone,
    swift: LocalSwift,
    demo: DemoPKI,
    keys: Path,
    chain: tuple[str, ...] = ("bearer", "x509", "basic"),
) -> dict[str, Any]:
    """``grid_config`` over HTTPS with the demo PKI: optional client certificates (the
    demo grid-mapfile), a token key of its own in ``keys`` (a folder), passwordless
    access for certificate and token logins (iRODS proxy user, a Swift profile), and
    the demo CA trusted when it reaches another gateway (``tpc.ca_file``)."""
    config = grid_config(zone, swift, chain=chain)
    config.update(demo.gateway_sections())
    config["bearer"] = {"keys": [key_file(keys)]}
    config["tpc"]["ca_file"] = str(demo.ca)
    irods, swift_options = (share["options"] for share in config["shares"])
    irods |= {"proxy_user": "rods", "proxy_password": "rods"}
    swift_options["profiles"] = {"alice": {"user": "alice:alice", "key": "alice"}}
    return config


def grid_proxy_init(demo: DemoPKI, user: str = "alice") -> Path:
    """An RFC 3820 proxy of ``user``'s demo certificate, made by ``grid-proxy-init``."""
    tool = require_tool("grid-proxy-init")
    cert, key, _ = demo.users[user]
    out = demo.folder / f"x509up_{user}"
    command = [tool, "-cert", str(cert), "-key", str(key), "-out", str(out)]
    run = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    return out


def proxy_env(demo: DemoPKI, proxy: Path) -> dict[str, str]:
    """The environment of a grid client with ``proxy``, trusting the demo CA."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("X509_", "PYTHON"))}
    return {**clean, "X509_USER_PROXY": str(proxy), "X509_CERT_DIR": str(demo.ca_dir)}
