"""ReadAhead, WriteBehind and Blocks: bytes, positions and errors cross the thread intact."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest

from davprovider.backend import Upload
from davprovider.dav.put import Writer
from davprovider.pipeline import Blocks, ReadAhead, WriteBehind

DATA = bytes(range(256)) * 4000  # 1,024,000 bytes


class Source(io.BytesIO):
    """A stream that counts its reads and remembers the threads reading it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0
        self.threads: set[str] = set()

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        self.threads.add(threading.current_thread().name)
        return super().readinto(buffer)


def test_read_ahead_returns_the_stream_in_any_piece_size():
    source = Source(DATA)
    stream = ReadAhead(source, 100_000)
    parts = []
    while piece := stream.read(65_536):
        parts.append(piece)
    assert b"".join(parts) == DATA and stream.tell() == len(DATA)
    assert source.reads == 12  # ten full blocks, the tail, then b"": the end
    assert source.threads == {"read-ahead"}
    stream.close()
    assert source.closed


def test_read_ahead_fills_a_few_buffers_again_and_again():
    """Past its first growing blocks, a long read fills the same three buffers (one
    queued, one being filled, one being served); what it served was copied out."""
    filled: list[int] = []

    class Tracked(Source):
        def readinto(self, buffer: Any) -> int:
            if len(buffer) == 100_000:
                filled.append(id(buffer))
            return super().readinto(buffer)

    data = DATA * 5
    stream = ReadAhead(Tracked(data), 100_000)
    parts = []
    while piece := stream.read(30_000):
        parts.append(piece)
    stream.close()
    assert b"".join(parts) == data
    assert len(filled) > 40 and len(set(filled)) <= 3


def test_read_ahead_seeks_and_reads_the_rest():
    stream = ReadAhead(Source(DATA), 50_000)
    assert stream.read(10) == DATA[:10]
    assert stream.seek(500_000) == 500_000
    assert stream.read(7) == DATA[500_000:500_007]
    assert stream.seek(3, io.SEEK_CUR) == 500_010
    assert stream.read() == DATA[500_010:]
    assert stream.read(5) == b""
    stream.close()


def test_read_ahead_raises_the_source_error_in_the_reader():
    class Broken(io.RawIOBase):
        def readinto(self, buffer: Any) -> int:
            raise ConnectionResetError("backend gone")

    stream = ReadAhead(Broken(), 1024)
    with pytest.raises(ConnectionResetError, match="backend gone"):
        stream.read(10)
    stream.close()


def test_write_behind_hands_over_whole_blocks_then_the_rest():
    blocks: list[bytes] = []
    behind = WriteBehind(lambda view: blocks.append(bytes(view)), 300_000)
    for start in range(0, len(DATA), 65_536):
        behind.write(DATA[start : start + 65_536])
    behind.finish()
    assert b"".join(blocks) == DATA
    # the first gathered past the block size, the next ones filled to it exactly
    assert [len(b) for b in blocks] == [327_680, 300_000, 300_000, 96_320]


def test_write_behind_fills_a_few_buffers_again_and_again():
    """A long body reuses the buffers the sink is done with; a slow sink never sees
    its block overwritten while it holds it."""
    seen: set[int] = set()
    received = bytearray()

    def sink(view: memoryview) -> None:
        seen.add(id(view.obj))
        first = bytes(view)
        time.sleep(0.001)  # the writer fills another buffer meanwhile
        assert bytes(view) == first
        received.extend(view)

    data = DATA * 20
    behind = WriteBehind(sink, 100_000)
    for start in range(0, len(data), 30_000):
        behind.write(data[start : start + 30_000])
    behind.finish()
    assert received == data
    assert len(seen) <= 4  # the first block, and at most three filled in turn


def test_blocks_hand_exact_sizes_and_take_any_buffer_type():
    handed: list[tuple[bytes, int]] = []
    blocks = Blocks(8, lambda buffer, length: handed.append((bytes(buffer[:length]), length)))
    blocks.write(b"0123456789")  # the first block: gathered past 8
    blocks.write(memoryview(b"abcdefghij"))
    blocks.write(bytearray(b"klmnopq"))
    blocks.flush()
    assert handed == [(b"0123456789", 10), (b"abcdefgh", 8), (b"ijklmnop", 8), (b"q", 1)]


def test_write_behind_small_body_is_written_without_a_thread():
    threads: list[str] = []
    behind = WriteBehind(lambda block: threads.append(threading.current_thread().name), 1 << 20)
    behind.write(b"small")
    behind.finish()
    assert threads == [threading.current_thread().name]


def test_write_behind_sink_error_reaches_the_writer():
    def sink(block: bytes) -> None:
        raise BrokenPipeError("zone closed the connection")

    behind = WriteBehind(sink, 10)
    with pytest.raises(BrokenPipeError, match="zone closed"):
        for _ in range(100):
            behind.write(b"x" * 20)
        behind.finish()
    behind.stop(1)


class Kept(Upload):
    def __init__(self, kept: tuple[str, ...] | None) -> None:
        self.kept_digests = kept
        self.digests: dict[str, str] = {}

    def write(self, data: bytes) -> None:
        pass

    def set_digests(self, digests):
        self.digests = dict(digests)

    def commit(self):
        return "entry"

    def abort(self) -> None:
        pass


@pytest.mark.parametrize(
    ("kept", "expected", "computed"),
    [
        (None, [], {"md5", "sha1"}),
        ((), [], set()),
        ((), [("OC-Checksum", "sha1", "0" * 40)], {"sha1"}),
        (("md5",), [], {"md5"}),
    ],
)
def test_writer_hashes_what_the_upload_keeps_and_what_the_client_sent(kept, expected, computed):
    upload = Kept(kept)
    writer = Writer(upload, "/f", expected, ["md5", "sha1"])
    assert set(writer.hasher.algorithms) == computed
