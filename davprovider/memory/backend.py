"""Backend over a ``Tree`` kept in memory: the contract's reference implementation."""

from __future__ import annotations

import errno
import hashlib
import io
from collections.abc import Collection, Mapping, Sequence
from typing import BinaryIO

from davprovider.backend import DIGEST_ALGORITHMS, Backend, Entry, Upload
from davprovider.digests import Hasher
from davprovider.memory.tree import File, Folder, Node, Tree, duplicate, is_below, split


def _entry(name: str, node: Node) -> Entry:
    if isinstance(node, Folder):
        return Entry(name, True, None, node.modified, f"d{node.tag:x}", None, None, node.created)
    assert isinstance(node, File)
    checksum = f"md5:{node.md5}" if node.md5 else None
    etag = f"f{node.tag:x}"
    return Entry(
        name, False, len(node.data), node.modified, etag, node.content_type, checksum, node.created
    )


def _digests(node: File, algorithms: Collection[str]) -> dict[str, str]:
    """Every digest of the file's bytes, computed once (a write makes a new node)."""
    if not node.digests:
        hasher = Hasher(DIGEST_ALGORITHMS)
        hasher.update(node.data)
        node.digests = hasher.hexdigests()
    return {a: v for a, v in node.digests.items() if a in algorithms}


def _name(path: str) -> str:
    parts = split(path)
    return parts[-1] if parts else ""


class MemoryUpload(Upload):
    """Collects bytes privately; ``commit`` swaps them in under the tree lock."""

    def __init__(self, backend: MemoryBackend, path: str, size: int | None, ctype: str | None):
        self._backend = backend
        self._path = path
        self._size = size
        self._content_type = ctype
        self._buffer = bytearray()
        self._md5 = hashlib.md5()
        self._done = False
        self._mtime: float | None = None

    def pin_mtime(self, mtime: float) -> bool:
        self._mtime = mtime
        return True

    def write(self, data: bytes) -> None:
        if self._done:
            raise ValueError("upload already finished")
        self._buffer += data
        self._md5.update(data)

    def commit(self) -> Entry:
        if self._done:
            raise ValueError("upload already finished")
        self._done = True
        if self._size is not None and len(self._buffer) != self._size:
            got, want = len(self._buffer), self._size
            self._buffer = bytearray()
            raise ValueError(f"upload incomplete: {got} of {want} bytes received")
        return self._backend._store(self._path, self)

    def abort(self) -> None:
        self._done = True
        self._buffer = bytearray()


class MemoryBackend(Backend):
    """One caller's view of a shared ``Tree``; ``read_only`` refuses writes."""

    def __init__(self, tree: Tree, *, read_only: bool = False) -> None:
        self._tree = tree
        self._read_only = read_only

    def _check_writable(self, path: str) -> None:
        if self._read_only:
            raise PermissionError(errno.EACCES, "read-only account", path)

    def stat(self, path: str) -> Entry:
        with self._tree.lock:
            return _entry(_name(path), self._tree.find(path))

    def list(self, path: str) -> Sequence[Entry]:
        with self._tree.lock:
            folder = self._tree.folder(path)
            return [_entry(name, node) for name, node in sorted(folder.children.items())]

    def open_read(self, path: str, *, known: Entry | None = None) -> BinaryIO:
        del known  # the tree is at hand
        with self._tree.lock:
            node = self._tree.find(path)
        if isinstance(node, Folder):
            raise IsADirectoryError(errno.EISDIR, "is a collection", path)
        assert isinstance(node, File)
        return io.BytesIO(node.data)

    def open_write(
        self,
        path: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        absent: bool = False,
    ) -> Upload:
        del absent  # the tree is at hand: the commit checks the target
        self._check_writable(path)
        with self._tree.lock:
            self._check_target(path)
        return MemoryUpload(self, path, size, content_type)

    def _check_target(self, path: str) -> None:
        parent, name = self._tree.parent_of(path)
        if isinstance(parent.children.get(name), Folder):
            raise IsADirectoryError(errno.EISDIR, "is a collection", path)

    def _store(self, path: str, upload: MemoryUpload) -> Entry:
        with self._tree.lock:
            self._check_target(path)
            parent, name = self._tree.parent_of(path)
            old = parent.children.get(name)
            node = File(data=bytes(upload._buffer), content_type=upload._content_type)
            node.md5 = upload._md5.hexdigest()
            if isinstance(old, File):
                node.meta, node.created = old.meta, old.created
            if upload._mtime is not None:
                node.modified = upload._mtime
            self._tree.attach(path, node, overwrite=True)
            return _entry(name, node)

    def mkdir(self, path: str) -> None:
        self._check_writable(path)
        with self._tree.lock:
            self._tree.attach(path, Folder(), overwrite=False)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        self._check_writable(path)
        with self._tree.lock:
            self._tree.detach(path, recursive=recursive)

    def copy(
        self, src: str, dst: str, *, depth_infinity: bool = True, overwrite: bool = False
    ) -> None:
        self._check_writable(dst)
        if is_below(dst, src):
            raise ValueError("cannot copy a resource onto or below itself")
        with self._tree.lock:
            clone = duplicate(self._tree.find(src), with_members=depth_infinity)
            self._tree.attach(dst, clone, overwrite=overwrite)

    def move(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        self._check_writable(dst)
        if is_below(dst, src):
            raise ValueError("cannot move a resource onto or below itself")
        with self._tree.lock:
            node = self._tree.find(src)
            parent, name = self._tree.parent_of(dst)
            if name in parent.children and not overwrite:
                raise FileExistsError(errno.EEXIST, "already exists", dst)
            self._tree.detach(src, recursive=True)
            self._tree.attach(dst, node, overwrite=True)

    def get_meta(self, path: str) -> dict[str, str]:
        with self._tree.lock:
            return dict(self._tree.find(path).meta)

    def set_meta(self, path: str, updates: Mapping[str, str | None]) -> None:
        self._check_writable(path)
        with self._tree.lock:
            meta = self._tree.find(path).meta
            for key, value in updates.items():
                if value is None:
                    meta.pop(key, None)
                else:
                    meta[key] = value

    def list_meta(self, path: str, names: Sequence[str]) -> dict[str, dict[str, str]]:
        with self._tree.lock:
            children = self._tree.folder(path).children
            return {n: dict(children[n].meta) for n in names if n in children}

    # --- sync-client extensions ----------------------------------------------------------

    def set_mtime(self, path: str, mtime: float) -> None:
        self._check_writable(path)
        with self._tree.lock:
            self._tree.find(path).modified = mtime

    def digests(
        self, path: str, entry: Entry, algorithms: Collection[str], *, compute: bool = False
    ) -> dict[str, str]:
        with self._tree.lock:
            node = self._tree.find(path)
        if not isinstance(node, File):
            raise IsADirectoryError(errno.EISDIR, "is a collection", path)
        return _digests(node, algorithms)

    def list_digests(
        self, path: str, entries: Sequence[Entry], algorithms: Collection[str]
    ) -> dict[str, dict[str, str]]:
        with self._tree.lock:
            children = self._tree.folder(path).children
            files = {e.name: children.get(e.name) for e in entries}
        return {n: _digests(f, algorithms) for n, f in files.items() if isinstance(f, File)}
