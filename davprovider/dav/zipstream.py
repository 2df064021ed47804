"""A folder as a zip archive, streamed: ``GET /share/folder/?download=zip``.

rclone's convention (``?download=zip`` on a folder URL). The folder is walked first
(``plan``: one ``Backend.list`` per folder, no stat per member) and refused with 413
when it holds more than ``browser.zip_max_bytes`` bytes or ``browser.zip_max_entries``
files and folders, before a byte is sent. Then ``stream`` writes the archive with the
standard library's ``zipfile`` over a write-only sink: ``zipfile`` sees an unseekable
file, so every member is written once, front to back, with a data descriptor after its
bytes (CRC and sizes), and the sink is emptied into the response after every block.
Memory stays bounded by one block plus one ``ZipInfo`` per member, whatever the
folder's size.

Members are stored, not compressed: a gateway's core is better spent moving bytes, and
most large files are compressed already. A member of 4 GiB or more (and an archive
past 4 GiB or 65535 members) gets ZIP64 records; names are UTF-8 (zipfile sets the
flag). A member that cannot be opened (no permission, gone since the walk) is left
out and logged; a read error in the middle of a member ends the response with an
error (the client sees a failed download, not a short archive).
"""

from __future__ import annotations

import logging
import posixpath
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_REQUEST_ENTITY_TOO_LARGE, DAVError

from davprovider.backend import Backend, Entry
from davprovider.dav.errors import backend_errors

log = logging.getLogger("davprovider.dav.zipstream")

#: Members from this size on are written with ZIP64 sizes (zipfile's own test is
#: ``size * 1.05 > ZIP64_LIMIT``; we say it outright, for members of a known size).
ZIP64_FROM = zipfile.ZIP64_LIMIT
_EPOCH_1980 = 315532800  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Member:
    """One archive member: ``path`` in the share, ``name`` in the archive."""

    path: str
    name: str
    is_dir: bool
    size: int
    modified: float | None


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_entries: int


class _Plan:
    """The walk's state: members in archive order and the running totals."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.members: list[Member] = []
        self.total = 0

    def add(self, member: Member) -> None:
        self.members.append(member)
        self.total += member.size
        if len(self.members) > self.limits.max_entries:
            raise DAVError(
                HTTP_REQUEST_ENTITY_TOO_LARGE,
                f"too many files to zip (more than {self.limits.max_entries})",
            )
        if self.total > self.limits.max_bytes:
            raise DAVError(
                HTTP_REQUEST_ENTITY_TOO_LARGE,
                f"folder too large to zip (more than {self.limits.max_bytes} bytes)",
            )


def plan(backend: Backend, root: str, top: str, limits: Limits) -> list[Member]:
    """The members of folder ``root`` (share path), depth first and sorted by name,
    under the archive folder ``top``; 413 as soon as a limit is passed. A subfolder
    the caller may not list is left out."""
    walk = _Plan(limits)
    walk.add(Member(root, top + "/", True, 0, None))
    stack: list[tuple[str, str]] = [(root, top)]
    while stack:
        folder, prefix = stack.pop()
        entries = _listing(backend, folder, is_top=folder == root)
        subfolders = []
        for entry in sorted(entries, key=lambda e: e.name):
            path = posixpath.join(folder, entry.name)
            name = f"{prefix}/{entry.name}"
            if entry.is_dir:
                walk.add(Member(path, name + "/", True, 0, entry.modified))
                subfolders.append((path, name))
            else:
                walk.add(Member(path, name, False, entry.size or 0, entry.modified))
        stack.extend(reversed(subfolders))
    return _in_tree_order(walk.members)


def _listing(backend: Backend, folder: str, *, is_top: bool) -> list[Entry]:
    try:
        with backend_errors(folder):
            return list(backend.list(folder))
    except DAVError as error:
        if is_top or error.value != HTTP_FORBIDDEN:
            raise
        log.info("zip: %s left out: %s", folder, error.get_user_info().splitlines()[0])
        return []


def _in_tree_order(members: list[Member]) -> list[Member]:
    """Each folder's entry directly followed by its contents (the walk added a
    folder's subfolders before descending into them)."""
    return sorted(members, key=lambda m: m.name.rstrip("/").split("/"))


class _Sink:
    """A write-only file for ``zipfile``: collects bytes until ``take``."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing buffered below us."""

    def close(self) -> None:
        """The response owns what was taken."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _info(member: Member) -> zipfile.ZipInfo:
    when = max(member.modified or time.time(), _EPOCH_1980)
    info = zipfile.ZipInfo(member.name, time.gmtime(when)[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = member.size
    info.external_attr = 0o100644 << 16
    if member.is_dir:
        info.CRC = info.compress_size = 0
        info.external_attr = 0o40755 << 16 | 0x10  # and the MS-DOS directory bit
    return info


def stream(backend: Backend, members: list[Member], block_size: int) -> Iterator[bytes]:
    """The archive of ``members``, in pieces of about ``block_size`` bytes."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for member in members:
            if member.is_dir:
                archive.mkdir(_info(member))
                continue
            yield from _file(archive, sink, backend, member, block_size)
    yield sink.take()  # the last data descriptor and the central directory


def _file(
    archive: zipfile.ZipFile, sink: _Sink, backend: Backend, member: Member, block_size: int
) -> Iterator[bytes]:
    try:
        source = backend.open_read(member.path)
    except (OSError, ValueError) as exc:
        log.warning("zip: %s left out: %s", member.path, exc)
        return
    try:
        info = _info(member)
        with archive.open(info, "w", force_zip64=member.size >= ZIP64_FROM) as target:
            while data := _read(source, member.path, block_size):
                target.write(data)
                yield sink.take()  # this block with what came before it (headers)
    finally:
        source.close()


def _read(source: Any, path: str, block_size: int) -> bytes:
    with backend_errors(path):
        data: bytes = source.read(block_size)
    return data
