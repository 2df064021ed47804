"""``python -m localgrid up|demo``: the local grid for the demo.

``up`` starts the local iRODS zone under ``DATA/irods`` and a real OpenStack Swift under
``DATA/swift`` and seeds the demo accounts (alice/alice, bob/bob: iRODS homes with sample
files and a shared collection; Swift accounts with a ``sample`` container); ``demo`` does the
same and then runs the gateway (``davprovider serve``) in front of both. Ctrl-C stops all.
``demo --gateways N``: N gateways behind HAProxy sharing a Redis instead (``fleet.py``).

``demo --tls``: HTTPS on the same port with a demo PKI under ``DATA/pki`` (CA, server
certificate, alice's and bob's RSA certificates, from which Globus ``grid-proxy-init``
makes proxies, and PKCS#12 bundles, a proxy of alice's, a CRL revoking bob, the CA as a
hashed directory ``certificates/``), a grid-mapfile, the DNs in the zone's registry too,
and a gateway config ``DATA/pki/gateway-tls.yaml`` (chain x509 then basic; certificate
logins act through the rodsadmin proxy session on iRODS and as the user's own account on
Swift).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from localgrid.fleet import Fleet, stop_once
from localgrid.irods import LocalZone
from localgrid.pki import DemoPKI
from localgrid.swift import LocalSwift, ensure_swift_venv
from localgrid.token import demo_tokens, issue

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


def seed_swift(swift: LocalSwift) -> None:
    """Give alice's and bob's Swift accounts a ``sample`` container with a file (idempotent)."""
    from swiftclient.client import Connection

    for user, key in DEMO_USERS.items():
        conn = Connection(authurl=swift.auth_url, user=f"{user}:{user}", key=key, retries=2)
        try:
            conn.put_container("sample")
            conn.put_object(
                "sample", "hello.txt", contents=f"Hello {user}, this object lives in Swift.\n"
            )
        finally:
            conn.close()


def instructions(port: int, data: Path) -> str:
    url = f"http://127.0.0.1:{port}/irods"
    token = f"python -m localgrid --data {data} token"
    return f"""
davprovider demo: the gateway is on {url}/   (Ctrl-C stops the gateway and the zone)
  accounts: alice/alice, bob/bob (homes {url}/alice/ and {url}/bob/, shared {url}/shared/)
  swift:    http://127.0.0.1:{port}/swift/  (each user's own Swift account, container sample)

  curl:     curl -u alice:alice {url}/alice/README.txt
            curl -u alice:alice -T local.txt {url}/alice/local.txt
            curl -u alice:alice -X PROPFIND -H 'Depth: 1' {url}/alice/
  rclone:   rclone lsl --webdav-url {url} --webdav-user alice \\
                --webdav-pass "$(rclone obscure alice)" :webdav:alice
  cadaver:  cadaver {url}/alice/          (user alice, password alice)
  davfs2:   mount -t davfs {url}/alice/ /mnt/dav   (as root; user alice, password alice)
  browser:  http://127.0.0.1:{port}/   (the shares; folders as pages: upload, zip, rename)
  tokens:   T=$(.venv/bin/{token} alice 'storage.read:/irods/alice')   (demo issuer)
            curl -H "Authorization: Bearer $T" {url}/alice/README.txt
            curl -u alice:alice -X POST -H 'Content-Type: application/macaroon-request' \\
                -d '{{"caveats": ["activity:DOWNLOAD"], "validity": "PT10M"}}' \\
                {url}/alice/README.txt
"""


def demo_config(data: Path, config: str, zone: LocalZone, swift: LocalSwift) -> Path:
    """``config`` with the shares pointed at the ports this demo's zone and Swift use."""
    import yaml

    raw: dict[str, Any] = yaml.safe_load(Path(config).read_text()) or {}
    for share in raw.get("shares", []):
        options = share.setdefault("options", {})
        if share.get("backend") == "irods":
            options["port"] = zone.port
        elif share.get("backend") == "swift":
            options["auth_url"] = swift.auth_url
    demo_tokens(raw, data / "tokens", zone.admin_password, DEMO_USERS)
    path = data / "gateway.yaml"
    path.write_text(f"# {config} as python -m localgrid demo runs it\n" + yaml.safe_dump(raw))
    return path


def tls_config(raw: dict[str, Any], demo: DemoPKI) -> dict[str, Any]:
    """The gateway config ``raw`` over HTTPS with the demo PKI: optional client
    certificates (x509 first in the chain, then the plain demo's; the grid-mapfile
    maps each demo DN to its user), and on Swift shares each demo user's certificate
    acting as that user's own Swift account (``profiles``), as a password login would."""
    raw.update(demo.gateway_sections())
    raw["auth"] = {"chain": ["x509", *raw.get("auth", {}).get("chain", ["basic"])]}
    for share in raw.get("shares", []):
        if share.get("backend") == "swift":
            profiles = {u: {"user": f"{u}:{u}", "key": key} for u, key in DEMO_USERS.items()}
            share.setdefault("options", {}).setdefault("profiles", profiles)
    return raw


