"""Grid-mapfiles (the Globus format) for the x509 authenticator.

One mapping per line: a DN, quoted when it contains spaces, then one or more local
user names separated by commas (the first is used); ``#`` starts a comment line::

    # DN                                     user
    "/O=Grid/OU=Lab/CN=Alice Smith"          alice
    "/O=Grid/OU=Other Lab/CN=Alice Smith"    alice
    /O=Grid/CN=Bob                           bob,bob2

Inside quotes, ``\\"`` is a quote; ``\\/`` is a slash inside a value (so a CN holding a
``/`` can be written without ambiguity). DNs may also be given in RFC 4514
(``"CN=Alice Smith,OU=Lab,O=Grid"``). Entries are compared with the certificate's
subject as (attribute, value) sequences (``certchain.parse_dn``), never as text.

``GridMap(path)`` re-reads the file when it changes (checked at most every few seconds);
a file that no longer parses is logged and the previous mapping kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from auth.certchain import DNError, DNParts, parse_dn
from auth.mapfile import MapFile

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_UNQUOTED = re.compile(r"(\S+)(.*)", re.DOTALL)


class GridMapError(ValueError):
    """A grid-mapfile that cannot be read; ``str()`` names the file and line."""


def _split_quoted(line: str, where: str) -> tuple[str, str]:
    """(DN, rest of the line) for a line starting with a quote."""
    dn: list[str] = []
    index = 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] == '"':
            dn.append('"')
            index += 2
            continue
        if char == "\\" and index + 1 < len(line):
            dn.append(line[index : index + 2])
            index += 2
            continue
        if char == '"':
            return "".join(dn), line[index + 1 :]
        dn.append(char)
        index += 1
    raise GridMapError(f"{where}: unterminated quoted DN")


def parse_line(line: str, where: str) -> tuple[DNParts, list[str]] | None:
    """One grid-mapfile line -> (DN parts, users), or ``None`` for blanks and comments."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    if line.startswith('"'):
        dn_text, rest = _split_quoted(line, where)
    else:
        dn_text, rest = _UNQUOTED.fullmatch(line).groups()  # type: ignore[union-attr]
    if rest and not rest[0].isspace():
        raise GridMapError(f"{where}: expected a space between the DN and the user names")
    users = [u.strip() for u in rest.strip().split(",")]
    if users == [""]:
        raise GridMapError(f"{where}: no user name after the DN")
    for user in users:
        if not USER_NAME.fullmatch(user):
            raise GridMapError(f"{where}: bad user name {user!r}")
    try:
        parts = parse_dn(dn_text)
    except DNError as exc:
        raise GridMapError(f"{where}: {exc}") from None
    return parts, users


def parse_gridmap(text: str, source: str) -> dict[DNParts, list[str]]:
    """The whole file; a DN listed twice gets the user names of both lines, in order."""
    mapping: dict[DNParts, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        entry = parse_line(line, f"{source}:{number}")
        if entry is None:
            continue
        parts, users = entry
        known = mapping.setdefault(parts, [])
        known.extend(u for u in users if u not in known)
    return mapping


def load_gridmap(path: str) -> dict[DNParts, list[str]]:
    """Read and parse ``path``; raise ``GridMapError`` (or ``OSError``)."""
    return parse_gridmap(Path(path).read_text(encoding="utf-8"), path)


class GridMap:
    """A grid-mapfile kept current: re-read when its mtime, size or inode change."""

    def __init__(self, path: str, check_every: float = 2.0) -> None:
        self.path = path
        self._file = MapFile(path, load_gridmap, "grid-mapfile", "DNs", check_every)

    def users(self, parts: DNParts) -> list[str]:
        """The users mapped to a DN (first one first); empty when it is not listed."""
        return list(self._file.current().get(parts, []))
