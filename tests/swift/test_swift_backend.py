"""The Swift backend against a real Swift: containers, pseudo-folders, listings,
uploads cut short, COPY/MOVE/DELETE of trees."""

from __future__ import annotations

import errno
import time
import uuid

import pytest

from tests.helpers.swift_helpers import MiB, count_requests, names, put, read


def test_mkcol_at_the_top_creates_a_container(account, swift_conn):
    name = f"mk-{uuid.uuid4().hex[:8]}"
    account.mkdir(f"/{name}")
    try:
        assert swift_conn.head_container(name)
        assert account.stat(f"/{name}").is_dir
        assert name in [e.name for e in account.list("/")]
        with pytest.raises(FileExistsError):
            account.mkdir(f"/{name}")
    finally:
        account.remove(f"/{name}", recursive=True)
    with pytest.raises(FileNotFoundError):
        account.stat(f"/{name}")


def test_files_cannot_live_at_the_account_level(account):
    with pytest.raises(PermissionError):
        account.open_write("/loose-file.txt", size=1)


def test_mkcol_in_a_container_writes_directory_markers(backend, swift_conn, container):
    backend.mkdir("/d")
    backend.mkdir("/d/e")
    _, rows = swift_conn.get_container(container)
    assert [(r["name"], r["content_type"], r["bytes"]) for r in rows] == [
        ("d/", "application/directory", 0),
        ("d/e/", "application/directory", 0),
    ]
    assert [(e.name, e.is_dir) for e in backend.list("/d")] == [("e", True)]
    assert backend.list("/d/e") == []
    with pytest.raises(FileNotFoundError):
        backend.mkdir("/missing/child")
    with pytest.raises(FileExistsError):
        backend.mkdir("/d")


def test_folders_made_by_other_swift_clients_are_folders(backend, swift_conn, container):
    swift_conn.put_object(container, "photos/2024/a.jpg", b"jpg")  # implicit folders
    swift_conn.put_object(container, "empty", b"", content_type="text/directory")  # swift CLI
    top = {e.name: e.is_dir for e in backend.list("/")}
    assert top == {"photos": True, "empty": True}
    assert [e.name for e in backend.list("/photos")] == ["2024"]
    assert backend.stat("/photos/2024").is_dir
    assert backend.list("/empty") == []
    assert read(backend, "/photos/2024/a.jpg") == b"jpg"
    backend.remove("/empty")
    assert names(swift_conn, container) == ["photos/2024/a.jpg"]


def test_deleting_the_last_file_keeps_its_folder(backend, swift_conn, container):
    swift_conn.put_object(container, "implicit/only.txt", b"x")
    backend.remove("/implicit/only.txt")
    assert backend.stat("/implicit").is_dir
    assert names(swift_conn, container) == ["implicit/"]


def test_stat_and_list_take_one_request_each(backend, swift_conn, container):
    for i in range(30):
        swift_conn.put_object(container, f"d/f{i:02}.txt", b"abc")
    backend.stat("/")  # warm up: auth and /info
    calls = count_requests(backend.conn)
    backend.stat("/d/f07.txt")
    assert dict(calls) == {"get_container": 1}
    backend.stat("/d")  # the first row named "d..." is "d/f00.txt": a folder
    assert dict(calls) == {"get_container": 2}
    entries = backend.list("/d")
    assert len(entries) == 30 and all(e.size == 3 and e.etag for e in entries)
    assert dict(calls) == {"get_container": 3}  # one listing, never a HEAD per child


def test_a_folder_of_20000_objects_lists_completely(backend, swift_store, swift_conn, container):
    # 20,000 real PUTs take minutes on two cores: the rows go straight into the
    # container server (as the proxy's container updates do); a few are real objects.
    swift_store.add_listing_rows(
        "AUTH_test", container, [f"many/f{i:05}.txt" for i in range(20000)]
    )
    swift_conn.put_object(container, "many/f10000.txt", b"real")
    swift_conn.put_object(container, "many/sub/inner.txt", b"y")
    backend.stat("/")
    calls = count_requests(backend.conn)
    started = time.monotonic()
    entries = backend.list("/many")
    elapsed = time.monotonic() - started
    assert len(entries) == 20001
    assert {e.name for e in entries} == {f"f{i:05}.txt" for i in range(20000)} | {"sub"}
    assert calls["get_container"] == 3 and calls["head_object"] == 0  # 10,000 names a page
    assert elapsed < 20
    assert read(backend, "/many/f10000.txt") == b"real"


