"""The memory backend passes the storage contract; its own extras."""

from __future__ import annotations

import threading

import pytest

from davprovider.backend import Identity
from davprovider.memory import MemoryBackend, Options, create_factory
from davprovider.memory.tree import Tree
from tests.contract.backend_contract import BackendContract, put, read


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend(Tree())


class TestMemoryBackend(BackendContract):
    pass


def test_read_only_backend_refuses_every_write(backend):
    put(backend, "/f", b"x")
    viewer = MemoryBackend(backend._tree, read_only=True)
    assert read(viewer, "/f") == b"x"
    for attempt in (
        lambda: viewer.open_write("/g"),
        lambda: viewer.mkdir("/d"),
        lambda: viewer.remove("/f"),
        lambda: viewer.set_meta("/f", {"a": "1"}),
        lambda: viewer.copy("/f", "/h"),
        lambda: viewer.move("/f", "/h"),
    ):
        with pytest.raises(PermissionError):
            attempt()


def test_factory_login_checks_the_user_table():
    factory = create_factory(Options(users={"alice": "pw"}, read_only_users=("bob",)))
    assert factory.login("alice", "pw")
    assert not factory.login("alice", "nope")
    assert not factory.login("mallory", "pw")
    assert isinstance(factory(Identity("alice", "basic")), MemoryBackend)


def test_concurrent_uploads_to_one_path_leave_one_whole_version(backend):
    payloads = [bytes([i]) * 10000 for i in range(8)]

    def upload(data: bytes) -> None:
        put(backend, "/race", data)

    threads = [threading.Thread(target=upload, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert read(backend, "/race") in payloads


def test_bad_paths_are_value_errors(backend):
    with pytest.raises(ValueError):
        backend.stat("relative")
    with pytest.raises(ValueError):
        backend.stat("/a/../b")
