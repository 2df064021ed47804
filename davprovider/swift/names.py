"""Share paths -> Swift names, and dead properties <-> ``X-*-Meta-*`` headers.

A share path ``/c/a/b`` is object ``a/b`` in container ``c``; ``/c`` is the
container, ``/`` the account. A folder ``/c/a`` is the pseudo-directory ``a/``:
it exists when any object name starts with ``a/``; MKCOL creates the marker
object ``a/`` (empty, ``application/directory``), as Horizon does, so that
empty folders exist. An object ``a`` whose content type is a directory type
(what ``swift upload`` makes of an empty folder) is a folder too.

Dead properties are user metadata ``Dav-<name>`` where ``<name>`` is the Clark
name with every byte outside ``[a-z0-9]`` written ``-xx`` (lowercase hex):
Swift lowercases metadata names and drops those with ``_``. Values are
percent-encoded UTF-8 (swiftclient decodes them again when it reads headers); a
value longer than Swift's per-value limit continues in ``Dav-<name>--1``,
``--2`` ... (cut between characters), and an empty value is ``Dav-<name>--e: 1``
(Swift does not keep empty metadata).

``X-Container-Meta-Davprovider-Props: 1`` (``PROPS_FLAG``) marks a container
whose objects may carry dead properties (``props.py``); it is none itself.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

DIR_TYPES = frozenset({"application/directory", "text/directory", "application/x-directory"})
MARKER_TYPE = "application/directory"
META_PREFIX = "dav-"
PROPS_FLAG = "davprovider-props"  # X-Container-Meta-Davprovider-Props (not a dead property)
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
_VALUE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "%")
_PART = re.compile(r"^(.*?)(?:--(\d+|e))?$")


@dataclass(frozen=True)
class Location:
    """Where a share path lives: ``container`` ("" = the account), ``obj`` ("" =
    the container itself)."""

    container: str
    obj: str

    @property
    def is_account(self) -> bool:
        return not self.container

    @property
    def is_container(self) -> bool:
        return bool(self.container) and not self.obj

    @property
    def prefix(self) -> str:
        """Listing prefix of the folder at this location ("" for a container)."""
        return self.obj + "/" if self.obj else ""

    @property
    def name(self) -> str:
        """Last path segment ("" for the account)."""
        return self.obj.rsplit("/", 1)[-1] if self.obj else self.container

    def child(self, name: str) -> Location:
        if self.is_account:
            return Location(name, "")
        return Location(self.container, self.prefix + name)

    def parent(self) -> Location:
        if "/" in self.obj:
            return Location(self.container, self.obj.rsplit("/", 1)[0])
        return Location(self.container if self.obj else "", "")


def locate(path: str) -> Location:
    """The location of a share path (``"/"``, ``"/c"``, ``"/c/a/b"``)."""
    if not path.startswith("/"):
        raise ValueError(f"not an absolute share path: {path!r}")
    container, _, obj = path.strip("/").partition("/")
    if any(part in ("", ".", "..") for part in obj.split("/")) and obj:
        raise ValueError(f"bad share path: {path!r}")
    return Location(container, obj)


def is_dir_type(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() in DIR_TYPES


# --- dead properties --------------------------------------------------------------------


@dataclass(frozen=True)
class MetaLimits:
    """Swift's metadata constraints (``/info``'s ``swift`` section)."""

    name: int = 128
    value: int = 256
    count: int = 90
    overall: int = 4096

    @classmethod
    def from_info(cls, info: Mapping[str, object]) -> MetaLimits:
        def get(key: str, default: int) -> int:
            value = info.get(key, default)
            return value if isinstance(value, int) else default

        return cls(
            get("max_meta_name_length", cls.name), get("max_meta_value_length", cls.value),
            get("max_meta_count", cls.count), get("max_meta_overall_size", cls.overall),
        )  # fmt: skip


def encode_name(name: str) -> str:
    """Clark name -> metadata name (without ``X-Object-Meta-``)."""
    out = [chr(b) if b in _PLAIN else f"-{b:02x}" for b in name.encode("utf-8")]
    return META_PREFIX + "".join(out)


def decode_name(key: str) -> str | None:
    """Metadata name (any case) -> Clark name, ``None`` for other metadata."""
    key = key.lower()
    if not key.startswith(META_PREFIX):
        return None
    raw, body, i = bytearray(), key[len(META_PREFIX) :], 0
    while i < len(body):
        if body[i] == "-":
            try:
                raw.append(int(body[i + 1 : i + 3], 16))
            except ValueError:
                return None
            i += 3
        else:
            raw.append(ord(body[i]))
            i += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parts(value: str, size: int) -> list[str]:
    """Percent-encode ``value`` in pieces of at most ``size`` characters, cut between
    characters so that each piece decodes on its own."""
    parts: list[str] = []
    current = ""
    for char in value:
        piece = quote(char, safe=_VALUE_SAFE)
        if len(current) + len(piece) > size:
            parts.append(current)
            current = ""
        current += piece
    return [*parts, current]


def meta_headers(props: Mapping[str, str], limits: MetaLimits) -> dict[str, str]:
    """Dead properties -> metadata names and values; ``ValueError`` when a name
    cannot be stored within Swift's name limit."""
    headers: dict[str, str] = {}
    for name, value in props.items():
        key = encode_name(name)
        parts = _parts(value, limits.value) if value else []
        longest = key + (f"--{len(parts) - 1}" if len(parts) > 1 else "--e")
        if len(longest) > limits.name:
            raise ValueError(
                f"property name {name!r} is too long for Swift metadata "
                f"({len(longest)} of at most {limits.name} characters encoded)"
            )
        if not parts:
            headers[f"{key}--e"] = "1"
        for index, part in enumerate(parts):
            headers[key if index == 0 else f"{key}--{index}"] = part
    return headers


