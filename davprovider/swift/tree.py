"""Work on many objects at once: recursive DELETE, COPY and MOVE of folders and
containers, bulk deletes, and Static Large Object segments.

COPY is server-side (Swift's COPY); an SLO is copied segment by segment (each
a server-side COPY) under a new manifest, so the two objects never share
segments. MOVE is copy then delete; an SLO moves by copying only its manifest
(``multipart-manifest=get``) and deleting the old manifest without its
segments, so no data is copied. Deletes go through the ``bulk`` middleware
(10,000 names a request) and take SLO segments along.
"""

from __future__ import annotations

import errno
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from davprovider.backend import Entry

from .errors import translate
from .names import Location

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from .backend import SwiftBackend
    from .entries import Row

log = logging.getLogger("davprovider.swift")
T = TypeVar("T")
R = TypeVar("R")


def parallel(backend: SwiftBackend, fn: Callable[[SwiftBackend, T], R], items: list[T]) -> list[R]:
    """``fn(worker_backend, item)`` for every item, ``concurrency`` at a time, each
    worker thread with its own backend (connection). The first error is raised
    after the others finished."""
    if len(items) <= 1:
        return [fn(backend, item) for item in items]
    local = threading.local()

    def run(item: T) -> R:
        if not hasattr(local, "backend"):
            local.backend = backend.factory(backend.identity)
        return fn(local.backend, item)

    workers = min(backend.options.concurrency, len(items))
    with ThreadPoolExecutor(workers, thread_name_prefix="swift-tree") as pool:
        futures = [pool.submit(run, item) for item in items]
    return [future.result() for future in futures]


def split(path: str) -> tuple[str, str]:
    """``/container/object`` -> (container, object)."""
    container, _, obj = path.lstrip("/").partition("/")
    return container, obj


def manifest(conn: Connection, container: str, obj: str) -> list[dict[str, Any]]:
    """An SLO's segments as its manifest lists them (``path``, ``etag``, ``size_bytes``)."""
    _, body = conn.get_object(container, obj, query_string="multipart-manifest=get&format=raw")
    segments: list[dict[str, Any]] = json.loads(body)
    return segments


def bulk_delete(backend: SwiftBackend, paths: Sequence[str]) -> None:
    """Delete ``/container/object`` paths in order; missing ones are not an error."""
    per_request = backend.limits.bulk_deletes
    if not per_request:
        parallel(backend, lambda b, p: _delete_one(b.conn, p), list(paths))
        return
    for start in range(0, len(paths), per_request):
        batch = "\n".join(quote(p) for p in paths[start : start + per_request])
        headers = {"Accept": "application/json", "Content-Type": "text/plain"}
        _, body = backend.conn.post_account(headers, query_string="bulk-delete", data=batch)
        result = json.loads(body)
        errors = result.get("Errors") or []
        if errors:
            path, status = errors[0]
            raise _status_error(int(str(status).split()[0]), path)
        status = str(result.get("Response Status", "200"))
        if not status.startswith("2"):
            raise _status_error(int(status.split()[0]), "bulk delete")


def _status_error(status: int, what: str) -> OSError | ValueError:
    from swiftclient.exceptions import ClientException

    return translate(ClientException("bulk delete failed", http_status=status), what)


def _delete_one(conn: Connection, path: str) -> None:
    from swiftclient.exceptions import ClientException

    try:
        conn.delete_object(*split(path))
    except ClientException as exc:
        if exc.http_status != 404:
            raise


def delete_rows(
    backend: SwiftBackend, container: str, rows: list[Row], *, keep_segments: bool
) -> None:
    """Delete listed objects; SLO manifests first, then (unless kept) their segments."""
    paths = [f"/{container}/{row['name']}" for row in rows]
    slos = [] if keep_segments else [row["name"] for row in rows if row.get("slo_etag")]
    found = parallel(backend, lambda b, name: manifest(b.conn, container, name), slos)
    bulk_delete(backend, paths + [seg["path"] for segments in found for seg in segments])


def keep_parent(backend: SwiftBackend, loc: Location) -> None:
    """Give an emptied pseudo-folder a marker, so it does not vanish with its last member."""
    parent = loc.parent()
    if parent.obj and backend.first_row(parent.container, parent.prefix) is None:
        backend.put_marker(parent, {})


def remove(
    backend: SwiftBackend, loc: Location, entry: Entry, row: Row | None, *, recursive: bool
) -> None:
    """DELETE: an object (with its segments), a folder or a container."""
    conn = backend.conn
    if not entry.is_dir:
        assert row is not None
        if row.get("slo_etag"):
            conn.delete_object(loc.container, loc.obj, query_string="multipart-manifest=delete")
        else:
            conn.delete_object(loc.container, loc.obj)
        keep_parent(backend, loc)
        return
    rows = list(backend.rows(loc.container, loc.prefix, delimiter=None))
    if not recursive and any(r["name"] != loc.prefix for r in rows):
        raise OSError(errno.ENOTEMPTY, f"collection not empty: /{loc.container}/{loc.obj}")
    if row is not None and row["name"] == loc.obj:
        rows.append(row)  # a folder that `swift upload` made: an object of directory type
    delete_rows(backend, loc.container, rows, keep_segments=False)
    if loc.is_container:
        conn.delete_container(loc.container)
        _drop_if_empty(conn, loc.container + backend.options.segment_suffix)
    else:
        keep_parent(backend, loc)


