"""The Swift backend's sync-client extensions: mtimes, digests, quota, temp URLs.

- ``set_mtime``: a POST that writes ``X-Object-Meta-Mtime`` and the Content-Type
  parameter ``dav_mtime`` that listings carry (``entries.py``); a folder's time
  goes on its marker object. Containers have no settable time (their listing
  row is the account's): ``NotImplementedError``, so ``Win32LastModifiedTime``
  is kept as a dead property there and ``getlastmodified`` is refused.
- Every metadata POST (dead properties, digests, mtimes) re-sends what Swift
  would otherwise drop (user metadata, Content-Disposition, X-Delete-At, a DLO's
  X-Object-Manifest...) and pins the current mtime into the Content-Type, since
  a POST moves the listing's ``last_modified``: a PROPPATCH never changes
  ``getlastmodified``.
- ``digests``: MD5 is Swift's ETag, except for Static Large Objects (their ETag
  is not the content's MD5). Other digests, and an SLO's, are the ones the
  gateway computed and kept as ``X-Object-Meta-Digest-<algorithm>`` (on upload
  for SLOs, ``store_digests`` otherwise); Swift drops them with any overwrite.
  ``list_digests`` is the listing's MD5s only (no HEAD per child).
- ``quota``: the account's ``X-Account-Bytes-Used`` and ``X-Account-Meta-Quota-
  Bytes`` (``account_quotas``), or inside a container with
  ``X-Container-Meta-Quota-Bytes`` (``container_quotas``) that container's.
- ``redirect_url``, ``upload_url``: Swift temp URLs (``tempurl.py``).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from davprovider.backend import Entry, Quota
from davprovider.digests import HEX_LENGTH, checksum_digests, pick

from .entries import header_time, mtime_text, split_mtime, swift_etag, with_mtime, writes
from .errors import translated
from .names import user_meta
from .tempurl import TempUrls

if TYPE_CHECKING:
    from swiftclient.client import Connection

log = logging.getLogger("davprovider.swift")

#: Object headers a POST replaces (Swift's ``allowed_headers`` and friends): re-sent.
KEPT_ON_POST = (
    "content-disposition", "content-encoding", "content-language", "cache-control",
    "expires", "x-delete-at", "x-object-manifest", "x-robots-tag",
)  # fmt: skip
DIGEST_META = "digest-"  # X-Object-Meta-Digest-<algorithm>
MTIME_META = "mtime"  # X-Object-Meta-Mtime


def digest_meta(digests: Mapping[str, str]) -> dict[str, str]:
    """Digests as user metadata names (``digest-<algorithm>``) and lowercase hex."""
    return {
        f"{DIGEST_META}{a}": v.lower()
        for a, v in digests.items()
        if a in HEX_LENGTH and len(v) == HEX_LENGTH[a]
    }


def digest_headers(digests: Mapping[str, str]) -> dict[str, str]:
    """Digests as ``X-Object-Meta-Digest-*`` headers for a PUT."""
    return {f"X-Object-Meta-{k}": v for k, v in digest_meta(digests).items()}


def stored_digests(headers: Mapping[str, str]) -> dict[str, str]:
    """The digests kept in an object's metadata (``digest_headers``' inverse)."""
    found = {}
    for key, value in user_meta(headers, "object").items():
        algorithm = key[len(DIGEST_META) :] if key.startswith(DIGEST_META) else ""
        if algorithm in HEX_LENGTH and len(value) == HEX_LENGTH[algorithm]:
            found[algorithm] = value.lower()
    return found


def post_object(
    conn: Connection,
    container: str,
    name: str,
    head: Mapping[str, str],
    meta: Mapping[str, str],
    mtime: float | None = None,
) -> None:
    """POST ``meta`` (the object's complete user metadata, without prefix) to an
    object described by ``head`` (its HEAD), keeping what a POST would drop and
    its mtime (``mtime``, or the one it has)."""
    headers = {f"X-Object-Meta-{k}": v for k, v in meta.items()}
    for key, value in head.items():
        if key.lower() in KEPT_ON_POST:
            headers[key] = value
    content_type, current = split_mtime(head.get("content-type"))
    if mtime is None:
        mtime = current if current is not None else header_time(head.get("x-timestamp"))
    if mtime is not None:
        content_type = with_mtime(content_type, mtime)
    if content_type:
        headers["Content-Type"] = content_type
    conn.post_object(container, name, headers)


class SyncExtensions(TempUrls):
    """The sync-client calls of ``SwiftBackend``, over its account."""

    # --- modification times -------------------------------------------------------------

    @translated
    @writes
    def set_mtime(self, path: str, mtime: float) -> None:
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            raise NotImplementedError("a Swift container has no settable modification time")
        name, head = loc.obj, self.head_object(loc.container, loc.obj)  # an object: 1 HEAD
        if head is None:  # a folder: its marker, or a new marker if it has none
            _, row = self.lookup(loc)
            if row is None:
                self.put_marker(loc, {}, mtime)
                return
            name, head = row["name"], self.head_object(loc.container, row["name"])
            if head is None:
                raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        meta = {**user_meta(head, "object"), MTIME_META: mtime_text(mtime)}
        post_object(self.conn, loc.container, name, head, meta, mtime)

    # --- digests ----------------------------------------------------------------------

    @translated
    def digests(
        self, path: str, entry: Entry, algorithms: Collection[str], *, compute: bool = False
    ) -> dict[str, str]:
        """MD5 from the listing's ETag; other algorithms (and an SLO's MD5) from
        the object's metadata, with one HEAD when any is wanted."""
        del compute  # Swift computes nothing on demand; the gateway reads instead
        found = checksum_digests(entry.checksum)
        if entry.is_dir or all(a in found for a in algorithms):
            return pick(found, algorithms)
        loc = self.locate(path)
        head = self.head_object(loc.container, loc.obj)
        if head is not None and head.get("etag", "").strip('"') == swift_etag(entry.etag or ""):
            found = {**stored_digests(head), **found}
        return pick(found, algorithms)

    @translated
    @writes
    def store_digests(self, path: str, digests: Mapping[str, str]) -> None:
        """Kept as metadata (one POST), unless it would only repeat the ETag's MD5."""
        loc = self.locate(path)
        if loc.is_account or loc.is_container:
            return
        head = self.head_object(loc.container, loc.obj)
        if head is None:
            raise FileNotFoundError(errno.ENOENT, f"not found: {path}")
        known = stored_digests(head)
        if "x-static-large-object" not in head:
            known["md5"] = head.get("etag", "").strip('"')
        new = digest_meta({a: v for a, v in digests.items() if a not in known})
        if new:
            post_object(
                self.conn, loc.container, loc.obj, head, {**user_meta(head, "object"), **new}
            )

    # --- quota ------------------------------------------------------------------------

    @translated
    def quota(self, path: str) -> Quota:
        loc = self.locate(path)
        account = self.conn.head_account()
        used = _number(account.get("x-account-bytes-used"))
        limit = _number(account.get("x-account-meta-quota-bytes"))
        available = None if limit is None else max(0, limit - (used or 0))
        if loc.container:
            container = self.conn.head_container(loc.container)
            own_limit = _number(container.get("x-container-meta-quota-bytes"))
            if own_limit is not None:
                used = _number(container.get("x-container-bytes-used")) or 0
                own = max(0, own_limit - used)
                available = own if available is None else min(available, own)
        return Quota(used=used, available=available)


def _number(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None
