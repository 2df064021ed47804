"""cadaver (neon) scripted sessions on each share: commands on stdin, the password in
a ``.netrc`` of a temporary ``HOME``; each session's output is checked line by line,
and what it did is checked again over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.client_tools import Share, active_locks, cadaver, walk
from tests.helpers.davxml import hrefs
from tests.helpers.external_tools import require_tool

NS = "http://example.org/ns"
CONTENT = b"cadaver was here\n" * 1000


@pytest.fixture
def session(share: Share, tmp_path: Path):
    """``session(folder, commands)`` -> output of a cadaver session opened on the
    share's ``folder`` (made by MKCOL first), with ``upload.txt`` in its working dir."""
    binary = require_tool("cadaver")
    (tmp_path / "upload.txt").write_bytes(CONTENT)

    def run(folder: str, commands: list[str]) -> str:
        assert share.request("MKCOL", folder).status == 201
        output = cadaver(binary, share.url(folder) + "/", tmp_path, commands)
        assert "Could not" not in output and "failed" not in output, output
        return output

    run.home = tmp_path  # type: ignore[attr-defined]
    return run


def test_cadaver_mkcol_put_get_ls_copy_move_delete(session, share):
    output = session(
        "files",
        [
            "mkcol docs",
            "cd docs",
            "put upload.txt",
            'put upload.txt "with space #1.txt"',
            "ls",
            "get upload.txt back.txt",
            "copy upload.txt copied.txt",
            "move upload.txt moved.txt",
            "delete copied.txt",
            "cd ..",
            "mkcol gone",
            "rmcol gone",
            "ls docs",
        ],
    )

    assert output.count("succeeded.") == 11, output
    assert "Creating `docs': succeeded." in output
    assert f"Uploading upload.txt to `{share.root}/files/docs/upload.txt':" in output
    listing = output.split("Listing collection", 1)[1].split("dav:", 1)[0]
    assert "upload.txt" in listing and "with space #1.txt" in listing, listing
    assert str(len(CONTENT)) in listing, listing
    assert (session.home / "back.txt").read_bytes() == CONTENT
    members = sorted(p.removeprefix(f"{share.root}/files/") for p in walk(share, "files"))
    assert members == ["", "docs/", "docs/moved.txt", "docs/with space #1.txt"], members
    assert share.request("GET", "files/docs/moved.txt").body == CONTENT


def test_cadaver_propset_propget_and_propdel(session, share):
    output = session(
        "props",
        [
            "put upload.txt",
            f"set namespace {NS}",
            "propset upload.txt colour blue",
            "propget upload.txt colour",
            "propset upload.txt size large",
            "propdel upload.txt size",
            "propget upload.txt",
        ],
    )

    assert "Value of colour is: blue" in output, output
    asked = f'<propfind xmlns="DAV:"><prop><colour xmlns="{NS}"/><size xmlns="{NS}"/></prop>'
    asked += "</propfind>"
    reply = share.request("PROPFIND", "props/upload.txt", asked.encode(), Depth="0")
    props = next(iter(hrefs(reply.body).values()))
    assert props == {f"{{{NS}}}colour": "blue"}, reply.body


def test_cadaver_propnames_lists_the_dead_properties(session):
    output = session(
        "propnames",
        [
            "put upload.txt",
            f"set namespace {NS}",
            "propset upload.txt colour blue",
            "propnames upload.txt",
        ],
    )

    names = output.split("Fetching property names", 1)[1]
    assert "colour" in names and "getcontentlength" in names, output


def test_cadaver_lock_discover_unlock(session, share):
    output = session(
        "locks",
        ["put upload.txt", "lock upload.txt", "discover upload.txt", "unlock upload.txt"],
    )

    assert "Locking `upload.txt': succeeded." in output, output
    assert "Lock token <opaquelocktoken:" in output, output
    assert "Scope: exclusive  Type: write" in output, output
    assert "Unlocking `upload.txt': succeeded." in output, output
    assert active_locks(share, "locks") == []
