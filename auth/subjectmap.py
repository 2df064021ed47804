"""Token subjects -> users: a map file like the grid-mapfile, or a template.

The map file has one mapping per line: the claim's value (quoted when it holds spaces;
``\\"`` is a quote inside quotes), then the user; ``#`` starts a comment line::

    # subject                                   user
    "e2c9a3b0-7d1f-4c55-9a1e-3f0b6e2d9c11"      alice
    https://orcid.org/0000-0002-1825-0097       bob

Without a map file, the user is the template formatted with the token's string
claims (``"{sub}"``, ``"{preferred_username}"``); a claim it names that the token
lacks maps to nobody.
"""

from __future__ import annotations

import re
import string
from typing import Any

from auth.gridmap import USER_NAME

_LINE = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s+(\S+)\s*')


class MapFileError(ValueError):
    """A map file that cannot be read; ``str()`` names the file and line."""


def load_map(path: str) -> dict[str, str]:
    """The mappings of ``path``; ``MapFileError`` for an unreadable file or bad line."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read(1 << 20).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MapFileError(f"cannot read {path!r}: {exc}") from None
    mapping: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None or not USER_NAME.fullmatch(match.group(3)):
            raise MapFileError(f"{path}:{number}: expected a subject and a user name")
        subject = match.group(2) or re.sub(r"\\(.)", r"\1", match.group(1) or "")
        mapping.setdefault(subject, match.group(3))
    return mapping


def template_fields(template: str) -> list[str]:
    """The claim names ``template`` uses; ``ValueError`` for a malformed template."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def from_template(template: str, claims: dict[str, Any]) -> str | None:
    """``template`` over the token's string claims; ``None`` when one is missing or
    the result is not a user name."""
    values = {}
    for name in template_fields(template):
        value = claims.get(name)
        if not isinstance(value, str):
            return None
        values[name] = value
    user = template.format(**values)
    return user if USER_NAME.fullmatch(user) else None