def tls_setup(data: Path, config: str, zone: LocalZone) -> tuple[Path, DemoPKI]:
    """The demo PKI (made once under DATA/pki), its DNs registered in the zone, and
    ``config`` turned into an HTTPS config with client certificates."""
    import yaml

    from localgrid.pki import ensure_demo_pki

    demo = ensure_demo_pki((data / "pki").resolve())
    with zone.session() as rods:
        for user, dn in demo.dns.items():
            rods.users.modify(user, "addAuth", dn)
    raw = tls_config(yaml.safe_load(Path(config).read_text()) or {}, demo)
    for share in raw.get("shares", []):
        if share.get("backend") == "irods":
            options = share.setdefault("options", {})
            options.update(port=zone.port, proxy_user="rods", proxy_password=zone.admin_password)
    p12 = demo.users["alice"][2]
    davfs2 = demo.folder / "davfs2.conf"
    davfs2.write_text(
        f"trust_ca_cert {demo.ca}\nclientcert {p12}\nsecrets {demo.folder / 'davfs2.secrets'}\n"
        "ask_auth 0\nbuf_size 64\ndelay_upload 0\n"
    )
    secrets = demo.folder / "davfs2.secrets"
    secrets.write_text(f"{p12} alice\n")
    secrets.chmod(0o600)
    path = demo.folder / "gateway-tls.yaml"
    path.write_text(
        "# made by python -m localgrid demo --tls\n" + yaml.safe_dump(raw, sort_keys=False)
    )
    return path, demo


def tls_instructions(port: int, demo: DemoPKI) -> str:
    url = f"https://127.0.0.1:{port}/irods"
    swift = f"https://127.0.0.1:{port}/swift"
    pki = demo.folder
    curl = f"curl --cacert {pki}/ca.pem"
    return f"""
davprovider demo over HTTPS: {url}/   (Ctrl-C stops the gateway and the zone)
  demo PKI in {pki}: CA ca.pem, CRL ca-crl.pem (bob is revoked), grid-mapfile,
  alice.pem/alice.key, alice.p12 (password alice), alice-proxy.pem (an RFC 3820 proxy)
  chain: x509, then basic (alice/alice and bob/bob still work)

  certificate:  {curl} --cert {pki}/alice.pem --key {pki}/alice.key {url}/alice/README.txt
  proxy:        {curl} --cert {pki}/alice-proxy.pem {url}/alice/README.txt
  upload:       {curl} --cert {pki}/alice.pem --key {pki}/alice.key -T local.txt {url}/alice/
  revoked bob:  {curl} --cert {pki}/bob.pem --key {pki}/bob.key {url}/bob/   (403: revoked)
  password:     {curl} -u bob:bob {url}/bob/README.txt
  swift:        {curl} --cert {pki}/alice.pem --key {pki}/alice.key {swift}/sample/hello.txt
  grid proxy:   grid-proxy-init -cert {pki}/alice.pem -key {pki}/alice.key -out {pki}/x509up_alice
  davix:        davix-ls -l --capath {pki}/certificates --cert {pki}/x509up_alice {swift}/sample/
  gfal2:        X509_USER_PROXY={pki}/x509up_alice X509_CERT_DIR={pki}/certificates (README)
  davfs2:       mkdir -p /mnt/dav && mount -t davfs -o conf={pki}/davfs2.conf {url}/alice/ /mnt/dav
                (as root; davfs2.conf presents alice.p12, its password is in davfs2.secrets)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localgrid", description=__doc__)
    parser.add_argument("command", choices=["up", "demo", "token"])
    parser.add_argument("words", nargs="*", help="token: USER 'SCOPE ...' (demo issuer)")
    parser.add_argument("--data", type=Path, default=Path("var/demo"))
    parser.add_argument("--irods-port", type=int, default=1247)
    parser.add_argument("--swift-port", type=int, default=18080, help="Swift proxy port")
    parser.add_argument("--port", type=int, default=8080, help="gateway port (demo)")
    parser.add_argument("--config", default="wsgidav.yaml", help="gateway config (demo)")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a demo PKI (demo)")
    parser.add_argument("--gateways", type=int, default=0, help="N gateways behind HAProxy")
    args = parser.parse_args(argv)
    if args.command == "token":
        if len(args.words) != 2:
            parser.error("token needs USER and 'SCOPE ...', e.g. alice 'storage.read:/irods/alice'")
        print(issue(args.data / "tokens", args.words[0], args.words[1]))
        return 0
    if args.gateways and args.tls:
        parser.error("--gateways with --tls: not in the demo (docs/deployment.md)")
    zone = LocalZone(args.data / "irods", port=args.irods_port)
    swift = LocalSwift(args.data / "swift", base_port=args.swift_port)
    gateway: subprocess.Popen[Any] | None = None
    fleet: Fleet | None = None
    signal.signal(signal.SIGTERM, stop_once)
    signal.signal(signal.SIGINT, stop_once)
    try:
        zone.start()
        seed_irods(zone)
        print(f"local iRODS zone {zone.zone} on {zone.host}:{zone.port} (rods/rods)", flush=True)
        ensure_swift_venv()
        swift.start()
        seed_swift(swift)
        print(f"local Swift on {swift.auth_url} (alice:alice/alice, bob:bob/bob)", flush=True)
        if args.command == "up":
            signal.pause()
            return 0
        config = demo_config(args.data, args.config, zone, swift)
        demo = None
        if args.tls:
            config, demo = tls_setup(args.data, str(config), zone)
        if args.gateways:
            fleet = Fleet(args.data, config, args.gateways, args.port)
            fleet.start()
            print(instructions(args.port, args.data) + fleet.instructions(), flush=True)
            while True:
                signal.pause()
        cmd = [sys.executable, "-m", "davprovider", "serve", "--config", str(config)]
        gateway = subprocess.Popen([*cmd, "--port", str(args.port)])
        text = (
            instructions(args.port, args.data)
            if demo is None
            else tls_instructions(args.port, demo)
        )
        print(text, flush=True)
        return gateway.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if fleet is not None:
            fleet.stop()
        if gateway is not None and gateway.poll() is None:
            gateway.terminate()
            gateway.wait(10)
        swift.stop()
        zone.stop()


if __name__ == "__main__":
    sys.exit(main())
