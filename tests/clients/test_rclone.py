"""rclone (webdav backend, ``vendor=owncloud``) syncs a 500-file tree with awkward names
up to each share and back, then only what changed, and verifies by hashes.

One tree per share (module fixture ``synced``: made and synced up once); the tests run
in file order on it, and each one that changes the source syncs it again, so source and
share stay equal for the next. rclone runs with an empty ``--config`` file and an
on-the-fly remote (``client_tools.Rclone``); ``-v`` puts its final stats on stderr."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.client_tools import (
    Rclone,
    Share,
    diff_r,
    files_of,
    make_tree,
    parse_lsl,
    rewrite_same_size,
    set_mtime,
    transferred_files,
)
from tests.helpers.external_tools import require_tool

COUNT = 500


@dataclass
class Synced:
    rclone: Rclone
    source: Path
    names: list[str]
    first_sync: str
    work: Path

    @property
    def remote(self) -> str:
        return self.rclone.at("tree")

    def sync_up(self, *flags: str) -> str:
        return self.rclone.ok("sync", str(self.source), self.remote, "-v", *flags)


@pytest.fixture(scope="module")
def synced(share: Share, tmp_path_factory: pytest.TempPathFactory) -> Synced:
    work = tmp_path_factory.mktemp(f"rclone-{share.name}")
    rclone = Rclone(require_tool("rclone"), work / "home", share)
    source = work / "source"
    names = make_tree(source, COUNT)
    first = rclone.ok("sync", str(source), rclone.at("tree"), "-v")
    return Synced(rclone, source, names, first, work)


def digests(root: Path, algorithm: str) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.new(algorithm, path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


SUM = re.compile(r"^ *([0-9a-f]*)  (.*)$")


def parse_sums(output: str) -> dict[str, str]:
    """``rclone md5sum``/``sha1sum`` lines -> path -> hex (blank when the share has none)."""
    sums = {}
    for line in output.splitlines():
        match = SUM.match(line)
        assert match, line
        sums[match.group(2)] = match.group(1)
    return sums


def test_rclone_sync_up_then_down_into_an_empty_folder_gives_the_same_tree(synced):
    assert transferred_files(synced.first_sync) == COUNT, synced.first_sync[-2000:]
    down = synced.work / "down"
    down.mkdir()

    out = synced.rclone.ok("sync", synced.remote, str(down), "-v")

    assert transferred_files(out) == COUNT, out[-2000:]
    compared = diff_r(synced.source, down)
    assert compared.returncode == 0, compared.stdout[-3000:] + compared.stderr
    assert sorted(files_of(down)) == sorted(synced.names)


def test_rclone_second_sync_transfers_nothing(synced):
    out = synced.sync_up()
    assert transferred_files(out) == 0, out[-3000:]
    assert "There was nothing to transfer" in out, out[-3000:]

    by_hash = synced.sync_up("--checksum")  # sizes and hashes from the listing only
    assert transferred_files(by_hash) == 0, by_hash[-3000:]


def test_rclone_lsl_shows_the_source_sizes_and_mtimes_to_the_second(synced):
    listed = parse_lsl(synced.rclone.listing("lsl", synced.remote))
    expected = files_of(synced.source)
    assert listed.keys() == expected.keys()
    wrong = {rel: (listed[rel], want) for rel, want in expected.items() if listed[rel] != want}
    assert not wrong, f"{len(wrong)} of {len(expected)} differ, e.g. {list(wrong.items())[:3]}"


#: the hashes each share's Depth 1 listings carry in ``oc:checksums`` (rclone reads only
#: listings): iRODS every digest the upload computed; Swift the MD5 of its ETag (Depth 0
#: PROPFIND has SHA1 too, but rclone does not ask there)
LISTED_HASHES = {"irods": ("md5sum", "sha1sum"), "swift": ("md5sum",)}
ALGORITHMS = {"md5sum": "md5", "sha1sum": "sha1"}


def without_listed_hash(synced: Synced, share: Share) -> list[str]:
    """Files whose listing row has no hash: none (on Swift, a Static Large Object the
    gateway wrote carries its MD5 in its listing row, ``dav_md5``)."""
    del synced, share
    return []


def test_rclone_check_compares_the_md5_of_every_file(synced, share):
    features = synced.rclone.ok("backend", "features", synced.remote)
    assert '"md5"' in features and '"sha1"' in features, features  # owncloud vendor
    unhashed = without_listed_hash(synced, share)

    out = synced.rclone.ok("check", str(synced.source), synced.remote, "-v")

    assert "Using md5 for hash comparisons" in out, out
    assert "0 differences found" in out and f"{COUNT} matching files" in out, out
    if unhashed:
        assert f"{len(unhashed)} hashes could not be checked" in out, out
    else:
        assert "could not be checked" not in out, out
    for command in LISTED_HASHES[share.name]:
        listed = parse_sums(synced.rclone.listing(command, synced.remote))
        local = digests(synced.source, ALGORITHMS[command])
        wrong = sorted(rel for rel in local if listed.get(rel) != local[rel])
        assert wrong == sorted(unhashed), f"{command}: {len(wrong)} differ or miss: {wrong[:5]}"


def test_rclone_check_download_compares_the_files_without_a_listed_hash(synced, share):
    unhashed = without_listed_hash(synced, share) or [synced.names[0]]
    listed = synced.work / "unhashed.txt"
    listed.write_text("".join(f"{rel}\n" for rel in unhashed))

    out = synced.rclone.ok(
        "check", str(synced.source), synced.remote, "--download", "--files-from", str(listed)
    )

    assert f"{len(unhashed)} matching files" in out and "0 differences found" in out, out


def test_rclone_same_size_change_with_a_new_mtime_is_transferred(synced):
    changed = [synced.names[2], synced.names[100]]  # 3 MiB and a small one
    for rel in changed:
        path = synced.source / rel
        rewrite_same_size(path, mtime=int(path.stat().st_mtime) + 3600)

    out = synced.sync_up()

    assert transferred_files(out) == len(changed), out[-3000:]
    for rel in changed:
        assert f"{rel}: Copied (replaced existing)" in out, out[-3000:]
    check = synced.rclone.ok("check", str(synced.source), synced.remote)
    assert "0 differences found" in check, check
    listed = parse_lsl(synced.rclone.listing("lsl", synced.remote))
    assert all(listed[rel] == files_of(synced.source)[rel] for rel in changed)


def test_rclone_checksum_sync_finds_a_change_that_keeps_size_and_mtime(synced):
    rel = synced.names[150]
    rewrite_same_size(synced.source / rel, mtime=None)

    blind = synced.sync_up()  # size and mtime equal: rclone's default cannot tell
    assert transferred_files(blind) == 0, blind[-3000:]
    by_hash = synced.sync_up("--checksum")

    assert transferred_files(by_hash) == 1, by_hash[-3000:]
    assert f"{rel}: Copied (replaced existing)" in by_hash, by_hash[-3000:]
    check = synced.rclone.ok("check", str(synced.source), synced.remote)
    assert "0 differences found" in check, check


def test_rclone_new_mtime_alone_reaches_the_share_without_a_changed_listing(synced):
    rel = synced.names[7]
    new_mtime = int(time.time()) - 86400
    set_mtime(synced.source / rel, new_mtime)

    out = synced.sync_up()

    # rclone >= 1.6x sets it by PROPPATCH; older ones upload the file again
    assert (
        f"{rel}: Updated modification time in destination" in out
        or f"{rel}: Copied (replaced existing)" in out
    ), out[-3000:]
    assert transferred_files(out) <= 1, out[-3000:]
    listed = parse_lsl(synced.rclone.listing("lsl", synced.remote))
    assert listed[rel] == ((synced.source / rel).stat().st_size, new_mtime)
    assert transferred_files(synced.sync_up()) == 0


def test_rclone_sync_deletes_what_the_source_lost(synced, share):
    gone = [synced.names[20], synced.names[21]]
    for rel in gone:
        (synced.source / rel).unlink()

    out = synced.sync_up()

    for rel in gone:
        assert f"{rel}: Deleted" in out, out[-3000:]
        assert share.request("HEAD", f"tree/{rel}").status == 404
    listed = parse_lsl(synced.rclone.listing("lsl", synced.remote))
    assert listed.keys() == files_of(synced.source).keys()
