"""DELETE, COPY and MOVE of a backend resource: single server-side backend calls.

MOVE falls back to copy + remove when the backend cannot rename. When the backend reports
that some members of a collection failed (``PartialFailure``), the answer is 207
Multi-Status naming each failed member; what succeeded stays done, and only the locks of
what is gone are dropped. Mixed into the resources of ``resources.py``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from wsgidav.dav_error import HTTP_CONFLICT, HTTP_PRECONDITION_FAILED, DAVError

from davprovider.backend import Backend, PartialFailure
from davprovider.dav.errors import backend_errors, member_errors, optional, release_locks_below
from davprovider.dav.liveprops import apply_oc_mtime, forget

CREATED_KEY = "davprovider.created"


def backend_path(path: str) -> str:
    """Resource path (maybe with a trailing slash, maybe empty) -> backend path."""
    return "/" + "/".join(part for part in path.split("/") if part)


class NamespaceMethods:
    """WsgiDAV's "native" DELETE/COPY/MOVE handlers over ``self.backend``."""

    path: str
    environ: dict[str, Any]
    provider: Any
    backend: Backend

    def _check_tree_unlocked(self) -> None:
        lock_manager = self.provider.lock_manager
        if lock_manager is None:
            return
        lock_manager.check_write_permission(
            url=self.get_ref_url(),  # type: ignore[attr-defined]
            depth="infinity",
            token_list=self.environ.get("wsgidav.ifLockTokenList", []),
            principal=self.environ.get("wsgidav.user_name", ""),
        )

    def handle_delete(self) -> bool | list[tuple[str, DAVError]]:
        """DELETE as one recursive backend call, after checking member locks."""
        self._check_tree_unlocked()
        try:
            self.delete()
        except PartialFailure as failure:
            return self._partial(failure, self.path)
        return True

    def delete(self) -> None:
        with backend_errors(self.path):
            self.backend.remove(self.path, recursive=True)
        self.remove_all_locks(recursive=True)  # type: ignore[attr-defined]
        forget(self.environ)

    def _dest_existed(self, dest_path: str) -> bool:
        existed = bool(self.provider.exists(dest_path, self.environ))
        self.environ[CREATED_KEY] = not existed
        return existed

    def handle_copy(
        self, dest_path: str, *, depth_infinity: bool
    ) -> bool | list[tuple[str, DAVError]]:
        """COPY as one server-side backend call (dead properties included)."""
        self._dest_existed(dest_path)
        overwrite = self.environ.get("HTTP_OVERWRITE", "T") == "T"
        dest = backend_path(dest_path)
        try:
            with backend_errors(dest, exists=HTTP_PRECONDITION_FAILED, missing=HTTP_CONFLICT):
                self.backend.copy(
                    self.path, dest, depth_infinity=depth_infinity, overwrite=overwrite
                )
        except PartialFailure as failure:
            return self._partial(failure)
        forget(self.environ)
        apply_oc_mtime(self.backend, dest, self.environ)
        return True

    def handle_move(self, dest_path: str) -> bool | list[tuple[str, DAVError]]:
        """MOVE as a backend rename, or copy + remove if it cannot rename."""
        existed = self._dest_existed(dest_path)
        overwrite = self.environ.get("HTTP_OVERWRITE", "T") == "T"
        dest = backend_path(dest_path)
        removing: str | None = self.path

        def copy_then_remove() -> None:
            nonlocal removing
            removing = None  # a partial copy removed nothing
            self.backend.copy(self.path, dest, depth_infinity=True, overwrite=overwrite)
            removing = self.path
            self.backend.remove(self.path, recursive=True)

        try:
            with backend_errors(dest, exists=HTTP_PRECONDITION_FAILED, missing=HTTP_CONFLICT):
                optional(
                    lambda: self.backend.move(self.path, dest, overwrite=overwrite),
                    copy_then_remove,
                    "MOVE",
                )
        except PartialFailure as failure:
            return self._partial(failure, removing, dest)
        self.remove_all_locks(recursive=True)  # type: ignore[attr-defined]
        if existed and self.provider.lock_manager is not None:
            dest_url = quote(self.provider.share_path + dest)
            self.provider.lock_manager.remove_all_locks_from_url(dest_url, recursive=True)
        forget(self.environ)
        apply_oc_mtime(self.backend, dest, self.environ)
        return True

    def _partial(
        self, failure: PartialFailure, removed: str | None = None, moved_to: str | None = None
    ) -> list[tuple[str, DAVError]]:
        """207 for a collection operation some members of which failed. Below
        ``removed`` (DELETE, MOVE: the source), the locks of what is gone go; a
        MOVE's failure at ``moved_to/x`` means ``removed/x`` stayed."""
        forget(self.environ)
        provider = self.provider
        if removed is not None and provider.lock_manager is not None:
            kept = [
                removed + path[len(moved_to) :]
                if moved_to and path.startswith(moved_to + "/")
                else path
                for path, _ in failure.failures
            ]
            release_locks_below(provider.lock_manager, provider.share_path, removed, kept)
        prefix = provider.mount_path + provider.share_path
        return member_errors(failure, prefix, exists=HTTP_PRECONDITION_FAILED)
