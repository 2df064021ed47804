"""Many clients at once, each with its own session (and so its own connections)."""

from __future__ import annotations

import hashlib
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from irods.column import Like
from irods.models import Collection, DataObject

CLIENTS = 20
TIMEOUT = 300


def _run_all(count: int, work) -> list:
    """Runs work(i) for i in range(count), each on its own thread; re-raises the first failure."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(work, i) for i in range(count)]
        return [f.result(timeout=TIMEOUT) for f in futures]


def test_twenty_clients_write_and_read_their_own_files(irods_zone, rods, scratch):
    start = threading.Barrier(CLIENTS, timeout=60)
    sizes = (0, 1000, 300_000, 2 * 1024 * 1024 + 1)

    def client(i: int) -> dict[str, tuple[int, str]]:
        with irods_zone.session() as session:
            coll = session.collections.create(f"{scratch}/client{i:02d}").path
            start.wait()
            written = {}
            for j, size in enumerate(sizes):
                data = random.Random(i * 100 + j).randbytes(size + i)
                path = f"{coll}/file{j}.bin"
                with session.data_objects.open(path, "w") as f:
                    f.write(data)
                written[path] = (len(data), hashlib.md5(data).hexdigest())
            for path, (_, digest) in written.items():
                with session.data_objects.open(path, "r") as f:
                    assert hashlib.md5(f.read()).hexdigest() == digest, path
            listed = sorted(o.path for o in session.collections.get(coll).data_objects)
            assert listed == sorted(written)
            return written

    results = _run_all(CLIENTS, client)

    expected = {path: size for written in results for path, (size, _) in written.items()}
    rows = rods.query(Collection.name, DataObject.name, DataObject.size).filter(
        Like(Collection.name, f"{scratch}/client%")
    )
    found = {f"{r[Collection.name]}/{r[DataObject.name]}": r[DataObject.size] for r in rows}
    assert found == expected


def test_twenty_clients_put_and_get_files_concurrently(irods_zone, scratch, tmp_path):
    def client(i: int) -> None:
        data = random.Random(i).randbytes(1024 * 1024 + i * 1000)
        source = tmp_path / f"src{i}.bin"
        target = tmp_path / f"dst{i}.bin"
        source.write_bytes(data)
        with irods_zone.session() as session:
            session.data_objects.put(str(source), f"{scratch}/put{i:02d}.bin")
            session.data_objects.get(f"{scratch}/put{i:02d}.bin", str(target))
        assert target.read_bytes() == data

    _run_all(CLIENTS, client)


def test_clients_creating_in_one_collection_lose_no_entries(irods_zone, rods, scratch):
    per_client = 25

    def client(i: int) -> None:
        with irods_zone.session() as session:
            for j in range(per_client):
                session.data_objects.create(f"{scratch}/c{i:02d}_{j:02d}")

    _run_all(10, client)

    names = [o.name for o in rods.collections.get(scratch).data_objects]
    assert names == sorted(f"c{i:02d}_{j:02d}" for i in range(10) for j in range(per_client))


def test_clients_adding_metadata_to_one_object_lose_no_avus(irods_zone, rods, scratch):
    path = rods.data_objects.create(f"{scratch}/shared-avus").path

    def client(i: int) -> None:
        with irods_zone.session() as session:
            obj = session.data_objects.get(path)
            for j in range(10):
                obj.metadata.add(f"client{i:02d}", str(j))

    _run_all(10, client)

    avus = {tuple(m) for m in rods.data_objects.get(path).metadata.items()}
    assert avus == {(f"client{i:02d}", str(j)) for i in range(10) for j in range(10)}


def test_clients_reading_one_object_all_get_full_content(irods_zone, rods, scratch):
    data = random.Random(7).randbytes(5 * 1024 * 1024 + 3)
    with rods.data_objects.open(f"{scratch}/popular.bin", "w") as f:
        f.write(data)
    digest = hashlib.md5(data).hexdigest()

    def client(i: int) -> str:
        with (
            irods_zone.session() as session,
            session.data_objects.open(f"{scratch}/popular.bin", "r") as f,
        ):
            f.seek(i * 1000)
            head = f.read(100)
            assert head == data[i * 1000 : i * 1000 + 100]
            f.seek(0)
            return hashlib.md5(f.read()).hexdigest()

    assert _run_all(CLIENTS, client) == [digest] * CLIENTS


def test_open_file_in_one_session_does_not_block_others(irods_zone, rods, scratch):
    with rods.data_objects.open(f"{scratch}/held-open", "w") as held:
        held.write(b"still writing")
        held.flush()

        def client(i: int) -> bytes:
            with irods_zone.session() as session:
                with session.data_objects.open(f"{scratch}/other{i}", "w") as f:
                    f.write(b"other %d" % i)
                with session.data_objects.open(f"{scratch}/other{i}", "r") as f:
                    return f.read()

        assert _run_all(5, client) == [b"other %d" % i for i in range(5)]

    with rods.data_objects.open(f"{scratch}/held-open", "r") as f:
        assert f.read() == b"still writing"
