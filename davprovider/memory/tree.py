"""The in-memory namespace: a tree of folders and files behind one lock."""

from __future__ import annotations

import copy
import errno
import itertools
import threading
import time
from dataclasses import dataclass, field

_etags = itertools.count(1)


def split(path: str) -> list[str]:
    """Share-relative path -> segments; raises ``ValueError`` for odd input."""
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/': {path!r}")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"path must not contain '.' or '..': {path!r}")
    return parts


@dataclass
class Node:
    """Common state of files and folders."""

    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)
    meta: dict[str, str] = field(default_factory=dict)
    tag: int = field(default_factory=lambda: next(_etags))

    def touch(self) -> None:
        self.modified = time.time()
        self.tag = next(_etags)


@dataclass
class File(Node):
    data: bytes = b""
    content_type: str | None = None
    md5: str | None = None
    digests: dict[str, str] = field(default_factory=dict)  # computed on first need


@dataclass
class Folder(Node):
    children: dict[str, Node] = field(default_factory=dict)


class Tree:
    """A folder hierarchy; callers hold ``lock`` around every operation."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.root = Folder()

    def find(self, path: str) -> Node:
        """Return the node at ``path`` or raise ``FileNotFoundError``."""
        node: Node = self.root
        for part in split(path):
            if not isinstance(node, Folder) or part not in node.children:
                raise FileNotFoundError(errno.ENOENT, "no such object", path)
            node = node.children[part]
        return node

    def folder(self, path: str) -> Folder:
        """Return the folder at ``path``; ``NotADirectoryError`` for a file."""
        node = self.find(path)
        if not isinstance(node, Folder):
            raise NotADirectoryError(errno.ENOTDIR, "not a collection", path)
        return node

    def parent_of(self, path: str) -> tuple[Folder, str]:
        """Return (parent folder, name); the root has no parent."""
        parts = split(path)
        if not parts:
            raise PermissionError(errno.EPERM, "the share root cannot be replaced", path)
        parent_path = "/" + "/".join(parts[:-1])
        try:
            return self.folder(parent_path), parts[-1]
        except NotADirectoryError:
            raise FileNotFoundError(errno.ENOENT, "parent is not a collection", path) from None

    def attach(self, path: str, node: Node, *, overwrite: bool) -> None:
        """Place ``node`` at ``path`` (replacing what is there only if allowed)."""
        parent, name = self.parent_of(path)
        if name in parent.children and not overwrite:
            raise FileExistsError(errno.EEXIST, "already exists", path)
        parent.children[name] = node
        parent.touch()

    def detach(self, path: str, *, recursive: bool) -> Node:
        """Remove and return the node at ``path``."""
        parent, name = self.parent_of(path)
        node = parent.children.get(name)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, "no such object", path)
        if isinstance(node, Folder) and node.children and not recursive:
            raise OSError(errno.ENOTEMPTY, "collection not empty", path)
        del parent.children[name]
        parent.touch()
        return node


def duplicate(node: Node, *, with_members: bool) -> Node:
    """Copy a subtree (file bytes are immutable and shared); fresh ETags and times."""
    now = time.time()
    if isinstance(node, Folder):
        members = {}
        if with_members:
            members = {k: duplicate(v, with_members=True) for k, v in node.children.items()}
        clone: Node = Folder(meta=dict(node.meta), children=members)
    else:
        clone = copy.copy(node)
        clone.meta = dict(node.meta)
        clone.tag = next(_etags)
        if isinstance(clone, File):
            clone.digests = dict(clone.digests)
    clone.created = clone.modified = now
    return clone


def is_below(path: str, ancestor: str) -> bool:
    """True if ``path`` equals ``ancestor`` or lies inside it."""
    return split(path)[: len(split(ancestor))] == split(ancestor)
