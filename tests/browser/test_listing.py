"""The listing's rendering: sizes, sorting, escaping, links that keep a ticket."""

from __future__ import annotations

import re

import pytest

from davprovider.dav import listing
from davprovider.dav.listing import Folder, Row


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
     (50_000_000, "47.7 MiB"), (999 << 20, "999 MiB"), (5 << 30, "5.0 GiB"), (None, "")],
)  # fmt: skip
def test_human_sizes(size: int | None, shown: str) -> None:
    assert listing.human_size(size) == shown


def rows() -> list[Row]:
    return [
        Row("b.txt", "/s/b.txt", False, 30, 300.0),
        Row("A.txt", "/s/A.txt", False, 20, 100.0),
        Row("zdir", "/s/zdir/", True, None, 50.0),
        Row("adir", "/s/adir/", True, None, 400.0),
        Row("c.txt", "/s/c.txt", False, 10, 200.0),
    ]


@pytest.mark.parametrize(
    ("key", "descending", "order"),
    [
        ("name", False, ["adir", "zdir", "A.txt", "b.txt", "c.txt"]),
        ("name", True, ["zdir", "adir", "c.txt", "b.txt", "A.txt"]),
        ("size", False, ["adir", "zdir", "c.txt", "A.txt", "b.txt"]),
        ("date", True, ["adir", "zdir", "b.txt", "c.txt", "A.txt"]),
    ],
)
def test_folders_first_then_the_chosen_order(key: str, descending: bool, order: list[str]) -> None:
    assert [r.name for r in listing.sorted_rows(rows(), key, descending)] == order


def test_unknown_sort_parameters_mean_name_ascending() -> None:
    assert listing.parse_sort({"sort": ["evil"], "order": ["sideways"]}) == ("name", False)


def test_every_link_and_form_keeps_a_ticket() -> None:
    folder = Folder(
        path="/s/", mount="", rows=rows(), user="anonymous", writable=True, zippable=True,
        keep="ticket=T1",
    )  # fmt: skip
    page = listing.listing_page(folder, "nonce").decode()
    targets = re.findall(r'(?:href|action)="([^"]*)"', page)
    in_share = [t for t in targets if t.startswith("/s/")]
    assert len(in_share) > 10
    assert all("ticket=T1" in t for t in in_share)
    assert 'data-query="ticket=T1"' in page
    assert 'href="/"' in page  # "All shares" needs no ticket


def test_names_are_text_in_cells_links_and_attributes() -> None:
    name = '"><svg onload=alert(1)>'
    folder = Folder(
        path="/s/", mount="", rows=[Row(name, "/s/" + name, False, 1, None)], user=None,
        writable=True, zippable=True,
    )  # fmt: skip
    page = listing.listing_page(folder, "n").decode()
    assert "<svg" not in page
    assert "&quot;&gt;&lt;svg onload=alert(1)&gt;" in page
    assert 'href="/s/%22%3E%3Csvg%20onload%3Dalert(1)%3E"' in page
