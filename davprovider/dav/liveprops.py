"""Live properties and headers for sync clients, over the backend's extensions.

- Modification time: PROPPATCH of ``DAV:getlastmodified``, ``DAV:lastmodified`` or
  ``Win32LastModifiedTime`` and ``X-OC-Mtime`` on PUT/COPY/MOVE call
  ``Backend.set_mtime``; the next PROPFIND or GET reports the new time.
- Checksums: ``oc:checksums`` (ownCloud, rclone), ``dcache:Checksums`` (grid tools),
  ``Want-Digest``/``Digest`` (RFC 3230) and ``Want-Repr-Digest``/``Repr-Digest``
  (RFC 9530). A listing member gets its digests from one ``list_digests`` call for the
  whole collection (never computed); the request's own object may have them computed:
  by the backend's own means first, then by reading it back when it is no larger than
  ``checksums.compute_limit`` (the result goes to ``store_digests``).
- RFC 4331 quota from ``Backend.quota``, omitted (404) when the backend cannot tell.

Each is computed only when a PROPFIND names it: ``allprop`` does not include them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection
from typing import Any

from lxml import etree
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    DAVError,
    PRECONDITION_CODE_ProtectedProperty,
)

from davprovider.backend import DIGEST_ALGORITHMS, Backend, Entry, Quota
from davprovider.dav.clients import MTIME_PROPERTIES, WIN32_MTIME, oc_mtime, parse_time
from davprovider.dav.errors import backend_errors, optional
from davprovider.dav.properties import (
    DCACHE_CHECKSUMS,
    OC_CHECKSUM,
    OC_CHECKSUMS,
    OC_PERMISSIONS,
    QUOTA_AVAILABLE,
    QUOTA_USED,
)
from davprovider.digests import (
    DCACHE_ORDER,
    OWNCLOUD_ORDER,
    asked_names,
    compute_digests,
    dcache_text,
    digest_header,
    owncloud_text,
    pick,
    repr_digest_header,
    wanted_digests,
    wanted_repr_digests,
)

log = logging.getLogger("davprovider.dav.resources")

CACHE_KEY = "davprovider.dav.resources"
OC_MTIME_KEY = "davprovider.oc_mtime_accepted"
DigestLoader = Callable[[], dict[str, str]]
_UNSET = object()


# --- values of an Entry: one source for the resources and the fast PROPFIND -----------


def entry_etag(path: str, entry: Entry) -> str | None:
    """``getetag``: the backend's; a file without one gets a hash of path, size and
    mtime; a folder without one has none."""
    if entry.etag or entry.is_dir:
        return entry.etag or None
    return hashlib.sha1(f"{path}:{entry.size}:{entry.modified}".encode()).hexdigest()


def entry_created(entry: Entry) -> float | None:
    """``creationdate``: the creation time, else the modification time."""
    return entry.created if entry.created is not None else entry.modified


def entry_content_type(path: str, entry: Entry, config: dict[str, Any]) -> str:
    """``getcontenttype``: the backend's, else guessed from the name."""
    return entry.content_type or str(util.guess_mime_type(path, config))


def _none() -> None:
    return None


def forget(environ: dict[str, Any]) -> None:
    """Drop the request's resource cache (called after every write)."""
    environ.pop(CACHE_KEY, None)


def set_mtime(backend: Backend, path: str, mtime: float) -> bool:
    """``Backend.set_mtime``; False when the backend cannot set times."""

    def apply() -> bool:
        backend.set_mtime(path, mtime)
        return True

    with backend_errors(path):
        return optional(apply, lambda: False, "mtime")


def apply_oc_mtime(backend: Backend, path: str, environ: dict[str, Any]) -> bool:
    """Apply a request's ``X-OC-Mtime`` to ``path`` after a successful write; the
    provider then answers ``X-OC-Mtime: accepted``. A failure is logged, not raised:
    the content is already stored (the client falls back to PROPPATCH)."""
    mtime = oc_mtime(environ)  # validated by the provider before the request ran
    if mtime is None:
        return False
    try:
        accepted = set_mtime(backend, path, mtime)
    except DAVError as error:
        log.warning("X-OC-Mtime on %s not applied: %s", path, error.get_user_info())
        return False
    environ[OC_MTIME_KEY] = accepted
    forget(environ)
    return accepted


def digest_headers(resource: Any, environ: dict[str, Any]) -> list[tuple[str, str]]:
    """``Digest``/``Repr-Digest`` for a GET or HEAD that asks for them."""
    want, want_repr = wanted_digests(environ), wanted_repr_digests(environ)
    if not (want or want_repr) or resource is None or resource.is_collection:
        return []
    digests = resource.content_digests({*want, *want_repr}, compute=True)
    headers = []
    if want and (value := digest_header(digests, want, asked_names(environ))):
        headers.append(("Digest", value))
    if want_repr and (value := repr_digest_header(digests, want_repr)):
        headers.append(("Repr-Digest", value))
    return headers


