"""put/get from 0 bytes to 100 MiB, md5-checked.

PRC moves files above 32 MiB (MAXIMUM_SINGLE_THREADED_TRANSFER_SIZE) in parallel on several
connections to the same replica (open with replica token, fd info, replica close, final close);
33 MiB and 100 MiB exercise that path, 8 MiB + 1 the multi-chunk single-stream path.
"""

from __future__ import annotations

import hashlib

import pytest
from irods.manager.data_object_manager import MAXIMUM_SINGLE_THREADED_TRANSFER_SIZE

MiB = 1024 * 1024

SIZES = [
    pytest.param(0, id="0B"),
    pytest.param(1234, id="1234B"),
    pytest.param(8 * MiB + 1, id="8MiB+1"),
    pytest.param(33 * MiB, id="33MiB-parallel"),
    pytest.param(100 * MiB, id="100MiB-parallel", marks=pytest.mark.slow),
]


def test_parallel_threshold_is_what_the_sizes_assume():
    assert 32 * MiB == MAXIMUM_SINGLE_THREADED_TRANSFER_SIZE
    assert 33 * MiB > MAXIMUM_SINGLE_THREADED_TRANSFER_SIZE


@pytest.mark.parametrize("size", SIZES)
def test_put_then_get_round_trips_content(rods, scratch, local_file, md5_of, tmp_path, size):
    source, digest = local_file(size, "source.bin")
    path = f"{scratch}/object.bin"

    rods.data_objects.put(str(source), path)

    obj = rods.data_objects.get(path)
    assert obj.size == size
    assert obj.replicas[0].status == "1"
    target = tmp_path / "target.bin"
    rods.data_objects.get(path, str(target))
    assert target.stat().st_size == size
    assert md5_of(target) == digest


def test_parallel_put_reads_back_through_single_stream(rods, scratch, local_file):
    source, digest = local_file(33 * MiB + 12345)
    path = f"{scratch}/parallel-put.bin"

    rods.data_objects.put(str(source), path)

    md5 = hashlib.md5()
    with rods.data_objects.open(path, "r") as f:
        while block := f.read(3 * MiB):
            md5.update(block)
    assert md5.hexdigest() == digest


def test_single_stream_write_reads_back_through_parallel_get(
    rods, scratch, local_file, md5_of, tmp_path
):
    source, digest = local_file(34 * MiB + 7)
    path = f"{scratch}/single-write.bin"
    with source.open("rb") as src, rods.data_objects.open(path, "w") as f:
        while block := src.read(5 * MiB):
            f.write(block)

    target = tmp_path / "target.bin"
    rods.data_objects.get(path, str(target))

    assert md5_of(target) == digest


def test_large_put_and_get_in_one_stream(rods, scratch, local_file, md5_of, tmp_path):
    source, digest = local_file(33 * MiB + 1)
    path = f"{scratch}/one-stream.bin"

    rods.data_objects.put(str(source), path, num_threads=1)
    target = tmp_path / "target.bin"
    rods.data_objects.get(path, str(target), num_threads=1)

    assert md5_of(target) == digest


def test_put_over_larger_object_replaces_it(rods, scratch, local_file, md5_of, tmp_path):
    big, _ = local_file(33 * MiB, "big.bin")
    small, small_digest = local_file(1000, "small.bin")
    path = f"{scratch}/shrinks.bin"

    rods.data_objects.put(str(big), path)
    rods.data_objects.put(str(small), path)

    assert rods.data_objects.get(path).size == 1000
    target = tmp_path / "target.bin"
    rods.data_objects.get(path, str(target))
    assert md5_of(target) == small_digest


def test_put_into_collection_uses_local_basename(rods, scratch, local_file):
    source, _ = local_file(10, "named-locally.bin")

    rods.data_objects.put(str(source), scratch)

    assert [o.name for o in rods.collections.get(scratch).data_objects] == ["named-locally.bin"]


def test_put_returns_data_object_when_asked(rods, scratch, local_file):
    source, _ = local_file(4321)

    obj = rods.data_objects.put(str(source), f"{scratch}/returned.bin", return_data_object=True)

    assert obj.path == f"{scratch}/returned.bin"
    assert obj.size == 4321