def _drop_if_empty(conn: Connection, container: str) -> None:
    """Remove a segments container that nothing uses any more (else leave it)."""
    from swiftclient.exceptions import ClientException

    try:
        conn.delete_container(container)
    except ClientException as exc:
        if exc.http_status not in (404, 409):
            raise


def transfer(
    backend: SwiftBackend,
    src: str,
    dst: str,
    *,
    depth_infinity: bool,
    overwrite: bool,
    move: bool = False,
) -> None:
    """COPY or MOVE ``src`` to ``dst`` (see the module docstring)."""
    if dst == src or dst.startswith(src.rstrip("/") + "/"):
        raise ValueError("the destination is the source or lies below it")
    if src.startswith(dst.rstrip("/") + "/"):
        raise ValueError("the destination contains the source")
    s, d = backend.locate(src), backend.locate(dst)
    if src in ("", "/") or dst in ("", "/"):
        raise PermissionError(errno.EACCES, "the share root cannot be copied or moved")
    entry, row = backend.lookup(s)
    if d.is_container and not entry.is_dir:
        raise PermissionError(errno.EACCES, "the share root holds containers only")
    existing = backend.find(d)
    if existing is not None:
        if not overwrite:
            raise FileExistsError(errno.EEXIST, f"already exists: {dst}")
        remove(backend, d, *existing, recursive=True)
    if not d.is_container:
        backend.require_dir(d.parent())
    if not entry.is_dir:
        assert row is not None
        copy_object(backend, s.container, row, d.container, d.obj, move=move)
        if move:
            backend.conn.delete_object(s.container, s.obj)  # an SLO's segments moved along
            keep_parent(backend, s)
        return
    _, found = backend.all_meta(s)
    meta = {k: v for k, v in found.items() if k.startswith("dav-")}  # not quotas, keys...
    if d.is_container:
        headers = {f"X-Container-Meta-{k}": v for k, v in meta.items()}
        backend.conn.put_container(d.container, headers=headers)
    else:
        backend.put_marker(d, meta)
    if depth_infinity:
        _transfer_members(backend, s, d, row, move)


def _transfer_members(
    backend: SwiftBackend, s: Location, d: Location, row: Row | None, move: bool
) -> None:
    rows = list(backend.rows(s.container, s.prefix, delimiter=None))
    members = [r for r in rows if r["name"] != s.prefix]

    def one(worker: SwiftBackend, member: Row) -> None:
        target = d.prefix + member["name"][len(s.prefix) :]
        copy_object(worker, s.container, member, d.container, target, move=move)

    parallel(backend, one, members)
    if not move:
        return
    if row is not None and row["name"] == s.obj:
        rows.append(row)
    delete_rows(backend, s.container, rows, keep_segments=True)
    if s.is_container:
        backend.conn.delete_container(s.container)
    else:
        keep_parent(backend, s)


def copy_object(
    backend: SwiftBackend, src_container: str, row: Row, container: str, name: str, *, move: bool
) -> None:
    """Server-side copy of one listed object (metadata included)."""
    conn, source = backend.conn, f"/{src_container}/{row['name']}"
    if not row.get("slo_etag"):
        conn.copy_object(src_container, row["name"], destination=f"/{container}/{name}")
    elif move:  # the manifest alone: the segments now belong to the new name
        headers = {"X-Copy-From": quote(source)}
        query = "multipart-manifest=get"
        conn.put_object(container, name, None, headers=headers, query_string=query)
    else:
        copy_large_object(backend, src_container, row["name"], container, name)


def copy_large_object(
    backend: SwiftBackend, src_container: str, src: str, container: str, name: str
) -> None:
    """Copy an SLO's segments one by one (server-side), then write the new manifest."""
    conn = backend.conn
    headers = conn.head_object(src_container, src)
    keep = {k: v for k, v in headers.items() if k.lower().startswith("x-object-meta-")}
    keep["Content-Type"] = headers.get("content-type") or "application/octet-stream"
    segments = manifest(conn, src_container, src)
    seg_container = container + backend.options.segment_suffix
    conn.put_container(seg_container)
    total = sum(int(seg.get("size_bytes") or 0) for seg in segments)
    first = int(segments[0].get("size_bytes") or 0) if segments else 0
    prefix = f"{name}/slo/{time.time():.6f}/{total}/{first}/"
    copied: list[dict[str, Any]] = []
    try:
        for index, seg in enumerate(segments):
            target = f"/{seg_container}/{prefix}{index:08d}"
            copied.append({**seg, "path": target})
            conn.copy_object(*split(seg["path"]), destination=target)
        body = json.dumps(copied)
        conn.put_object(container, name, body, query_string="multipart-manifest=put", headers=keep)
    except BaseException:
        _forget_segments(backend, [seg["path"] for seg in copied])
        raise


def _forget_segments(backend: SwiftBackend, paths: list[str]) -> None:
    try:
        bulk_delete(backend, paths)
    except (OSError, ValueError) as exc:
        log.warning("could not delete copied segments %s...: %s", paths[:1], exc)