def dead_properties(meta: Mapping[str, str]) -> dict[str, str]:
    """User metadata as swiftclient returns it (names without the ``X-*-Meta-``
    prefix, values already percent-decoded) -> dead properties."""
    pieces: dict[str, dict[int, str]] = {}
    for key, value in meta.items():
        key = key.lower()
        if not key.startswith(META_PREFIX):
            continue
        match = _PART.match(key[len(META_PREFIX) :])  # "--" never occurs inside a name
        assert match is not None
        base, suffix = META_PREFIX + match.group(1), match.group(2) or "0"
        if decode_name(base) is not None:
            pieces.setdefault(base, {})[-1 if suffix == "e" else int(suffix)] = value
    props = {}
    for base, parts in pieces.items():
        name = decode_name(base)
        assert name is not None
        props[name] = "".join(parts[i] for i in sorted(parts) if i >= 0)
    return props


def user_meta(headers: Mapping[str, str], kind: str) -> dict[str, str]:
    """The user metadata in response headers (``kind``: object, container),
    names lowercased and without their ``X-<Kind>-Meta-`` prefix."""
    prefix = f"x-{kind}-meta-"
    return {k.lower()[len(prefix) :]: v for k, v in headers.items() if k.lower().startswith(prefix)}


def check_limits(meta: Mapping[str, str], limits: MetaLimits, what: str) -> None:
    """Raise ``OSError(ENOSPC)`` (507) naming the limit when Swift could not store
    ``meta`` on one object or container (count, overall size, value length): checked
    before any write, so Swift's servers never see metadata they cannot keep."""
    if len(meta) > limits.count:
        raise OSError(
            errno.ENOSPC,
            f"too many properties on {what}: {len(meta)} metadata items, Swift allows "
            f"{limits.count}",
        )
    total = sum(len(k.encode()) + len(v.encode()) for k, v in meta.items())
    if total > limits.overall:
        raise OSError(
            errno.ENOSPC,
            f"properties of {what} too large for Swift: {total} bytes of metadata, "
            f"at most {limits.overall}",
        )
    for key, value in meta.items():
        if len(value.encode()) > limits.value:
            raise OSError(
                errno.ENOSPC, f"metadata value of {key} on {what} exceeds {limits.value} bytes"
            )
