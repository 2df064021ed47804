"""Grid endpoints for the third-party-copy tests: gateways serving ``/irods`` (the local
zone's homes) and ``/swift`` (the local Swift's accounts) side by side, and gfal2 run by
Debian's ``/usr/bin/python3`` (the ``gfal2`` module is not in the venv).

``gfal2_copy`` runs one ``filecopy`` with the HTTP plugin's fallback to a streamed copy
switched off (``ENABLE_FALLBACK_TPC_COPY=false``, ``ENABLE_STREAM_COPY=false``), so only a
real third-party copy can succeed; it reports the transfer types gfal2 tried.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from localgrid.irods import LocalZone
from localgrid.swift import LocalSwift
from tests.helpers.irods_gateway import ZONE

SYSTEM_PYTHON = "/usr/bin/python3"
GFAL2_HTTP_PLUGIN = Path("/usr/lib/x86_64-linux-gnu/gfal2-plugins/libgfal_plugin_http.so")


def grid_config(zone: LocalZone, swift: LocalSwift, chain: tuple[str, ...] = ("basic",)) -> dict:
    """``/irods`` and ``/swift`` on one gateway; with ``ipallow`` in ``chain``, callers
    from 127.0.0.1 act as alice (iRODS through the proxy user rods, Swift through a
    profile), as a grid endpoint trusts the FTS hosts."""
    irods = {"host": "127.0.0.1", "port": zone.port, "zone": ZONE, "root": "home", "timeout": 20}
    swift: dict[str, Any] = {"auth_url": swift.auth_url, "user_template": "{user}:{user}"}
    swift["segment_size"] = 4 << 20
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 16, "timeout": 30},
        "logging": {"access_log": False},
        "auth": {"chain": list(chain)},
        "tpc": {"marker_interval": 0.5},
        "shares": [
            {"path": "/irods", "backend": "irods", "options": irods},
            {"path": "/swift", "backend": "swift", "options": swift},
        ],
    }
    if "ipallow" in chain:
        config["ipallow"] = {"networks": [{"cidr": "127.0.0.1/32", "user": "alice"}]}
        irods |= {"proxy_user": "rods", "proxy_password": "rods"}
        swift["profiles"] = {"alice": {"user": "alice:alice", "key": "alice"}}
    return config


def require_gfal2() -> None:
    """Skip without Debian's python3-gfal2 and gfal2-plugin-http; fail when CI=true."""
    found = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gfal2"], capture_output=True, check=False
    ).returncode == 0 if os.path.exists(SYSTEM_PYTHON) else False  # fmt: skip
    if found and GFAL2_HTTP_PLUGIN.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("python3-gfal2 and gfal2-plugin-http are required in CI")
    pytest.skip("python3-gfal2 or gfal2-plugin-http is not installed")


_GFAL2_COPY = r"""
import json, sys
import gfal2
source, destination, mode, checksum, fallback = sys.argv[1:6]
ctx = gfal2.creat_context()
ctx.set_opt_string("HTTP PLUGIN", "DEFAULT_COPY_MODE", mode)
ctx.set_opt_boolean("HTTP PLUGIN", "ENABLE_FALLBACK_TPC_COPY", fallback == "yes")
ctx.set_opt_boolean("HTTP PLUGIN", "ENABLE_STREAM_COPY", fallback == "yes")
ctx.set_opt_boolean("HTTP PLUGIN", "INSECURE", True)  # the test PKI's CA is not the system's
params = ctx.transfer_parameters()
params.overwrite = True
params.timeout = 120
params.create_parent = True
if checksum:
    params.set_checksum(gfal2.checksum_mode.both, checksum, "")
events = []
params.event_callback = lambda e: events.append("%s %s" % (e.stage, e.description))
outcome = {"ok": True, "error": ""}
try:
    ctx.filecopy(params, source, destination)
except gfal2.GError as exc:
    outcome = {"ok": False, "error": str(exc)}
outcome["events"] = events
if checksum and outcome["ok"]:
    outcome["source_sum"] = ctx.checksum(source, checksum)
    outcome["destination_sum"] = ctx.checksum(destination, checksum)
print(json.dumps(outcome))
"""


def gfal2_copy(
    source: str, destination: str, mode: str, checksum: str = "ADLER32", fallback: bool = False
) -> dict:
    """One gfal2 ``filecopy`` (``mode``: ``3rd pull`` or ``3rd push``; no fallback to
    another mode unless ``fallback``)."""
    flag = "yes" if fallback else "no"
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", _GFAL2_COPY, source, destination, mode, checksum, flag],
        capture_output=True, text=True, timeout=300, check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": os.environ.get("HOME", "/")},
    )  # fmt: skip
    if run.returncode != 0 or not run.stdout.strip():
        raise AssertionError(f"gfal2 failed to run:\n{run.stderr[-3000:]}")
    result: dict = json.loads(run.stdout.strip().splitlines()[-1])
    return result
