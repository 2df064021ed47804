"""davfs2 mounts each share (as root, FUSE), with the README's davfs2.conf lines
(``use_locks 1``, ``buf_size 64``...): a tree is copied in, files and folders renamed,
deleted and made, a file held open for writing is locked, and after ``umount`` every
lock is released; a second mount (fresh cache) copies the tree out equal.

Needs ``mount.davfs`` (Debian ``davfs2``), root and ``/dev/fuse``; skipped without
them (a missing davfs2 fails in CI)."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.client_tools import (
    AccessLog,
    MiB,
    Share,
    active_locks,
    davfs2,
    diff_r,
    make_tree,
    walk,
)
from tests.helpers.external_tools import require_tool
from tests.helpers.irods_gateway import TEMP

#: answers that are not failures: the Basic challenge, and davfs2 asking before it creates
EXPECTED_ERRORS = {("OPTIONS", 401), ("PROPFIND", 404), ("HEAD", 404), ("MKCOL", 405)}


@pytest.fixture
def mount_davfs() -> str:
    binary = require_tool("mount.davfs")
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        pytest.skip("davfs2 mounts need root and /dev/fuse")
    return binary


def change(tree: Path) -> None:
    """What the test does inside the mount, done the same way to the expected tree."""
    assert (tree / "what? 006.bin").is_file()
    (tree / "a folder" / "with space 001.bin").rename(tree / "a folder" / "renamed #1 ü.bin")
    (tree / "ünï 文件夹").rename(tree / "renamed folder & co")
    (tree / "plain 000.bin").unlink()
    shutil.rmtree(tree / "q?&")
    (tree / "new" / "deeper % folder").mkdir(parents=True)
    (tree / "new" / "empty folder").mkdir()
    (tree / "new" / "deeper % folder" / "note?.txt").write_text("made in the mount\n")
    (tree / "what? 006.bin").write_bytes(b"overwritten, shorter")
    (tree / "sub#1" / "deeper %" / "hash#tag 003.bin").write_bytes(b"overwritten" * 999)


def test_davfs2_copies_a_tree_in_and_out_and_releases_every_lock(
    share: Share, mount_davfs: str, tmp_path: Path
) -> None:
    expected = tmp_path / "expected"
    make_tree(expected, 30, large=(3 * MiB, 300_000))
    (expected / "empty folder").mkdir()
    url = share.url() + "/"
    log = AccessLog(share.gateway)

    with davfs2(mount_davfs, url) as mounts:
        point = mounts.mount("first")
        shutil.copytree(expected, point / "tree")
        change(point / "tree")
        change(expected)
        with open(point / "tree" / "held open.txt", "wb") as held:
            held.write(b"written while locked\n")
            held.flush()
            locked_while_open = active_locks(share, "tree")
        (expected / "held open.txt").write_bytes(b"written while locked\n")
        assert os.listdir(point / "lost+found") == []
        umount_output = mounts.umount(point)

        assert "error" not in umount_output.lower(), umount_output
        assert f"{share.root}/tree/held open.txt" in locked_while_open
        assert active_locks(share) == []
        requests = log.requests()
        failed = [r for r in requests if r[2] >= 400 and (r[0], r[2]) not in EXPECTED_ERRORS]
        assert not failed, failed
        taken = Counter(p for m, p, s in requests if m == "LOCK")
        released = Counter(p for m, p, s in requests if m == "UNLOCK")
        assert taken and taken == released, (taken - released, released - taken)
        members = walk(share, "tree")
        assert not [p for p in members if Path(p.rstrip("/")).name.startswith(TEMP)]

        point = mounts.mount("second")  # a fresh cache: everything comes from the share
        copied = tmp_path / "copied"
        shutil.copytree(point / "tree", copied)
        mounts.umount(point)

    compared = diff_r(expected, copied)
    assert compared.returncode == 0, compared.stdout[-3000:] + compared.stderr
    assert (copied / "new" / "empty folder").is_dir() and (copied / "empty folder").is_dir()
