"""Static Large Objects: uploads above the segment size (1 MiB here), ranged reads
across segment boundaries, and segments cleaned up on delete, overwrite and abort."""

from __future__ import annotations

import errno
import hashlib
import os
import tracemalloc

import pytest

from tests.helpers.swift_helpers import MiB, as_tester, names, put, read

BODY = os.urandom(3 * MiB + MiB // 2)  # 3.5 MiB: three full segments and a half one


def segments(conn, container: str) -> list[str]:
    return names(conn, container + "_segments")


def test_an_upload_above_the_segment_size_becomes_an_slo(backend, swift_conn, container):
    entry = put(backend, "/big.bin", BODY)
    head = swift_conn.head_object(container, "big.bin")
    assert head["x-static-large-object"] == "True"
    assert int(head["content-length"]) == len(BODY)
    stored = segments(swift_conn, container)
    assert len(stored) == 4 and all(n.startswith("big.bin/slo/") for n in stored)
    assert hashlib.md5(read(backend, "/big.bin")).digest() == hashlib.md5(BODY).digest()
    assert entry.size == len(BODY) and entry.etag == head["etag"].strip('"') + "-slo"
    assert entry.checksum is None  # an SLO's ETag is not the MD5 of its content (nor looks it)
    assert [e.name for e in backend.list("/")] == ["big.bin"]  # no segments container shown


def test_range_reads_cross_segment_boundaries(backend):
    put(backend, "/big.bin", BODY)
    stream = backend.open_read("/big.bin")
    try:
        for start, length in ((MiB - 10, 20), (3 * MiB - 5, 10), (0, 5), (2 * MiB, MiB + 7)):
            stream.seek(start)
            assert stream.read(length) == BODY[start : start + length], start
        stream.seek(-3, os.SEEK_END)
        assert stream.read() == BODY[-3:]
    finally:
        stream.close()


def test_delete_of_an_slo_deletes_its_segments(backend, swift_conn, container):
    put(backend, "/big.bin", BODY)
    backend.remove("/big.bin")
    assert names(swift_conn, container) == []
    assert segments(swift_conn, container) == []


def test_an_aborted_or_short_large_upload_leaves_no_segments(backend, swift_conn, container):
    put(backend, "/big.bin", b"old")
    upload = backend.open_write("/big.bin", size=len(BODY))
    upload.write(BODY[: 2 * MiB + 100])  # two segments stored, the third under way
    upload.write(BODY[2 * MiB + 100 : 2 * MiB + 200])
    upload.abort()
    assert segments(swift_conn, container) == []
    upload = backend.open_write("/big.bin", size=len(BODY))
    for start in range(0, 3 * MiB, 256 * 1024):
        upload.write(BODY[start : start + 256 * 1024])
    with pytest.raises(ValueError):
        upload.commit()
    assert segments(swift_conn, container) == []
    assert read(backend, "/big.bin") == b"old"


def test_overwriting_an_slo_removes_its_old_segments(backend, swift_conn, container):
    put(backend, "/big.bin", BODY)
    first = segments(swift_conn, container)
    put(backend, "/big.bin", BODY[::-1])
    second = segments(swift_conn, container)
    assert len(second) == 4 and not set(first) & set(second)
    put(backend, "/big.bin", b"small now")
    assert segments(swift_conn, container) == []
    assert read(backend, "/big.bin") == b"small now"


def test_uploads_of_unknown_size(make_factory, swift_conn, container):
    backend = make_factory(container=container, segment_size=6 * MiB)(as_tester())
    for name, size in (("small", 300_000), ("spooled-over", 5 * MiB), ("large", 13 * MiB)):
        data = os.urandom(size)
        upload = backend.open_write(f"/{name}")  # chunked: no Content-Length
        for start in range(0, size, 256 * 1024):
            upload.write(data[start : start + 256 * 1024])
        assert upload.commit().size == size
        assert read(backend, f"/{name}") == data
    head = swift_conn.head_object(container, "spooled-over")
    assert "x-static-large-object" not in head  # one segment: copied into a plain object
    assert swift_conn.head_object(container, "large")["x-static-large-object"] == "True"
    assert len(segments(swift_conn, container)) == 3


def test_copy_of_an_slo_gets_its_own_segments(backend, swift_conn, container):
    put(backend, "/big.bin", BODY)
    backend.set_meta("/big.bin", {"{urn:z}k": "v"})
    backend.copy("/big.bin", "/copy.bin")
    assert len(segments(swift_conn, container)) == 8
    backend.remove("/big.bin")
    assert read(backend, "/copy.bin") == BODY
    assert backend.get_meta("/copy.bin") == {"{urn:z}k": "v"}
    assert swift_conn.head_object(container, "copy.bin")["x-static-large-object"] == "True"


def test_move_of_an_slo_moves_only_its_manifest(backend, swift_conn, container):
    backend.mkdir("/d")
    put(backend, "/d/big.bin", BODY)
    before = segments(swift_conn, container)
    backend.move("/d", "/e")
    assert segments(swift_conn, container) == before
    assert read(backend, "/e/big.bin") == BODY
    backend.remove("/e", recursive=True)  # a folder delete takes SLO segments along
    assert segments(swift_conn, container) == [] and names(swift_conn, container) == []


@pytest.mark.slow
@pytest.mark.parametrize("segment_size", [64 * MiB, 4 * MiB])
def test_upload_memory_stays_flat(make_factory, container, segment_size):
    backend = make_factory(container=container, segment_size=segment_size)(as_tester())
    block = os.urandom(256 * 1024)
    total = 48 * MiB
    tracemalloc.start()
    try:
        upload = backend.open_write("/stream.bin", size=total)
        for _ in range(total // len(block)):
            upload.write(block)
        upload.commit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while streaming 48 MiB"
    assert backend.stat("/stream.bin").size == total


@pytest.mark.parametrize("name", ["plain.bin", "slo.bin"])
def test_a_large_object_is_read_as_its_head_then_the_rest(
    backend, swift_conn, container, monkeypatch, name
):
    """Above ``HEAD_PART`` a whole read is two ranged GETs (the object server computes
    no MD5 for a range that does not start at 0), of one version, SLO or not."""
    monkeypatch.setattr("davprovider.swift.reader.HEAD_PART", MiB // 2)
    if name == "plain.bin":
        swift_conn.put_object(container, name, BODY)
    else:
        put(backend, "/" + name, BODY)
    sent: list[dict[str, str]] = []
    stream = backend.open_read("/" + name)
    get_object = stream._conn.get_object

    def noted(*args, headers=None, **kwargs):
        sent.append(dict(headers or {}))
        return get_object(*args, headers=headers, **kwargs)

    stream._conn.get_object = noted
    try:
        stream._drop_body()  # the GET open_read sent: again, noted
        assert stream.read() == BODY
    finally:
        stream.close()
    assert [h["Range"] for h in sent] == [f"bytes=0-{MiB // 2 - 1}", f"bytes={MiB // 2}-"]
    assert sent[1]["If-Match"]


def test_an_object_replaced_between_the_two_parts_is_never_mixed(
    backend, swift_conn, container, monkeypatch
):
    monkeypatch.setattr("davprovider.swift.reader.HEAD_PART", MiB // 2)
    swift_conn.put_object(container, "f.bin", BODY)
    stream = backend.open_read("/f.bin")
    try:
        assert stream.read(MiB // 2) == BODY[: MiB // 2]
        swift_conn.put_object(container, "f.bin", os.urandom(len(BODY)))  # same size
        with pytest.raises(OSError) as raised:
            stream.read(10)
        assert raised.value.errno == errno.EAGAIN
    finally:
        stream.close()
