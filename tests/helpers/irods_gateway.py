"""Helpers of the iRODS gateway tests: the gateway as a real process over the local iRODS zone.

``seed(zone)`` fills a fresh zone through python-irodsclient with:

- users ``alice``/``alice`` and ``bob``/``bob``, each with a file in their home
  (``/tempZone/home/bob/secret.txt`` is readable by bob only);
- ``/tempZone/home/shared``, made by rods, readable by alice and bob, with ``readme.txt``.

``start_gateway(config, dir)`` runs ``python -m davprovider serve --config FILE`` on a free
port of 127.0.0.1 (``serve_process``) and returns a ``GatewayProcess``, stopped by PID, once
it answers HTTP; its ``client`` is the in-process tests' ``Gateway`` (``gateway``).
"""

from __future__ import annotations

import base64
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from irods.access import iRODSAccess

from localgrid.irods import LocalZone
from tests.helpers import serve_process
from tests.helpers.gateway import Gateway
from tests.helpers.prc_io import read_object, write_object  # noqa: F401  (re-exported to the tests)

ZONE = "tempZone"
HOME = f"/{ZONE}/home"
SHARE = "/irods"
ALICE = ("alice", "alice")
BOB = ("bob", "bob")
SECRET = b"bob's secret\n"
NOTES = b"alice's notes\n"
README = b"shared with alice and bob\n"


def basic(user: tuple[str, str]) -> str:
    """An ``Authorization: Basic`` value."""
    return "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()


AUTH_ALICE = basic(ALICE)
TEMP = ".davprovider-upload-"  # name prefix of the hidden temporary objects of uploads
GENQUERY = 702  # the iRODS API number of a GenQuery (counted by the ``api_calls`` fixture)
LISTING = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/>
</D:prop></D:propfind>"""


class GatewayProcess(serve_process.GatewayProcess):
    """A running ``davprovider serve`` (see ``serve_process``) and a client (as alice)."""

    @cached_property
    def client(self) -> Gateway:
        return Gateway("127.0.0.1", self.port, {}, None, ALICE)


def gateway_config(zone_port: int) -> dict[str, Any]:
    """One share ``/irods`` over the zone's home collection, basic auth, port 0 (free)."""
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 16, "timeout": 20},
        "logging": {"level": "info", "access_log": True},
        "auth": {"chain": ["basic"]},
        "shares": [
            {
                "path": SHARE,
                "backend": "irods",
                "options": {
                    "host": "127.0.0.1",
                    "port": zone_port,
                    "zone": ZONE,
                    "root": "home",
                    "timeout": 20,
                },
            }
        ],
    }


def start_gateway(config: dict[str, Any], workdir: Path, timeout: float = 20.0) -> GatewayProcess:
    """Write ``config`` to ``workdir``, start the gateway, wait until it answers HTTP."""
    deadline = time.monotonic() + timeout
    running = serve_process.start_process(config, workdir, timeout, GatewayProcess)
    while True:  # the socket is bound; wait for an HTTP answer
        try:
            running.client.request("OPTIONS", "/", user=None)
            return running
        except OSError:
            if running.process.poll() is not None or time.monotonic() > deadline:
                running.stop()
                pytest.fail(f"gateway does not answer:\n{running.log_tail()}")
            time.sleep(0.05)


def seed(zone: LocalZone) -> None:
    """Users, homes and the shared collection (see the module docstring)."""
    with zone.session() as rods:
        for user, password in (ALICE, BOB):
            rods.users.create(user, "rodsuser")
            rods.users.modify(user, "password", password)
        shared = f"{HOME}/shared"
        rods.collections.create(shared)
        write_object(rods, f"{shared}/readme.txt", README)
        for user in ("alice", "bob"):
            rods.acls.set(iRODSAccess("read", shared, user))
            rods.acls.set(iRODSAccess("read", f"{shared}/readme.txt", user))
    for (user, password), name, data in ((ALICE, "notes.txt", NOTES), (BOB, "secret.txt", SECRET)):
        with zone.session(user, password) as session:
            write_object(session, f"{HOME}/{user}/{name}", data)


def leftovers(rods: Any, collection: str, expected: set[str]) -> list[str]:
    """Objects in ``collection`` other than ``expected``, listed as rods (who sees all)."""
    names = [obj.name for obj in rods.collections.get(collection).data_objects]
    return sorted(set(names) - expected)


def wait_for_no_leftovers(
    rods: Any, collection: str, *expected: str, timeout: float = 5.0
) -> list[str]:
    """Poll until the gateway removed its temporary upload objects; what is left."""
    deadline = time.monotonic() + timeout
    while (left := leftovers(rods, collection, set(expected))) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def wait_for_temporary(rods: Any, collection: str, timeout: float = 5.0) -> str:
    """Poll until an upload's temporary object shows in ``collection``; its name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = [obj.name for obj in rods.collections.get(collection).data_objects]
        temporaries = [name for name in names if name.startswith(TEMP)]
        if temporaries:
            return temporaries[0]
        time.sleep(0.05)
    raise AssertionError(f"no upload in progress in {collection}")


def chunk(data: bytes) -> bytes:
    """One chunk of a ``Transfer-Encoding: chunked`` body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"
