"""The HTML of the web interface: a folder's listing and the delete confirmation.

Pure rendering: ``Row`` and ``Folder`` describe what to show, the functions here
return the page. Every name and href goes through ``html.escape`` (hrefs are
percent-encoded first), so a file called ``<script>`` is text everywhere. Sizes are
binary units (``47.7 MiB``, the exact count in the tooltip), dates UTC. Sorting
(``?sort=name|size|date&order=asc|desc``) is done here with plain links: folders
first, then files, each group in the chosen order.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from davprovider.dav.assets import SCRIPT, STYLE

SORT_KEYS = ("name", "size", "date")
_COLUMNS = (("name", "Name"), ("size", "Size"), ("date", "Modified (UTC)"))
HREF_SAFE = "/!*'(),$-_|.~"
_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")
_DONE = {
    "upload": "Uploaded.",
    "mkdir": "Folder created.",
    "delete": "Deleted.",
    "rename": "Renamed.",
}


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def href(path: str) -> str:
    """An unquoted absolute path as an escaped, percent-encoded href."""
    return esc(quote(path, safe=HREF_SAFE))


def link_to(path: str, keep: str, *params: str) -> str:
    """``href(path)`` with the query ``params`` and ``keep`` (a ticket) appended."""
    query = "&".join([*params, *([keep] if keep else [])])
    return href(path) + (esc("?" + query) if query else "")


def human_size(size: int | None) -> str:
    """``1.5 KiB``, ``47.7 MiB``, ``953 MiB``: binary units, 3 significant digits."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def utc_time(when: float | None) -> tuple[str, str]:
    """``(shown, machine)``: ``2026-12-05 04:22`` and ``2026-12-05T04:22:37Z``."""
    if when is None:
        return "", ""
    moment = time.gmtime(when)
    return time.strftime("%Y-%m-%d %H:%M", moment), time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)


@dataclass(frozen=True)
class Row:
    name: str
    path: str  # unquoted absolute URL path (a folder's ends with "/")
    is_dir: bool
    size: int | None
    modified: float | None


@dataclass(frozen=True)
class Folder:
    """What a listing page shows. ``path`` is the unquoted URL path below ``mount``
    (WsgiDAV's mount path, usually empty); it ends with "/". Rows carry whole paths."""

    path: str
    mount: str
    rows: Sequence[Row]
    user: str | None
    writable: bool
    zippable: bool
    sort: str = "name"
    descending: bool = False
    done: str | None = None
    share_link: Callable[[Row], str | None] | None = field(default=None)
    origin: str = ""  # scheme://host[:port] as the browser reached us
    keep: str = ""  # query every link carries (``ticket=ID`` for a ticket's visitor)

    @property
    def url(self) -> str:
        return self.mount + self.path


def parse_sort(query: dict[str, list[str]]) -> tuple[str, bool]:
    """``(key, descending)`` from ``?sort=&order=``; unknown values mean name, asc."""
    key = (query.get("sort") or ["name"])[0]
    key = key if key in SORT_KEYS else "name"
    return key, (query.get("order") or ["asc"])[0] == "desc"


def sorted_rows(rows: Sequence[Row], key: str, descending: bool) -> list[Row]:
    """Folders first, then files; each group by ``key`` (name breaks ties)."""

    def by_key(row: Row) -> tuple[float, str, str]:
        number = {"size": row.size, "date": row.modified}.get(key)
        return (number or 0.0, row.name.casefold(), row.name)

    result: list[Row] = []
    for group in ([r for r in rows if r.is_dir], [r for r in rows if not r.is_dir]):
        result.extend(sorted(group, key=by_key, reverse=descending))
    return result


def page(title: str, body: str, nonce: str, folder_href: str = "", keep: str = "") -> bytes:
    """A whole page around ``body`` (already escaped HTML); ``folder_href`` and ``keep``
    tell the script where dropped files go."""
    data = f' data-folder="{folder_href}" data-query="{esc(keep)}"' if folder_href else ""
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="same-origin"><title>{esc(title)}</title>'
        f'<style nonce="{nonce}">{STYLE}</style></head>'
        f"<body{data}><main>{body}</main>"
        f'<script nonce="{nonce}">{SCRIPT}</script></body></html>\n'
    )
    return text.encode("utf-8")


def breadcrumbs(folder: Folder) -> tuple[str, str]:
    """``All shares / memory / docs``, each a link but the last; and the parent link."""
    parts = [p for p in folder.path.split("/") if p]
    items = [("All shares", folder.mount + "/")]
    for index, part in enumerate(parts):
        items.append((part, folder.mount + "/" + "/".join(parts[: index + 1]) + "/"))
    crumbs = []
    for index, (label, target) in enumerate(items):
        target = link_to(target, folder.keep if index else "")
        current = ' aria-current="page"' if index == len(items) - 1 else ""
        crumbs.append(f'<li><a href="{target}"{current}>{esc(label)}</a>')
    who = f'<span class="who">Signed in as {esc(folder.user)}</span>' if folder.user else ""
    nav = f'<nav aria-label="Breadcrumbs"><ol class="crumbs">{"".join(crumbs)}</ol></nav>'
    parent = ""
    if len(items) > 1:
        up = link_to(items[-2][1], folder.keep if len(items) > 2 else "")
        parent = f'<a class="up" href="{up}" rel="up">&uarr; Parent folder</a>'
    return f"<header>{nav}{who}</header>", parent


