"""The server's root: the shares, listed as collections.

Mounted at ``/`` beside the shares, so that a browser opening the server's address sees
where to go, and a client that mounts the root (PROPFIND Depth 1 on ``/``) sees every
share as a collection. Read-only and without login: it tells share names, nothing of
their content. A share below another segment (``/grid/irods``) appears as the virtual
folder ``grid``. Anything else under ``/`` that is not a share is 404.
"""

from __future__ import annotations

from typing import Any

from wsgidav.dav_provider import DAVCollection, DAVProvider


class RootProvider(DAVProvider):
    """Virtual read-only collections for ``/`` and the folders above share paths."""

    def __init__(self, share_paths: list[str]) -> None:
        super().__init__()
        self.share_paths = sorted(share_paths)

    def __repr__(self) -> str:
        return f"RootProvider({self.share_paths!r})"

    def is_readonly(self) -> bool:
        return True

    def members(self, path: str) -> list[str]:
        """Names directly below ``path`` that lead to a share (sorted, unique)."""
        prefix = path.rstrip("/") + "/"
        names = {
            p[len(prefix) :].split("/", 1)[0] for p in self.share_paths if p.startswith(prefix)
        }
        return sorted(name for name in names if name)

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        path = "/" + path.strip("/") if path.strip("/") else "/"
        if path == "/" or self.members(path):
            return VirtualFolder(path, environ, self)
        return None


class VirtualFolder(DAVCollection):
    """``/`` or a folder above a share path: its members are shares or more folders."""

    def __init__(self, path: str, environ: dict[str, Any], root: RootProvider) -> None:
        super().__init__(path, environ)
        self.root = root

    def get_display_info(self) -> dict[str, str]:
        return {"type": "Share" if self.path == "/" else "Folder"}

    def get_member_names(self) -> list[str]:
        return self.root.members(self.path)

    def get_member(self, name: str) -> Any:
        child = self.path.rstrip("/") + "/" + name
        return VirtualFolder(child, self.environ, self.root)
