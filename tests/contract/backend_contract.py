"""The storage contract as a test suite any Backend must pass.

Subclass ``BackendContract`` and provide a ``backend`` fixture returning an
empty, writable backend (see tests/unit/test_memory_backend.py).
"""

from __future__ import annotations

import errno

import pytest

from davprovider.backend import Backend


def put(backend: Backend, path: str, data: bytes, **kw: object) -> None:
    upload = backend.open_write(path, size=len(data), **kw)  # type: ignore[arg-type]
    upload.write(data)
    upload.commit()


def read(backend: Backend, path: str) -> bytes:
    stream = backend.open_read(path)
    try:
        return stream.read()
    finally:
        stream.close()


class BackendContract:
    def test_stat_and_list_describe_objects_fully(self, backend):
        backend.mkdir("/d")
        put(backend, "/d/f.txt", b"abc", content_type="text/plain")
        (entry,) = backend.list("/d")
        assert entry == backend.stat("/d/f.txt")
        assert (entry.name, entry.is_dir, entry.size) == ("f.txt", False, 3)
        assert entry.etag and entry.modified
        assert backend.stat("/d").is_dir

    def test_missing_paths_raise_file_not_found(self, backend):
        with pytest.raises(FileNotFoundError):
            backend.stat("/nope")
        with pytest.raises(FileNotFoundError):
            backend.list("/nope")

    def test_list_of_a_file_is_not_a_directory(self, backend):
        put(backend, "/f", b"x")
        with pytest.raises(NotADirectoryError):
            backend.list("/f")

    def test_upload_is_invisible_until_commit(self, backend):
        put(backend, "/f", b"old")
        upload = backend.open_write("/f", size=3)
        upload.write(b"new")
        assert read(backend, "/f") == b"old"
        upload.commit()
        assert read(backend, "/f") == b"new"

    def test_abort_keeps_old_content(self, backend):
        put(backend, "/f", b"old")
        upload = backend.open_write("/f", size=3)
        upload.write(b"ne")
        upload.abort()
        assert read(backend, "/f") == b"old"

    def test_commit_refuses_a_short_upload(self, backend):
        put(backend, "/f", b"old")
        upload = backend.open_write("/f", size=10)
        upload.write(b"short")
        with pytest.raises(ValueError):
            upload.commit()
        assert read(backend, "/f") == b"old"
        assert [e.name for e in backend.list("/")] == ["f"]

    def test_etag_changes_with_content(self, backend):
        put(backend, "/f", b"1")
        first = backend.stat("/f").etag
        put(backend, "/f", b"2")
        assert backend.stat("/f").etag != first

    def test_open_read_is_seekable(self, backend):
        put(backend, "/f", b"0123456789")
        stream = backend.open_read("/f")
        stream.seek(4)
        assert stream.read(3) == b"456"
        stream.close()

    def test_mkdir_of_an_existing_path_or_under_a_missing_parent_raises(self, backend):
        backend.mkdir("/d")
        with pytest.raises(FileExistsError):
            backend.mkdir("/d")
        with pytest.raises(FileNotFoundError):
            backend.mkdir("/x/y")

    def test_remove_non_empty_needs_recursive(self, backend):
        backend.mkdir("/d")
        put(backend, "/d/f", b"x")
        with pytest.raises(OSError) as caught:
            backend.remove("/d")
        assert caught.value.errno == errno.ENOTEMPTY
        backend.remove("/d", recursive=True)
        with pytest.raises(FileNotFoundError):
            backend.stat("/d/f")

    def test_copy_carries_dead_properties_and_respects_overwrite(self, backend):
        put(backend, "/a", b"a")
        backend.set_meta("/a", {"{urn:z}k": "v"})
        backend.copy("/a", "/b")
        assert backend.get_meta("/b") == {"{urn:z}k": "v"}
        put(backend, "/c", b"c")
        with pytest.raises(FileExistsError):
            backend.copy("/a", "/c")
        backend.copy("/a", "/c", overwrite=True)
        assert read(backend, "/c") == b"a"

    def test_copy_collection_depth_zero_has_no_members(self, backend):
        backend.mkdir("/d")
        put(backend, "/d/f", b"x")
        backend.copy("/d", "/e", depth_infinity=False)
        assert backend.list("/e") == []
        with pytest.raises(ValueError):
            backend.copy("/d", "/d/inner")

    def test_move_renames_with_properties(self, backend):
        backend.mkdir("/d")
        put(backend, "/d/f", b"x")
        backend.set_meta("/d", {"p": "1"})
        try:
            backend.move("/d", "/e")
        except NotImplementedError:
            pytest.skip("backend cannot rename")
        assert read(backend, "/e/f") == b"x"
        assert backend.get_meta("/e") == {"p": "1"}
        with pytest.raises(FileNotFoundError):
            backend.stat("/d")

    def test_set_meta_to_none_removes_the_property(self, backend):
        put(backend, "/f", b"x")
        backend.set_meta("/f", {"a": "1", "b": "2"})
        backend.set_meta("/f", {"a": None, "missing": None})
        assert backend.get_meta("/f") == {"b": "2"}

    def test_list_meta_returns_members_properties(self, backend):
        put(backend, "/f", b"x")
        put(backend, "/g", b"y")
        backend.set_meta("/g", {"a": "1"})
        meta = backend.list_meta("/", ["f", "g"])
        assert meta.get("g") == {"a": "1"} and not meta.get("f")