class LiveProperties:
    """Mixed into the resources: computed properties and settable times."""

    path: str
    environ: dict[str, Any]
    provider: Any
    is_collection: bool
    backend: Backend
    entry: Entry | None

    def _setup_live(self, digests: DigestLoader | None) -> None:
        self._sibling_digests = digests
        self._digests: dict[str, str] | None = None
        self._quota: Any = _UNSET

    # --- modification time ------------------------------------------------------------

    def apply_mtime(self, mtime: float) -> bool:
        """Set this resource's mtime; False when the backend cannot."""
        if not set_mtime(self.backend, self.path, mtime):
            return False
        with backend_errors(self.path):
            self.entry = self.backend.stat(self.path)
        forget(self.environ)
        return True

    def set_live_property(self, name: str, value: Any, *, dry_run: bool) -> bool:
        """PROPPATCH of a property the gateway handles itself; False for others."""
        if name in MTIME_PROPERTIES:
            self._set_mtime_property(name, value, dry_run=dry_run)
            return True
        if name == OC_CHECKSUMS:
            # rclone sends its checksum with the mtime; ours come from the content.
            log.debug("PROPPATCH %s: client oc:checksums ignored", self.path)
            return True
        if name in (DCACHE_CHECKSUMS, OC_PERMISSIONS, QUOTA_USED, QUOTA_AVAILABLE):
            raise DAVError(HTTP_FORBIDDEN, err_condition=PRECONDITION_CODE_ProtectedProperty)
        return False

    def _set_mtime_property(self, name: str, value: Any, *, dry_run: bool) -> None:
        if value is None:
            if name == WIN32_MTIME:
                return
            raise DAVError(HTTP_FORBIDDEN, err_condition=PRECONDITION_CODE_ProtectedProperty)
        try:
            mtime = parse_time(value.text)
        except ValueError as exc:
            raise DAVError(HTTP_CONFLICT, f"{name}: {exc}") from None
        if dry_run or self.apply_mtime(mtime):
            return
        if name != WIN32_MTIME:
            raise DAVError(HTTP_FORBIDDEN, "this share cannot set modification times")
        self.store_dead_property(name, value)

    def store_dead_property(self, name: str, value: Any) -> None:
        raise NotImplementedError

    # --- computed values --------------------------------------------------------------

    def computed_value(self, name: str) -> Any:
        """The value of a ``properties.COMPUTED`` property, or ``DAVError(404)``."""
        if name == WIN32_MTIME:
            modified = self.get_last_modified()
            if modified is None:
                raise DAVError(HTTP_NOT_FOUND)
            return util.get_rfc1123_time(modified)
        if name in (QUOTA_USED, QUOTA_AVAILABLE):
            return self._quota_value(name)
        if self.is_collection or self.entry is None or name not in (OC_CHECKSUMS, DCACHE_CHECKSUMS):
            raise DAVError(HTTP_NOT_FOUND)
        if name == OC_CHECKSUMS:
            text = owncloud_text(self.content_digests(OWNCLOUD_ORDER, compute=True))
            if not text:
                raise DAVError(HTTP_NOT_FOUND)
            element = etree.Element(OC_CHECKSUMS)
            etree.SubElement(element, OC_CHECKSUM).text = text
            return element
        text = dcache_text(self.content_digests(DCACHE_ORDER, compute=True))
        if not text:
            raise DAVError(HTTP_NOT_FOUND)
        return text

    def get_last_modified(self) -> float | None:
        raise NotImplementedError

    def _quota_value(self, name: str) -> str:
        if not self.is_collection:  # RFC 4331 quota describes collections (davix and
            raise DAVError(HTTP_NOT_FOUND)  # gfal-ls read a file's as its size)
        if self._quota is _UNSET:
            with backend_errors(self.path):
                self._quota = optional(lambda: self.backend.quota(self.path), Quota, "quota")
        quota: Quota = self._quota
        value = quota.used if name == QUOTA_USED else quota.available
        if value is None:
            raise DAVError(HTTP_NOT_FOUND)
        return str(value)

    def content_digests(self, algorithms: Collection[str], *, compute: bool) -> dict[str, str]:
        """Digests of this object's content for ``algorithms`` (those available).

        A listing member asks its collection's one ``list_digests``; the request's own
        object asks ``Backend.digests`` (once, for every algorithm) and, with
        ``compute``, reads itself back within the configured limit when none of
        ``algorithms`` is known.
        """
        entry = self.entry
        if entry is None or self.is_collection:
            return {}
        if self._sibling_digests is not None:
            return pick(self._sibling_digests(), algorithms)
        if self._digests is None:
            with backend_errors(self.path):
                found = self.backend.digests(self.path, entry, DIGEST_ALGORITHMS, compute=compute)
            self._digests = dict(found)
        # Any one kept digest answers (RFC 3230 lets the server choose; oc:checksums lists
        # what it has): the object is read back only when none of those asked is known.
        known = any(a in self._digests for a in algorithms)
        limit = self.provider.settings.checksums.compute_limit
        if compute and not known and entry.size is not None and entry.size <= limit:
            self._digests.update(self._read_digests(list(algorithms)))
        return pick(self._digests, algorithms)

    def _read_digests(self, missing: list[str]) -> dict[str, str]:
        algorithms = [*missing, *(a for a in ("sha-256",) if a not in (self._digests or {}))]
        log.info("computing %s of %s by reading it", ", ".join(algorithms), self.path)
        with backend_errors(self.path):
            stream = self.backend.open_read(self.path)
            try:
                block = int(self.environ["wsgidav.config"].get("block_size", 1 << 20))
                computed = compute_digests(stream, algorithms, block)
            finally:
                stream.close()
        try:
            optional(lambda: self.backend.store_digests(self.path, computed), _none, "digests")
        except (OSError, ValueError) as exc:  # a reader may not write metadata: fine
            log.info("digests of %s not kept: %s", self.path, exc)
        return computed
