"""Work on many objects at once: recursive DELETE, COPY and MOVE of folders and
containers, bulk deletes, and Static Large Object segments.

COPY is server-side (Swift's COPY); an SLO is copied segment by segment (each
a server-side COPY) under a new manifest, so the two objects never share
segments. MOVE is copy then delete; an SLO moves by copying only its manifest
(``multipart-manifest=get``) and deleting the old manifest without its
segments, so no data is copied. A COPY gets a new modification time, a MOVE
keeps it (``entries.py``). Deletes go through the ``bulk`` middleware (10,000
names a request) and take SLO segments along, segments first, so that an SLO
whose segments cannot be deleted stays whole.

For a folder every member is tried: when Swift refuses some, the rest is done,
the folder (its marker, a MOVE's source) stays, and ``PartialFailure`` names
each refused member (for COPY and MOVE by its destination path).

Dead properties that arrive in another container flag it (``props.py``).
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
from urllib.parse import quote, unquote

from davprovider.backend import Entry, PartialFailure

from .entries import fresh_mtime
from .errors import translate
from .names import PROPS_FLAG, Location
from .props import all_meta, flag, flagged

if TYPE_CHECKING:
    from swiftclient.client import Connection

    from .account import Account
    from .entries import Row

log = logging.getLogger("davprovider.swift")
T = TypeVar("T")
R = TypeVar("R")


def parallel(account: Account, fn: Callable[[Account, T], R], items: list[T]) -> list[R]:
    """``fn(worker_account, item)`` for every item, ``concurrency`` at a time, each
    worker thread with its own account (``Account.fork``: its own connection). The
    first error is raised after the others finished."""
    if len(items) <= 1:
        return [fn(account, item) for item in items]
    local = threading.local()

    def run(item: T) -> R:
        if not hasattr(local, "account"):
            local.account = account.fork()
        return fn(local.account, item)

    workers = min(account.options.concurrency, len(items))
    with ThreadPoolExecutor(workers, thread_name_prefix="swift-tree") as pool:
        futures = [pool.submit(run, item) for item in items]
    return [future.result() for future in futures]


def settled(
    account: Account, fn: Callable[[Account, T], object], items: list[T]
) -> list[tuple[T, BaseException]]:
    """Like ``parallel``, but every item is tried: the ``(item, error)`` of those
    that failed, Swift's errors translated into built-ins."""

    def attempt(worker: Account, item: T) -> BaseException | None:
        try:
            fn(worker, item)
        except (OSError, ValueError) as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - swiftclient/requests: translated
            return translate(exc, str(item))
        return None

    errors = parallel(account, attempt, items)
    return [(item, error) for item, error in zip(items, errors, strict=True) if error]


def split(path: str) -> tuple[str, str]:
    """``/container/object`` -> (container, object)."""
    container, _, obj = path.lstrip("/").partition("/")
    return container, obj


def manifest(conn: Connection, container: str, obj: str) -> list[dict[str, Any]]:
    """An SLO's segments as its manifest lists them (``path``, ``etag``, ``size_bytes``)."""
    _, body = conn.get_object(container, obj, query_string="multipart-manifest=get&format=raw")
    segments: list[dict[str, Any]] = json.loads(body)
    return segments


def slo_segments(account: Account, loc: Location, manifest_etag: str | None) -> list[str]:
    """Segment paths of the SLO at ``loc`` if it is still the one with
    ``manifest_etag`` (so that a replaced manifest's segments can go)."""
    if not manifest_etag:
        return []
    headers = account.head_object(loc.container, loc.obj)
    if headers is None or headers.get("x-manifest-etag") != manifest_etag:
        return []
    return [seg["path"] for seg in manifest(account.conn, loc.container, loc.obj)]


def bulk_delete(account: Account, paths: Sequence[str]) -> None:
    """Delete ``/container/object`` paths; missing ones are not an error; the
    first failure is raised after every path was tried."""
    failures = try_delete(account, paths)
    if failures:
        raise next(iter(failures.values()))


def try_delete(account: Account, paths: Sequence[str]) -> dict[str, OSError | ValueError]:
    """Delete ``/container/object`` paths (the bulk middleware, 10,000 a request,
    else one by one); the ones Swift refused, with their errors."""
    per_request = account.limits.bulk_deletes
    if not per_request:
        refused = settled(account, lambda b, p: _delete_one(b.conn, p), list(paths))
        return {path: _builtin(exc, path) for path, exc in refused}
    failures: dict[str, OSError | ValueError] = {}
    for start in range(0, len(paths), per_request):
        batch = "\n".join(quote(p) for p in paths[start : start + per_request])
        headers = {"Accept": "application/json", "Content-Type": "text/plain"}
        _, body = account.conn.post_account(headers, query_string="bulk-delete", data=batch)
        result = json.loads(body)
        errors = result.get("Errors") or []
        for path, status in errors:
            path = unquote(path)
            failures[path] = _status_error(int(str(status).split()[0]), path)
        status = str(result.get("Response Status", "200"))
        if not errors and not status.startswith("2"):
            raise _status_error(int(status.split()[0]), "bulk delete")
    return failures


