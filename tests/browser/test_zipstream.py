"""The streamed zip: ZIP64 past 4 GiB, bounded memory, limits, odd names."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

import pytest
from wsgidav.dav_error import DAVError

from davprovider.dav import zipstream
from davprovider.memory import MemoryBackend
from davprovider.memory.tree import Tree
from tests.browser.conftest import seed

BIG = (4 << 30) + 3  # past ZIP64's limit
BLOCK = 1 << 20
ZERO_BLOCK = bytes(BLOCK)


class Zeros:
    """An object of ``size`` zero bytes, read in blocks (never held whole)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0

    def read(self, n: int) -> bytes:
        n = min(n, self.left)
        self.left -= n
        self.largest_read = max(self.largest_read, n)
        return ZERO_BLOCK if n == BLOCK else bytes(n)

    def close(self) -> None:
        pass


class BigBackend:
    def __init__(self) -> None:
        self.opened: list[Zeros] = []

    def open_read(self, path: str) -> Zeros:
        stream = Zeros(BIG if path == "/big" else 5)
        self.opened.append(stream)
        return stream


class Sparse(io.RawIOBase):
    """A file of ``size`` bytes: ``head`` at the start, ``tail`` at the end, zeros
    between (what the archive of zero-filled members is), for ``zipfile`` to read."""

    def __init__(self, head: bytes, tail: bytes, size: int) -> None:
        self.head, self.tail, self.size, self.pos = head, tail, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def readinto(self, buffer: Any) -> int:
        start = self.pos
        end = min(self.size, start + len(buffer))
        out = bytearray(max(0, end - start))
        if start < len(self.head):
            piece = self.head[start:end]
            out[: len(piece)] = piece
        tail_start = self.size - len(self.tail)
        if end > tail_start:
            first = max(start, tail_start)
            out[first - start :] = self.tail[first - tail_start : end - tail_start]
        buffer[: len(out)] = out
        self.pos = end
        return len(out)


@pytest.mark.slow
def test_a_member_past_4_gib_gets_zip64_and_memory_stays_bounded() -> None:
    backend = BigBackend()
    members = [
        zipstream.Member("/", "top/", True, 0, None),
        zipstream.Member("/big", "top/big.bin", False, BIG, 1.7e9),
        zipstream.Member("/small", "top/small.txt", False, 5, 1.7e9),
    ]
    head, tail, total, largest = b"", b"", 0, 0
    for piece in zipstream.stream(backend, members, BLOCK):  # type: ignore[arg-type]
        largest = max(largest, len(piece))
        total += len(piece)
        if len(head) < 4096:
            head += piece[: 4096 - len(head)]
        tail = piece[-4096:] if len(piece) >= 4096 else (tail + piece)[-4096:]
    assert largest <= BLOCK + 4096  # one block (plus headers) at a time
    assert backend.opened[0].largest_read <= BLOCK
    archive = zipfile.ZipFile(Sparse(head, tail, total))
    big = archive.getinfo("top/big.bin")
    assert big.file_size == BIG and big.compress_size == BIG
    crc, left = 0, BIG
    while left:
        crc = zlib.crc32(ZERO_BLOCK[: min(BLOCK, left)], crc)
        left -= min(BLOCK, left)
    assert crc == big.CRC
    assert archive.getinfo("top/small.txt").header_offset > 1 << 32  # ZIP64 offsets too
    assert archive.getinfo("top/").is_dir()


def test_plan_walks_depth_first_and_refuses_past_the_limits() -> None:
    store = MemoryBackend(Tree())
    store.mkdir("/d")
    store.mkdir("/d/sub")
    seed(store, "/d/b.txt", b"bb")
    seed(store, "/d/sub/a.txt", b"a")
    found = zipstream.plan(store, "/d", "d", zipstream.Limits(100, 10))  # type: ignore[arg-type]
    assert [m.name for m in found] == ["d/", "d/b.txt", "d/sub/", "d/sub/a.txt"]
    with pytest.raises(DAVError) as refused:
        zipstream.plan(store, "/d", "d", zipstream.Limits(2, 10))  # type: ignore[arg-type]
    assert refused.value.value == 413
    with pytest.raises(DAVError) as refused:
        zipstream.plan(store, "/d", "d", zipstream.Limits(100, 3))  # type: ignore[arg-type]
    assert refused.value.value == 413


def test_names_are_utf8_and_the_archive_reads_back() -> None:
    store = MemoryBackend(Tree())
    store.mkdir("/f")
    seed(store, "/f/Grüße <&>.txt", b"hallo")
    members = zipstream.plan(store, "/f", "f", zipstream.Limits(100, 10))  # type: ignore[arg-type]
    data = b"".join(zipstream.stream(store, members, 4096))  # type: ignore[arg-type]
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("f/Grüße <&>.txt") == b"hallo"
    assert archive.getinfo("f/Grüße <&>.txt").flag_bits & 0x800  # UTF-8 names
