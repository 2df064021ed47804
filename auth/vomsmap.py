"""The VOMS map file: FQAN patterns to local users, for the x509 authenticator.

One mapping per line, the pattern quoted when it contains spaces, then one or more user
names separated by commas (the first is used); ``#`` starts a comment line::

    "/atlas/Role=production" atlasprod
    "/atlas/Role=pilot"      atlaspilot
    "/atlas/*"               atlasuser

FQANs are compared in their short form: a trailing ``/Capability=NULL`` and a
``/Role=NULL`` are dropped (``/atlas/Role=NULL/Capability=NULL`` is ``/atlas``). In a
pattern, ``*`` matches any run of characters (``/`` included), and a pattern ending in
``/*`` also matches the group itself (``/atlas/*`` matches ``/atlas``,
``/atlas/higgs`` and ``/atlas/Role=production``).

The caller's FQANs are tried in the AC's order (the primary FQAN first); for each, the
first matching line wins. ``VomsMap(path)`` re-reads the file when it changes; a file
that no longer parses is logged and the previous mapping kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from auth.gridmap import USER_NAME
from auth.mapfile import MapFile

_LINE = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s+(\S.*?)\s*')


class VomsMapError(ValueError):
    """A map file that cannot be read; ``str()`` names the file and line."""


def short_fqan(fqan: str) -> str:
    """``/atlas/Role=NULL/Capability=NULL`` -> ``/atlas``; ``.../Role=x/Capability=NULL``
    -> ``.../Role=x``."""
    if fqan.endswith("/Capability=NULL"):
        fqan = fqan[: -len("/Capability=NULL")]
    if fqan.endswith("/Role=NULL"):
        fqan = fqan[: -len("/Role=NULL")]
    return fqan


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A pattern (see the module docstring) as an anchored regular expression."""
    short = short_fqan(pattern)
    body = ".*".join(re.escape(part) for part in short.split("*"))
    if short.endswith("/*"):
        body = f"{re.escape(short[:-2])}(?:/.*)?"
    return re.compile(body)


def parse_vomsmap(text: str, source: str) -> list[tuple[re.Pattern[str], str]]:
    """The (pattern, user) entries of a map file, in file order."""
    entries: list[tuple[re.Pattern[str], str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{source}:{number}"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise VomsMapError(f"{where}: expected a quoted FQAN pattern and a user name")
        pattern = match.group(1) if match.group(1) is not None else match.group(2)
        pattern = pattern.replace('\\"', '"')
        if not pattern.startswith("/"):
            raise VomsMapError(f"{where}: an FQAN pattern starts with /")
        users = [u.strip() for u in match.group(3).split(",")]
        for user in users:
            if not USER_NAME.fullmatch(user):
                raise VomsMapError(f"{where}: bad user name {user!r}")
        entries.append((compile_pattern(pattern), users[0]))
    return entries


def load_vomsmap(path: str) -> list[tuple[re.Pattern[str], str]]:
    """Read and parse ``path``; raise ``VomsMapError`` (or ``OSError``)."""
    return parse_vomsmap(Path(path).read_text(encoding="utf-8"), path)


class VomsMap:
    """A map file kept current: re-read when its mtime, size or inode change."""

    def __init__(self, path: str, check_every: float = 2.0) -> None:
        self.path = path
        self._file = MapFile(path, load_vomsmap, "VOMS map file", "lines", check_every)

    def user(self, fqans: Sequence[str]) -> str | None:
        """The user of the first FQAN (in order) that a line matches; ``None``: none."""
        entries = self._file.current()
        for fqan in fqans:
            short = short_fqan(fqan)
            for pattern, user in entries:
                if pattern.fullmatch(short):
                    return user
        return None