def _builtin(exc: BaseException, what: str) -> OSError | ValueError:
    return exc if isinstance(exc, OSError | ValueError) else translate(exc, what)


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
    account: Account, container: str, rows: list[Row], *, keep_segments: bool
) -> dict[str, OSError | ValueError]:
    """Delete listed objects; the names of those Swift refused, with the errors.

    An SLO's segments go first (unless ``keep_segments``), its manifest only once
    they are gone, so an SLO whose segments cannot be deleted stays whole."""
    failures: dict[str, OSError | ValueError] = {}
    slos = [] if keep_segments else [row["name"] for row in rows if row.get("slo_etag")]
    owners: dict[str, str] = {}
    for name, error in settled(account, lambda b, n: _segments(b, container, n, owners), slos):
        failures[name] = _builtin(error, f"/{container}/{name}")
    for path, error in try_delete(account, list(owners)).items():
        failures.setdefault(owners[path], error)
    rest = [f"/{container}/{row['name']}" for row in rows if row["name"] not in failures]
    for path, error in try_delete(account, rest).items():
        failures[path[len(container) + 2 :]] = error
    return failures


def _segments(account: Account, container: str, name: str, owners: dict[str, str]) -> None:
    for seg in manifest(account.conn, container, name):
        owners[seg["path"]] = name


def refused(account: Account, container: str, failures: dict[str, Any]) -> PartialFailure:
    """The contract's ``PartialFailure`` for objects of ``container`` by name."""
    return PartialFailure(
        [(account.share_path(container, name), error) for name, error in sorted(failures.items())]
    )


def keep_parent(account: Account, loc: Location) -> None:
    """Give an emptied pseudo-folder a marker, so it does not vanish with its last member."""
    parent = loc.parent()
    if parent.obj and account.first_row(parent.container, parent.prefix) is None:
        account.put_marker(parent, {})


def remove(
    account: Account, loc: Location, entry: Entry, row: Row | None, *, recursive: bool
) -> None:
    """DELETE: an object (with its segments), a folder or a container."""
    conn = account.conn
    if not entry.is_dir:
        assert row is not None
        if row.get("slo_etag"):
            conn.delete_object(loc.container, loc.obj, query_string="multipart-manifest=delete")
        else:
            conn.delete_object(loc.container, loc.obj)
        keep_parent(account, loc)
        return
    rows = list(account.rows(loc.container, loc.prefix, delimiter=None))
    members = [r for r in rows if r["name"] != loc.prefix]
    if not recursive and members:
        raise OSError(errno.ENOTEMPTY, f"collection not empty: /{loc.container}/{loc.obj}")
    failures = delete_rows(account, loc.container, members, keep_segments=False)
    if failures:  # the folder stays, with its marker and properties
        raise refused(account, loc.container, failures)
    own = [r for r in rows if r["name"] == loc.prefix]
    if row is not None and row["name"] == loc.obj:
        own.append(row)  # a folder that `swift upload` made: an object of directory type
    for error in delete_rows(account, loc.container, own, keep_segments=False).values():
        raise error
    if loc.is_container:
        conn.delete_container(loc.container)
        _drop_if_empty(conn, loc.container + account.options.segment_suffix)
    else:
        keep_parent(account, loc)


def _drop_if_empty(conn: Connection, container: str) -> None:
    """Remove a segments container that nothing uses any more (else leave it)."""
    from swiftclient.exceptions import ClientException

    try:
        conn.delete_container(container)
    except ClientException as exc:
        if exc.http_status not in (404, 409):
            raise


def transfer(
    account: Account,
    src: str,
    dst: str,
    *,
    depth_infinity: bool,
    overwrite: bool,
    move: bool = False,
) -> None:
    """COPY or MOVE ``src`` to ``dst`` (see the module docstring)."""
    s, d = _check_transfer(account, src, dst)
    entry, row = account.lookup(s)
    if d.is_container and not entry.is_dir:
        raise PermissionError(errno.EACCES, "the share root holds containers only")
    existing = account.find(d)
    if existing is not None:
        if not overwrite:
            raise FileExistsError(errno.EEXIST, f"already exists: {dst}")
        remove(account, d, *existing, recursive=True)
    if not d.is_container:
        account.require_dir(d.parent())
    carried = s.container != d.container and flagged(account, s.container)
    if not entry.is_dir:
        assert row is not None
        if carried:
            flag(account, d.container)
        copy_object(account, s.container, row, d.container, d.obj, move=move)
        if move:
            account.conn.delete_object(s.container, s.obj)  # an SLO's segments moved along
            keep_parent(account, s)
        return
    _copy_folder(account, s, d, carried)
    if depth_infinity:
        _transfer_members(account, s, d, row, move)