def test_properties_round_trip_odd_names_and_values(backend, swift_conn, container):
    put(backend, "/f", b"x")
    backend.mkdir("/marked")
    props = {
        "{urn:z}k": "v",
        "{http://example.com/ns/}Ünïcode_Näme-x": "é\U0001f600 and ünïcode",
        "plain": "",
        "{urn:x}a--1": " leading and trailing spaces ",
        "{urn:x}-20": "%41% not an escape %",
        "{urn:x}lines": "line1\nline2\r\n\ttab",
        "{urn:x}xml": '<x:y xmlns:x="urn:x">text &amp; more</x:y>',
        "{urn:x}long": "0123456789" * 100,  # longer than Swift's 256-byte value limit
    }
    for path in ("/f", "/marked", "/implicit", "/"):
        if path == "/implicit":  # a folder without marker object: it gets one
            swift_conn.put_object(container, "implicit/child", b"c")
        backend.set_meta(path, props)
        assert backend.get_meta(path) == props, path
    backend.set_meta("/f", {"plain": None, "{urn:x}long": None, "missing": None})
    assert backend.get_meta("/f") == {
        k: v for k, v in props.items() if k not in ("plain", "{urn:x}long")
    }
    meta = backend.list_meta("/", ["f", "marked", "implicit"])
    assert meta["marked"] == props and meta["implicit"] == props


def test_properties_beyond_swift_limits_are_refused_and_change_nothing(backend):
    put(backend, "/f", b"x")
    backend.set_meta("/f", {"{urn:z}keep": "1"})
    too_much = {f"{{urn:z}}p{i}": "v" * 250 for i in range(20)}  # ~5 KB > Swift's 4096
    with pytest.raises(OSError, match="4096") as full:  # 507: more than Swift can store
        backend.set_meta("/f", too_much)
    assert full.value.errno == errno.ENOSPC
    with pytest.raises(ValueError, match="too long"):
        backend.set_meta("/f", {"{urn:z}" + "n" * 200: "1"})
    assert backend.get_meta("/f") == {"{urn:z}keep": "1"}


def test_properties_survive_an_overwrite(backend):
    put(backend, "/f", b"one")
    backend.set_meta("/f", {"{urn:z}k": "v"})
    put(backend, "/f", b"two" * 100000)
    assert backend.get_meta("/f") == {"{urn:z}k": "v"}
    assert read(backend, "/f") == b"two" * 100000