def listing_page(folder: Folder, nonce: str) -> bytes:
    parts = [p for p in folder.path.split("/") if p]
    title = parts[-1] if parts else "All shares"
    header, parent = breadcrumbs(folder)
    done = _DONE.get(folder.done or "")
    body = [header, f"<h1>{esc(title)}</h1>"]
    if done:
        body.append(f'<p class="notice" role="status">{esc(done)}</p>')
    body.append(_tools(folder))
    body.append(parent)
    body.append(_table(folder))
    body.append(
        "<footer>To open this folder in a file manager or sync client, connect to it "
        f"over WebDAV at <code>{esc(folder.origin)}{href(folder.url)}</code></footer>"
    )
    writable = href(folder.url) if folder.writable else ""
    return page(title, "".join(body), nonce, writable, folder.keep)


def _tools(folder: Folder) -> str:
    action = link_to(folder.url, folder.keep)
    tools = []
    if folder.writable:
        tools.append(
            f'<form method="post" action="{action}" enctype="multipart/form-data">'
            '<input type="file" name="file" multiple required aria-label="Files to upload">'
            "<button>Upload</button></form>"
            f'<form method="post" action="{action}"><input type="hidden" name="action" '
            'value="mkdir"><input type="text" name="name" required placeholder="New folder" '
            'aria-label="New folder name"><button>Create folder</button></form>'
        )
    if folder.zippable:
        zipped = link_to(folder.url, folder.keep, "download=zip")
        tools.append(f'<a class="button" href="{zipped}">Download as zip</a>')
    if not tools:
        return ""
    drop = ""
    if folder.writable:
        drop = (
            '<div id="drop">Drop files here to upload them'
            '<progress id="progress" max="1" value="0"></progress>'
            '<div id="drop-state" role="status"></div></div>'
        )
    return f'<div class="tools">{"".join(tools)}</div>{drop}'


def _table(folder: Folder) -> str:
    rows = sorted_rows(folder.rows, folder.sort, folder.descending)
    if not rows:
        return '<p class="empty">This folder is empty.</p>'
    head = "".join(_sort_header(folder, key, label) for key, label in _COLUMNS)
    actions = '<th class="actions">Actions</th>' if folder.writable else ""
    body = "".join(_row(folder, row) for row in rows)
    return f"<table><thead><tr>{head}{actions}</tr></thead><tbody>{body}</tbody></table>"


def _sort_header(folder: Folder, key: str, label: str) -> str:
    active = folder.sort == key
    order = "asc" if active and folder.descending else ("desc" if active else "asc")
    classes = ("on desc" if folder.descending else "on") if active else ""
    sort = "ascending" if not folder.descending else "descending"
    aria = f' aria-sort="{sort}"' if active else ""
    link = link_to(folder.url, folder.keep, f"sort={key}", f"order={order}")
    return f'<th class="{key}"{aria}><a class="{classes}" href="{link}">{esc(label)}</a></th>'


def _row(folder: Folder, row: Row) -> str:
    shown, machine = utc_time(row.modified)
    size = "" if row.is_dir else human_size(row.size)
    exact = "" if row.is_dir or row.size is None else f' title="{row.size} bytes"'
    kind = "dir" if row.is_dir else "file"
    name = (
        f'<a href="{link_to(row.path, folder.keep)}"><span class="icon" aria-hidden="true"></span>'
        f"{esc(row.name)}{'/' if row.is_dir else ''}</a>"
    )
    date = f'<time datetime="{machine}">{shown}</time>' if machine else ""
    cells = [
        f'<td class="name">{name}</td>',
        f'<td class="size"{exact}>{size}</td>',
        f'<td class="date">{date}</td>',
    ]
    if folder.writable:
        cells.append(f'<td class="actions">{_menu(folder, row)}</td>')
    return f'<tr class="{kind}">{"".join(cells)}</tr>'


def _menu(folder: Folder, row: Row) -> str:
    """Rename and delete (and the folder's zip, a share link when one exists)."""
    action = link_to(folder.url, folder.keep)
    name = esc(row.name)
    extra = ""
    if row.is_dir and folder.zippable:
        zipped = link_to(row.path, folder.keep, "download=zip")
        extra += f'<a href="{zipped}">Download as zip</a>'
    link = folder.share_link(row) if folder.share_link else None
    if link:
        extra += f' <a href="{esc(link)}">Share link</a>'
    return (
        f'<details class="menu"><summary aria-label="Actions for {name}">Actions</summary>'
        f'<div class="panel"><form method="post" action="{action}">'
        '<input type="hidden" name="action" '
        f'value="rename"><input type="hidden" name="name" value="{name}">'
        f'<input type="text" name="to" value="{name}" required aria-label="New name">'
        "<button>Rename</button></form>"
        f'<form method="post" action="{action}" class="delete"><input type="hidden" '
        f'name="action" value="delete"><input type="hidden" name="name" value="{name}">'
        f'<button class="danger">Delete</button></form>{extra}</div></details>'
    )


def confirm_page(folder_path: str, name: str, is_dir: bool, nonce: str, keep: str = "") -> bytes:
    """Asked when a delete arrives unconfirmed (the browser ran no script)."""
    action = link_to(folder_path, keep)
    what = "the folder" if is_dir else "the file"
    more = " and everything in it" if is_dir else ""
    body = (
        f"<h1>Delete {what} {esc(name)}{more}?</h1><p>This cannot be undone.</p>"
        f'<form method="post" action="{action}"><input type="hidden" name="action" '
        f'value="delete"><input type="hidden" name="name" value="{esc(name)}">'
        '<input type="hidden" name="confirmed" value="yes">'
        f'<button class="danger">Delete</button> <a href="{action}">Cancel</a></form>'
    )
    return page(f"Delete {name}?", body, nonce)