def _check_transfer(account: Account, src: str, dst: str) -> tuple[Location, Location]:
    """The locations of a COPY or MOVE; errors for a destination that is, lies below
    or contains the source, and for the share root."""
    if dst == src or dst.startswith(src.rstrip("/") + "/"):
        raise ValueError("the destination is the source or lies below it")
    if src.startswith(dst.rstrip("/") + "/"):
        raise ValueError("the destination contains the source")
    s, d = account.locate(src), account.locate(dst)
    if src in ("", "/") or dst in ("", "/"):
        raise PermissionError(errno.EACCES, "the share root cannot be copied or moved")
    return s, d


def _copy_folder(account: Account, s: Location, d: Location, carried: bool) -> None:
    """The folder (or container) ``d`` with the dead properties of ``s`` (and the
    properties flag when they arrive from a flagged container: ``carried``)."""
    _, found, _ = all_meta(account, s)
    meta = {k: v for k, v in found.items() if k.startswith("dav-")}  # not quotas, keys...
    if d.is_container:
        headers = {f"X-Container-Meta-{k}": v for k, v in meta.items()}
        if carried:
            headers[f"X-Container-Meta-{PROPS_FLAG}"] = "1"
        account.conn.put_container(d.container, headers=headers)
    else:
        if carried or meta:
            flag(account, d.container)
        account.put_marker(d, meta)


def _transfer_members(
    account: Account, s: Location, d: Location, row: Row | None, move: bool
) -> None:
    """Copy every object under ``s`` to ``d`` (all tried); MOVE then deletes the
    sources that were copied, and the source folder only if nothing failed."""
    rows = list(account.rows(s.container, s.prefix, delimiter=None))
    members = [r for r in rows if r["name"] != s.prefix]

    def target(member: Row) -> str:
        return d.prefix + member["name"][len(s.prefix) :]

    def one(worker: Account, member: Row) -> None:
        copy_object(worker, s.container, member, d.container, target(member), move=move)

    failed = settled(account, one, members)
    failures = [(account.share_path(d.container, target(m)), error) for m, error in failed]
    if move:
        copied = [r for r in members if all(r is not m for m, _ in failed)]
        kept = delete_rows(account, s.container, copied, keep_segments=True)
        failures += [(account.share_path(s.container, n), e) for n, e in sorted(kept.items())]
    if failures:
        raise PartialFailure(failures)
    if not move:
        return
    own = [r for r in rows if r["name"] == s.prefix]
    if row is not None and row["name"] == s.obj:
        own.append(row)
    for error in delete_rows(account, s.container, own, keep_segments=True).values():
        raise error
    if s.is_container:
        account.conn.delete_container(s.container)
    else:
        keep_parent(account, s)


def copy_object(
    account: Account, src_container: str, row: Row, container: str, name: str, *, move: bool
) -> None:
    """Server-side copy of one listed object (metadata included)."""
    conn, source = account.conn, f"/{src_container}/{row['name']}"
    if not row.get("slo_etag"):
        headers = {} if move else fresh_mtime(row.get("content_type"))
        conn.copy_object(
            src_container, row["name"], destination=f"/{container}/{name}", headers=headers
        )
    elif move:  # the manifest alone: the segments now belong to the new name
        headers = {"X-Copy-From": quote(source)}
        query = "multipart-manifest=get"
        conn.put_object(container, name, None, headers=headers, query_string=query)
    else:
        copy_large_object(account, src_container, row["name"], container, name)


def copy_large_object(
    account: Account, src_container: str, src: str, container: str, name: str
) -> None:
    """Copy an SLO's segments one by one (server-side), then write the new manifest."""
    conn = account.conn
    headers = conn.head_object(src_container, src)
    keep = {k: v for k, v in headers.items() if k.lower().startswith("x-object-meta-")}
    keep["Content-Type"] = headers.get("content-type") or "application/octet-stream"
    keep.update(fresh_mtime(keep["Content-Type"]))
    segments = manifest(conn, src_container, src)
    seg_container = container + account.options.segment_suffix
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
        _forget_segments(account, [seg["path"] for seg in copied])
        raise


def _forget_segments(account: Account, paths: list[str]) -> None:
    try:
        bulk_delete(account, paths)
    except (OSError, ValueError) as exc:
        log.warning("could not delete copied segments %s...: %s", paths[:1], exc)