def test_a_cut_short_upload_leaves_the_old_object(backend, swift_conn, container):
    put(backend, "/f", b"old content")
    upload = backend.open_write("/f", size=MiB // 2)
    for _ in range(5):
        upload.write(b"n" * 65536)  # the PUT is running: 320 KiB of 512 KiB sent
    with pytest.raises(ValueError):
        upload.commit()
    assert read(backend, "/f") == b"old content"
    upload = backend.open_write("/new", size=MiB // 2)
    for _ in range(5):
        upload.write(b"n" * 65536)
    upload.abort()
    assert names(swift_conn, container) == ["f"]


def test_too_many_bytes_are_refused_at_commit(backend):
    put(backend, "/f", b"old")
    upload = backend.open_write("/f", size=4)
    upload.write(b"12345678")
    with pytest.raises(ValueError):
        upload.commit()
    assert read(backend, "/f") == b"old"


def test_an_upload_of_unknown_size_is_stored(backend):
    upload = backend.open_write("/f")
    for _ in range(10):
        upload.write(b"z" * 10000)
    entry = upload.commit()
    assert entry.size == 100000 and read(backend, "/f") == b"z" * 100000


def test_seek_issues_a_ranged_get(backend):
    data = bytes(range(256)) * 4096
    put(backend, "/f", data)
    stream = backend.open_read("/f")
    calls = count_requests(stream._conn)
    stream.seek(700000)
    assert stream.read(10) == data[700000:700010]
    stream.seek(5)
    assert stream.read(5) == data[5:10]
    assert stream.tell() == 10
    stream.close()
    assert calls["get_object"] == 2


def test_a_get_after_a_stat_is_one_request(backend, monkeypatch):
    put(backend, "/f", b"0123456789")
    backend.stat("/f")
    calls = count_requests(backend.conn)
    stream_calls: list = []
    acquire = backend.pool.acquire

    def counted(identity):  # the stream's own connection, counted from its first request
        conn = acquire(identity)
        stream_calls.append(count_requests(conn))
        return conn

    monkeypatch.setattr(backend.pool, "acquire", counted)
    stream = backend.open_read("/f")
    assert stream.read() == b"0123456789"
    stream.close()
    assert dict(calls) == {} and [dict(c) for c in stream_calls] == [{"get_object": 1}]


def _tree(backend):
    backend.mkdir("/src")
    put(backend, "/src/a.txt", b"a", content_type="text/plain")
    backend.mkdir("/src/sub")
    put(backend, "/src/sub/b.txt", b"b")
    backend.mkdir("/src/empty")
    backend.set_meta("/src", {"{urn:z}top": "1"})
    backend.set_meta("/src/a.txt", {"{urn:z}a": "2"})


def test_copy_and_move_of_a_folder_take_everything_along(backend, swift_conn, container):
    _tree(backend)
    backend.copy("/src", "/dst")
    assert names(swift_conn, container, "dst/") == [
        "dst/", "dst/a.txt", "dst/empty/", "dst/sub/", "dst/sub/b.txt",
    ]  # fmt: skip
    assert backend.get_meta("/dst") == {"{urn:z}top": "1"}
    assert backend.get_meta("/dst/a.txt") == {"{urn:z}a": "2"}
    assert backend.stat("/dst/a.txt").content_type == "text/plain"
    backend.move("/dst", "/moved")
    assert names(swift_conn, container, "dst") == []
    assert read(backend, "/moved/sub/b.txt") == b"b"
    assert backend.list("/moved/empty") == []
    assert backend.get_meta("/moved/a.txt") == {"{urn:z}a": "2"}
    with pytest.raises(FileExistsError):
        backend.copy("/src", "/moved")
    backend.copy("/src/sub", "/moved", overwrite=True)
    assert [e.name for e in backend.list("/moved")] == ["b.txt"]


def test_copy_between_containers_and_of_whole_containers(account, swift_conn, container):
    other = f"o-{uuid.uuid4().hex[:8]}"
    account.mkdir(f"/{container}/d")
    put(account, f"/{container}/d/x.txt", b"x")
    account.set_meta(f"/{container}", {"{urn:z}c": "container"})
    account.copy(f"/{container}/d", f"/{container}/e")
    account.copy(f"/{container}", f"/{other}")
    try:
        assert names(swift_conn, other) == ["d/", "d/x.txt", "e/", "e/x.txt"]
        assert account.get_meta(f"/{other}") == {"{urn:z}c": "container"}
        account.move(f"/{other}/e", f"/{container}/moved-in")
        assert read(account, f"/{container}/moved-in/x.txt") == b"x"
        assert names(swift_conn, other) == ["d/", "d/x.txt"]
        account.move(f"/{other}", f"/{other}-renamed")
        assert names(swift_conn, f"{other}-renamed") == ["d/", "d/x.txt"]
        assert account.get_meta(f"/{other}-renamed") == {"{urn:z}c": "container"}
        assert other not in [e.name for e in account.list("/")]
    finally:
        for name in (other, f"{other}-renamed"):
            if account.find(account.locate(f"/{name}")):
                account.remove(f"/{name}", recursive=True)


def test_delete_of_a_folder_removes_everything_under_it(backend, swift_conn, container):
    _tree(backend)
    for i in range(40):
        swift_conn.put_object(container, f"src/sub/many/{i:02}", b"m")
    put(backend, "/srcfile", b"not under /src")
    with pytest.raises(OSError) as caught:
        backend.remove("/src")
    assert caught.value.errno == errno.ENOTEMPTY
    calls = count_requests(backend.conn)
    backend.remove("/src", recursive=True)
    assert names(swift_conn, container) == ["srcfile"]
    # one bulk delete for the members, one for the folder's marker once they are gone
    assert calls["post_account"] == 2 and calls["delete_object"] == 0
    with pytest.raises(FileNotFoundError):
        backend.stat("/src")


def test_delete_of_a_container_needs_recursive_when_not_empty(account, swift_conn):
    name = f"del-{uuid.uuid4().hex[:8]}"
    account.mkdir(f"/{name}")
    account.mkdir(f"/{name}/a")
    put(account, f"/{name}/a/b.txt", b"b")
    put(account, f"/{name}/a/large.bin", b"L" * (2 * MiB + 1))  # an SLO: 3 segments
    assert len(names(swift_conn, f"{name}_segments")) == 3
    with pytest.raises(OSError) as caught:
        account.remove(f"/{name}")
    assert caught.value.errno == errno.ENOTEMPTY
    account.remove(f"/{name}", recursive=True)
    assert name not in [e.name for e in account.list("/")]
    containers = [c["name"] for c in swift_conn.get_account()[1]]
    assert name not in containers and f"{name}_segments" not in containers


def test_etag_and_checksum_are_swift_md5(backend, swift_conn, container):
    entry = put(backend, "/f", b"hello")
    assert entry.etag == "5d41402abc4b2a76b9719d911017c592"
    assert entry.checksum == "md5:5d41402abc4b2a76b9719d911017c592"
    assert swift_conn.head_object(container, "f")["etag"] == entry.etag
