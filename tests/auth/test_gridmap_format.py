"""Grid-mapfiles in the Globus format (auth/gridmap.py)."""

from __future__ import annotations

import os
import time

import pytest

from auth.gridmap import GridMap, GridMapError, parse_gridmap

ALICE = (("O", "Grid"), ("OU", "Lab"), ("CN", "Alice Smith"))


def test_quoted_dns_comments_and_several_dns_per_user():
    text = """
# the lab's grid-mapfile
"/O=Grid/OU=Lab/CN=Alice Smith" alice
   "/O=Grid/OU=Other Lab/CN=Alice Smith"    alice
/O=Grid/CN=Bob bob,bob2
\t/O=Grid/CN=Carol\tcarol
"""
    mapping = parse_gridmap(text, "gm")
    assert mapping[ALICE] == ["alice"]
    assert mapping[(("O", "Grid"), ("OU", "Other Lab"), ("CN", "Alice Smith"))] == ["alice"]
    assert mapping[(("O", "Grid"), ("CN", "Bob"))] == ["bob", "bob2"]
    assert mapping[(("O", "Grid"), ("CN", "Carol"))] == ["carol"]
    assert len(mapping) == 4


def test_a_dn_listed_twice_keeps_both_users_in_order():
    mapping = parse_gridmap('"/O=Grid/CN=X" first\n"/O=Grid/CN=X" second,first\n', "gm")
    assert mapping[(("O", "Grid"), ("CN", "X"))] == ["first", "second"]


def test_escapes_inside_quotes():
    text = '"/O=Grid/CN=Say \\"hi\\"" quoted\n"/O=Grid/CN=a\\/b" slashed\n'
    mapping = parse_gridmap(text, "gm")
    assert mapping[(("O", "Grid"), ("CN", 'Say "hi"'))] == ["quoted"]
    assert mapping[(("O", "Grid"), ("CN", "a/b"))] == ["slashed"]


def test_rfc4514_entries_are_accepted():
    mapping = parse_gridmap('"CN=Alice Smith,OU=Lab,O=Grid" alice\n', "gm")
    assert mapping[ALICE] == ["alice"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('"/O=Grid/CN=A alice', "unterminated"),
        ('"/O=Grid/CN=A"alice', "expected a space"),
        ('"/O=Grid/CN=A"', "no user name"),
        ('"/O=Grid/CN=A" bad#name', "bad user name"),
        ('"/O=Grid/CN=A" a b', "bad user name"),
        ('"not a dn" a', "not a DN"),
    ],
)
def test_bad_lines_name_file_and_line(line, problem):
    with pytest.raises(GridMapError) as caught:
        parse_gridmap(f"# ok\n{line}\n", "/etc/grid-mapfile")
    assert str(caught.value).startswith("/etc/grid-mapfile:2: ")
    assert problem in str(caught.value)


def test_gridmap_rereads_a_changed_file_and_keeps_the_old_one_when_broken(tmp_path):
    path = tmp_path / "grid-mapfile"
    path.write_text('"/O=Grid/OU=Lab/CN=Alice Smith" alice\n')
    gridmap = GridMap(str(path), check_every=0)
    assert gridmap.users(ALICE) == ["alice"]
    path.write_text('"/O=Grid/OU=Lab/CN=Alice Smith" alice2\n')
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert gridmap.users(ALICE) == ["alice2"]
    path.write_text('"/O=Grid/OU=Lab/CN=Alice Smith alice3\n')  # broken
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert gridmap.users(ALICE) == ["alice2"]
    assert gridmap.users((("CN", "nobody"),)) == []
