"""``python -m localgrid up|demo``: the local grid for the demo.

``up`` starts the local iRODS zone under ``DATA/irods`` and seeds the demo accounts
(alice/alice, bob/bob, each home with sample files, a shared collection); ``demo`` does the
same and then runs the gateway (``davprovider serve``) in front of it. Ctrl-C stops all.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from localgrid.irods import LocalZone

DEMO_USERS = {"alice": "alice", "bob": "bob"}
SAMPLES = {
    "README.txt": b"Welcome to the davprovider demo. This file lives in iRODS.\n",
    "data/sample.csv": b"time,value\n0,1.5\n1,2.5\n2,4.0\n",
}


def seed_irods(zone: LocalZone) -> None:
    """Create the demo users, their sample files and a shared collection (idempotent)."""
    from irods.access import iRODSAccess
    from irods.exception import UserDoesNotExist

    with zone.session() as rods:
        for user, password in DEMO_USERS.items():
            try:
                rods.users.get(user)
            except UserDoesNotExist:
                rods.users.create(user, "rodsuser")
                rods.users.modify(user, "password", password)
        shared = f"/{zone.zone}/home/shared"
        if not rods.collections.exists(shared):
            rods.collections.create(shared)
            with rods.data_objects.open(f"{shared}/notes.txt", "w") as fh:
                fh.write(b"Readable by alice and bob; alice may also write here.\n")
            rods.acls.set(iRODSAccess("read", shared, "bob"), admin=True)
            rods.acls.set(iRODSAccess("write", shared, "alice"), admin=True)
            rods.acls.set(iRODSAccess("read", f"{shared}/notes.txt", "bob"), admin=True)
            rods.acls.set(iRODSAccess("write", f"{shared}/notes.txt", "alice"), admin=True)
    for user, password in DEMO_USERS.items():
        with zone.session(user, password) as session:
            home = f"/{zone.zone}/home/{user}"
            for name, content in SAMPLES.items():
                path = f"{home}/{name}"
                if session.data_objects.exists(path):
                    continue
                session.collections.create(path.rsplit("/", 1)[0])
                with session.data_objects.open(path, "w") as fh:
                    fh.write(content)


def instructions(port: int) -> str:
    url = f"http://127.0.0.1:{port}/irods"
    return f"""
davprovider demo: the gateway is on {url}/   (Ctrl-C stops the gateway and the zone)
  accounts: alice/alice, bob/bob (homes {url}/alice/ and {url}/bob/, shared {url}/shared/)

  curl:     curl -u alice:alice {url}/alice/README.txt
            curl -u alice:alice -T local.txt {url}/alice/local.txt
            curl -u alice:alice -X PROPFIND -H 'Depth: 1' {url}/alice/
  rclone:   rclone lsl --webdav-url {url} --webdav-user alice \\
                --webdav-pass "$(rclone obscure alice)" :webdav:alice
  cadaver:  cadaver {url}/alice/          (user alice, password alice)
  davfs2:   mount -t davfs {url}/alice/ /mnt/dav   (as root; user alice, password alice)
  browser:  {url}/alice/
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localgrid", description=__doc__)
    parser.add_argument("command", choices=["up", "demo"])
    parser.add_argument("--data", type=Path, default=Path("var/demo"))
    parser.add_argument("--irods-port", type=int, default=1247)
    parser.add_argument("--port", type=int, default=8080, help="gateway port (demo)")
    parser.add_argument("--config", default="wsgidav.yaml", help="gateway config (demo)")
    args = parser.parse_args(argv)
    zone = LocalZone(args.data / "irods", port=args.irods_port)
    gateway: subprocess.Popen[Any] | None = None
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        zone.start()
        seed_irods(zone)
        print(f"local iRODS zone {zone.zone} on {zone.host}:{zone.port} (rods/rods)", flush=True)
        if args.command == "up":
            signal.pause()
            return 0
        cmd = [sys.executable, "-m", "davprovider", "serve", "--config", args.config]
        gateway = subprocess.Popen([*cmd, "--port", str(args.port)])
        print(instructions(args.port), flush=True)
        return gateway.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if gateway is not None and gateway.poll() is None:
            gateway.terminate()
            gateway.wait(10)
        zone.stop()


if __name__ == "__main__":
    sys.exit(main())
