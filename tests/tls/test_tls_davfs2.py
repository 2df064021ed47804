"""davfs2 mounts the iRODS share over mutual TLS with alice's PKCS#12 bundle (its
password in a davfs2 secrets file), copies a tree in, and, after a fresh mount,
copies it out again; PRC sees the objects in alice's home.

Needs ``mount.davfs`` (Debian ``davfs2``), root and FUSE; skipped without them (a
missing davfs2 fails in CI)."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from localgrid import pki
from tests.helpers.external_tools import require_tool
from tests.helpers.tlsgw import HOME, irods_tls_config


@pytest.fixture
def davfs(test_pki, tmp_path):
    mount_davfs = require_tool("mount.davfs")
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        pytest.skip("davfs2 mounts need root and /dev/fuse")
    # the daemon drops root for the davfs2 user: pytest's tmp_path (0700) is out of reach
    shared = Path(tempfile.mkdtemp(prefix="davfs2-test-"))
    shared.chmod(0o755)
    ca = shared / "ca.pem"
    shutil.copyfile(test_pki.ca, ca)
    p12 = pki.write_p12(shared / "alice.p12", test_pki.issued["alice"], "alice-p12", "alice")
    secrets = pki.write_private(shared / "secrets", f"{p12} alice-p12\n".encode())
    cache = shared / "cache"
    cache.mkdir()
    cache.chmod(0o1777)
    conf = shared / "davfs2.conf"
    conf.write_text(
        f"trust_ca_cert {ca}\nclientcert {p12}\nsecrets {secrets}\n"
        f"cache_dir {cache}\nask_auth 0\nbuf_size 64\ndelay_upload 0\n"
    )
    mounted: list[Path] = []

    def mount(url: str, point: Path) -> Path:
        point.mkdir(exist_ok=True)
        run = subprocess.run(
            [mount_davfs, "-o", f"conf={conf}", url, str(point)],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert run.returncode == 0, run.stderr
        mounted.append(point)
        return point

    def unmount(point: Path) -> None:
        run = subprocess.run(["umount", str(point)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        mounted.remove(point)

    yield mount, unmount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=60)
    shutil.rmtree(shared, ignore_errors=True)


def make_tree(root: Path) -> None:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "readme.txt").write_text("a tree copied through davfs2\n")
    (root / "sub" / "data.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "deeper" / "big.bin").write_bytes(os.urandom(3_000_000))
    (root / "sub" / "deeper" / "empty").write_bytes(b"")


def test_davfs2_with_alice_pkcs12_copies_a_tree_in_and_out(
    davfs, test_pki, seeded_zone, start_tls_gateway, tmp_path
):
    mount, unmount = davfs
    gw = start_tls_gateway(irods_tls_config(test_pki, seeded_zone, ["x509"], "required"))
    url = f"https://127.0.0.1:{gw.port}/irods/alice/"
    source = tmp_path / "source"
    make_tree(source)

    point = mount(url, tmp_path / "mnt")
    shutil.copytree(source, point / "tree")
    unmount(point)  # waits until davfs2 has uploaded everything

    with seeded_zone.session() as rods:
        big = rods.data_objects.get(f"{HOME}/alice/tree/sub/deeper/big.bin")
        assert big.size == 3_000_000
        owners = {a.user_name for a in rods.acls.get(big) if a.access_name == "own"}
        assert owners == {"alice"}
        assert rods.collections.exists(f"{HOME}/alice/tree/empty-dir")

    point = mount(url, tmp_path / "mnt2")
    copied = tmp_path / "copied"
    shutil.copytree(point / "tree", copied)
    unmount(point)
    comparison = filecmp.dircmp(source, copied)
    assert not comparison.left_only and not comparison.right_only
    for path in source.rglob("*"):
        if path.is_file():
            assert filecmp.cmp(path, copied / path.relative_to(source), shallow=False), path
