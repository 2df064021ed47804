"""The storage contract: what the gateway needs from any backend.

Everything WebDAV-specific lives in ``dav/``; a backend only speaks in
paths, ``Entry`` records, byte streams and Python's built-in exceptions.

Paths are share-relative, absolute, unquoted POSIX strings: ``"/"`` is the
share root, ``"/a/b.txt"`` a member. They never end with ``"/"`` (except the
root) and never contain ``"."``/``".."`` segments (the caller normalises them).
A backend maps them onto its own namespace (an iRODS collection, a Swift
container, a dict in memory).

Errors are the built-in exceptions below, never backend-specific types. The
WebDAV layer translates each once (``dav/errors.py``):

=========================================================  ================
exception                                                  HTTP status
=========================================================  ================
``FileNotFoundError`` (missing object or missing parent)   404 (409 for
                                                           a missing parent
                                                           on create)
``PermissionError`` (no permission)                        403
``FileExistsError`` (target exists)                        405 / 412
``IsADirectoryError`` / ``NotADirectoryError``             409
``OSError(errno.ENOTEMPTY)`` (collection not empty)        409
``OSError(ENOSPC or EDQUOT)`` (no space, quota exceeded)   507
``OSError(errno.EAGAIN)`` (backend busy, try again later)  503
``ConnectionError`` (backend unreachable, session died)    502
``TimeoutError`` (backend too slow)                        504
``ValueError`` (bad input, e.g. short upload, bad name)    400
=========================================================  ================

A backend is obtained per request from a ``BackendFactory`` keyed by the
caller's ``Identity`` (below): the factory may pool
sessions per identity; the backend object it returns is used by one request
(one thread) at a time.

Optional methods. A backend that lacks a capability says so in one way only: the
method raises ``NotImplementedError`` (the defaults here do), and the WebDAV layer
owns every fallback (``dav/errors.optional``):

==========================  ==================================================
method                      when it raises ``NotImplementedError``
==========================  ==================================================
``move``                    COPY plus DELETE instead
``list_meta``               ``get_meta`` per member instead
``set_mtime``               no ``X-OC-Mtime: accepted``; PROPPATCH of the time
                            is 403 (``Win32LastModifiedTime`` kept as dead)
``store_digests``,          the digests are not kept (computed again when
``Upload.set_digests``      asked)
``quota``                   RFC 4331 properties omitted
``redirect_url``            the GET is streamed through the gateway
``upload_url``              the PUT is streamed through the gateway
``stat_target``             ``stat`` instead
==========================  ==================================================

``digests``/``list_digests`` are not optional: their defaults answer from
``Entry.checksum``. Digest algorithms are named as in ``DIGEST_ALGORITHMS``;
digest values are lowercase hex strings.

Leftovers. Uploads that a crash (the gateway killed, the backend restarted) cut
short can leave hidden objects behind; ``BackendFactory.sweep`` removes those
older than the share's ``sweep_age`` (default one hour), at start and every
``sweep_interval`` seconds, and a backend MAY also sweep an identity's own
when its session opens.

Backend types are loaded by name (``backend: memory`` in the config) by
``plugins.py``. Such a module exposes ``Options`` (a frozen dataclass describing
its ``options:`` mapping, validated by ``settings.py``) and
``create_factory(options) -> BackendFactory``.
"""

from __future__ import annotations

import errno
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from davprovider.digests import DIGEST_ALGORITHMS, checksum_digests

__all__ = [
    "DIGEST_ALGORITHMS",
    "Backend",
    "BackendFactory",
    "Entry",
    "Identity",
    "PartialFailure",
    "Quota",
    "Upload",
]


@dataclass(frozen=True)
class Identity:
    """An authenticated caller, as the authenticators (``auth/``) hand it to backends.

    ``user`` is the backend account name; ``method`` names the authenticator that
    matched (``basic``, ``x509``, ``ipallow``, ``anonymous``); ``dn`` is the
    certificate subject for X.509 identities; ``password`` is kept only for backends
    that need it to open a session (Basic passthrough) and never appears in
    ``repr()`` or logs. ``ticket`` is a delegation the backend verifies itself (an iRODS
    ticket given as ``?ticket=``): the backend acts as ``user`` with it supplied, and
    every limit of the ticket is the backend's to enforce. Never in ``repr()`` either.
    """

    user: str
    method: str
    dn: str | None = None
    password: str | None = field(default=None, repr=False)
    ticket: str | None = field(default=None, repr=False)
    fqans: tuple[str, ...] = ()

    @property
    def is_anonymous(self) -> bool:
        """True for the fixed read-only account of an anonymous share."""
        return self.method == "anonymous"


@dataclass(frozen=True)
class Quota:
    """RFC 4331 figures for a collection, in bytes; ``None`` where the backend
    cannot tell (the property is then omitted, never reported as 0)."""

    used: int | None = None
    available: int | None = None


class PartialFailure(OSError):
    """Some members of a collection could not be removed, copied or moved.

    ``remove``, ``copy`` and ``move`` of a collection MAY raise this instead of
    the first error: everything else was done and stays done; the collections
    holding a failed member stay in place (a MOVE's source keeps the members
    that did not move). ``failures`` lists ``(path, error)``: the share path
    of each failed member (for COPY and MOVE its destination path) and the
    built-in exception it met. The WebDAV layer answers 207 Multi-Status
    naming each one (RFC 4918 §9.6.1, §9.8.8, §9.9.4).
    """

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.failures = list(failures)
        first = f": {self.failures[0][0]}: {self.failures[0][1]}" if self.failures else ""
        super().__init__(errno.EIO, f"{len(self.failures)} member(s) failed{first}")


@dataclass(frozen=True)
class Entry:
    """One object or collection, as a listing or a stat returns it.

    ``name`` is the last path segment (``""`` for the share root); ``size`` is
    the content length in bytes (``None`` for collections); ``modified`` and
    ``created`` are POSIX timestamps; ``etag`` is a strong entity tag without
    quotes that changes whenever the content changes; ``content_type`` may be
    ``None`` (then it is guessed from the name); ``checksum`` is
    ``"<algorithm>:<value>"`` (e.g. ``"md5:9e10..."``, ``"sha2:<base64>"``) or
    ``None``. ``created`` is an optional extension of the contract: when it is
    ``None``, ``modified`` stands in for it.
    """

    name: str
    is_dir: bool
    size: int | None
    modified: float | None
    etag: str | None
    content_type: str | None
    checksum: str | None
    created: float | None = None


class Upload(ABC):
    """A pending write of one object, returned by ``Backend.open_write``.

    Nothing is visible at the target path until ``commit()`` returns: readers
    see the old content (or nothing) while bytes arrive. Exactly one of
    ``commit()`` or ``abort()`` ends an upload; ``abort()`` after ``commit()``
    or a second ``abort()`` is a no-op.
    """

    @abstractmethod
    def write(self, data: bytes) -> None:
        """Append ``data``. MUST NOT buffer the whole object in memory
        (a backend that is itself memory is the exception)."""

    @abstractmethod
    def commit(self) -> Entry:
        """Make the written bytes the content of the target and return its entry.

        MUST raise ``ValueError`` (and leave the old content in place, with no
        temporary object behind) when the number of bytes written differs from
        the ``size`` given to ``open_write``. MUST be atomic for readers: they
        see either the old or the new content, never a mix.
        """

    @abstractmethod
    def abort(self) -> None:
        """Discard the written bytes; the target keeps its old content (or
        stays absent). MUST remove any temporary object. MUST NOT raise for a
        backend that is already gone (it logs instead)."""

    #: The digests this upload keeps or checks against the backend's own (of
    #: ``DIGEST_ALGORITHMS``); the gateway computes only these of ``checksums.upload``
    #: (plus those the client sent, which it verifies). ``None``: all of them.
    kept_digests: Collection[str] | None = None

    #: True when, once ``commit()`` returned, ``Backend.digests`` of the new version
    #: knows exactly the digests handed to ``set_digests`` and those of
    #: ``Entry.checksum``: the gateway's listing cache may then answer for it.
    digests_as_given: bool = False

    def plan_digests(self, algorithms: Collection[str]) -> None:
        """The algorithms whose digests ``set_digests`` will bring (those of
        ``kept_digests`` the gateway computes, and the client's), told once before the
        first ``write()``: a backend that stores metadata with the content's own
        request (Swift) can lay the upload out for it. Optional (default: ignored)."""
        del algorithms

    def pin_mtime(self, mtime: float) -> bool:
        """Give the new content the modification time ``mtime`` (POSIX seconds, a
        client's ``X-OC-Mtime``) in the commit itself, as ``Backend.set_mtime`` would
        after it; called before the first ``write()``. True when the backend will;
        False (the default) and the gateway calls ``set_mtime`` after ``commit()``:
        Swift saves a HEAD and a POST per upload this way."""
        del mtime
        return False

    def set_digests(self, digests: Mapping[str, str]) -> None:
        """Digests of every byte written, as the gateway computed them while
        the body streamed (algorithm -> lowercase hex); called once, after the
        last ``write()`` and before ``commit()``, and only for bodies whose
        client-sent checksums matched.

        A backend that computes its own checksum on commit SHOULD compare it
        and refuse the commit on a mismatch (``OSError(errno.EIO)``, old
        content kept); one that can keep metadata SHOULD store them with the
        new content, so that ``digests``/``list_digests`` know them later.
        Optional (default: ``NotImplementedError``).
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no digests")


class Backend(ABC):
    """Access to one storage namespace on behalf of one identity.

    Methods follow the order of the design's contract. Every method raises
    only the built-in exceptions listed in the module docstring.
    """

    @abstractmethod
    def stat(self, path: str) -> Entry:
        """Return the entry at ``path``. MUST raise ``FileNotFoundError`` when
        nothing is there (or when a parent is not a collection)."""

    @abstractmethod
    def list(self, path: str) -> Sequence[Entry]:
        """Return every member of the collection at ``path`` with all fields
        filled, in ONE round trip per page: the caller MUST never need a
        ``stat`` per child. MUST NOT return hidden internals (temporary upload
        objects). MUST raise ``NotADirectoryError`` for an object and
        ``FileNotFoundError`` for a missing path."""

    @abstractmethod
    def open_read(self, path: str, *, known: Entry | None = None) -> BinaryIO:
        """Open the object's content for streaming: ``read(n)``, ``seek(pos)``
        (for Range requests) and ``close()``. MUST raise
        ``IsADirectoryError`` for a collection. The stream SHOULD carry ``entry``:
        the ``Entry`` of the version it reads (it may differ from an earlier ``stat``
        when an overwrite came between); the gateway announces that size and ETag, so
        a GET racing with an overwrite answers the old or the new content, whole.

        ``known`` is the caller's entry for ``path`` (from its ``stat``, perhaps out
        of the listing cache, so up to ``listing_cache`` seconds old). A backend MAY
        take it instead of looking the object up again, as long as a stale one never
        yields a wrong body (Swift pins the GET to its ETag; a replaced object is
        read whole in its current version, a deleted one is ``FileNotFoundError``)."""

    @abstractmethod
    def open_write(
        self,
        path: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        absent: bool = False,
    ) -> Upload:
        """Start writing the object at ``path`` (created or replaced on
        commit). ``size`` is the announced length (Content-Length); when it is
        given, ``commit()`` MUST refuse any other byte count. MUST raise
        ``FileNotFoundError``/``NotADirectoryError`` when the parent is not a
        collection and ``IsADirectoryError`` when ``path`` is one. Dead
        properties of an existing object SHOULD survive an overwrite.

        ``absent``: the caller has a listing of the parent, at most ``listing_cache``
        seconds old, that does not show ``path`` (``dav/cache.py``). A backend MAY
        then skip its lookups of the target and of the parent; the write still
        MUST NOT leave a half-written object visible, and an object made outside
        the gateway since that listing is replaced as an overwrite would."""

    @abstractmethod
    def mkdir(self, path: str) -> None:
        """Create a collection. MUST raise ``FileExistsError`` if anything is
        at ``path`` and ``FileNotFoundError`` if the parent is missing."""

    @abstractmethod
    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Remove an object or collection with its dead properties. A
        non-empty collection MUST raise ``OSError(errno.ENOTEMPTY)`` unless
        ``recursive``. When some members of a collection fail and others are gone,
        it raises ``PartialFailure`` naming each failed path (a 207 for the client)."""

    @abstractmethod
    def copy(
        self, src: str, dst: str, *, depth_infinity: bool = True, overwrite: bool = False
    ) -> None:
        """Copy server-side, dead properties included.

        For a collection, ``depth_infinity=False`` creates ``dst`` without
        members. An existing ``dst`` MUST raise ``FileExistsError`` unless
        ``overwrite``, in which case it is removed first (no merging). MUST
        raise ``ValueError`` if ``dst`` is ``src`` or lies below it.
        """

    @abstractmethod
    def move(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Rename server-side, dead properties included, with the same
        ``overwrite`` rules as ``copy``. Optional: MAY raise
        ``NotImplementedError``."""

    @abstractmethod
    def get_meta(self, path: str) -> dict[str, str]:
        """Return the dead properties of ``path``: property names in Clark
        notation (``"{ns}name"``) mapped to encoded values (see
        ``properties.py``). Unrelated backend metadata SHOULD be left out."""

    @abstractmethod
    def set_meta(self, path: str, updates: Mapping[str, str | None]) -> None:
        """Set dead properties; a ``None`` value removes that name (removing a
        missing name is not an error)."""

    def list_meta(self, path: str, names: Sequence[str]) -> dict[str, dict[str, str]]:
        """Return the dead properties of the members ``names`` of the
        collection at ``path``, keyed by member name.

        Used for PROPFIND ``allprop``/dead properties at Depth 1, with one query
        per collection. Optional (default: ``NotImplementedError``).
        """
        raise NotImplementedError(f"{type(self).__name__} lists no metadata")

    # --- sync-client extensions (defaults keep other backends working) ----------

    def set_mtime(self, path: str, mtime: float) -> None:
        """Set the modification time (POSIX seconds) of the object or collection
        at ``path``, as ``stat``/``list`` report it afterwards in
        ``Entry.modified`` (one second precision or better). Where the store has
        no settable mtime, keep it as metadata that every listing reports (for
        Swift: ``X-Object-Meta-Mtime``). MUST NOT change the content or the
        dead properties. Optional (default: ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot set modification times")

    def digests(
        self, path: str, entry: Entry, algorithms: Collection[str], *, compute: bool = False
    ) -> dict[str, str]:
        """Digests of the content of the object at ``path`` (described by
        ``entry``, from this request's ``stat``) that the backend knows, for
        those of ``algorithms`` it can give: algorithm -> lowercase hex.

        With ``compute``, the backend MAY compute a missing one with its own
        means (e.g. iRODS ``chksum``, which also registers it) but MUST NOT
        stream the content through the gateway for it: the caller does that,
        within its configured limit, and hands the result to
        ``store_digests``. Default: ``entry.checksum``, when it names one of
        ``algorithms``."""
        del path, compute
        return _wanted(entry.checksum, algorithms)

    def list_digests(
        self, path: str, entries: Sequence[Entry], algorithms: Collection[str]
    ) -> dict[str, dict[str, str]]:
        """Known digests of the members ``entries`` (from one ``list`` of the
        collection at ``path``), keyed by member name; never computed. Used by
        PROPFIND Depth 1 (``oc:checksums``); backends that keep digests as
        metadata SHOULD fetch them with one query per collection. Default: each
        entry's ``checksum`` (no backend call)."""
        del path
        return {e.name: _wanted(e.checksum, algorithms) for e in entries if not e.is_dir}

    def store_digests(self, path: str, digests: Mapping[str, str]) -> None:
        """Remember digests of the current content of ``path`` that the gateway
        computed by reading it, so that later requests need not read it again.
        SHOULD be bound to that content (a later overwrite by another client
        must not leave them standing). Optional (default:
        ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no digests")

    def quota(self, path: str) -> Quota:
        """RFC 4331 usage of the collection at ``path``; a figure the backend
        cannot tell is ``None`` (its property is then omitted, never 0). A Swift
        backend can report the account's bytes used and its quota. Optional
        (default: ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} reports no quota")

    def redirect_url(self, path: str, *, address: str = "", agent: str = "") -> str | None:
        """A URL from which a client can GET the object at ``path`` directly,
        without credentials, for a short time (e.g. a Swift temp URL), or
        ``None`` to stream it through the gateway. The gateway answers such a
        GET with ``307 Temporary Redirect`` to it. ``address`` and ``agent`` are
        the client's IP address and User-Agent (a URL may be bound to the one
        and offered only to some of the other). MUST return ``None`` unless
        the share is configured for it. Optional (default:
        ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} hands out no URLs")

    def upload_url(self, path: str, size: int, *, address: str = "", agent: str = "") -> str | None:
        """``redirect_url`` for a PUT of ``size`` bytes to ``path``: a URL to which
        the client PUTs the body directly, which makes the object visible whole
        or not at all, or ``None`` to stream it through the gateway. Optional
        (default: ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} takes no direct uploads")

    def stat_target(self, path: str) -> Entry:
        """``stat`` of a path the request is about to create or replace (the target
        of a PUT or MKCOL): the same answer, but a backend MAY answer a miss more
        cheaply than ``stat`` must (no telling 403 from 404, no waiting out a
        concurrent overwrite), since the write that follows decides. Optional
        (default: ``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} has no cheaper target lookup")


def _wanted(checksum: str | None, algorithms: Collection[str]) -> dict[str, str]:
    return {a: v for a, v in checksum_digests(checksum).items() if a in algorithms}


class BackendFactory(Protocol):
    """Turns an authenticated identity into a backend (pooling is its business)."""

    def __call__(self, identity: Identity) -> Backend:
        """Return a backend acting as ``identity``. MAY raise
        ``ConnectionError``/``TimeoutError`` when the backend is unreachable
        and ``PermissionError`` when the identity is not allowed at all."""
        ...

    def login(self, user: str, password: str) -> bool:
        """Check a password (HTTP Basic passthrough). MUST return ``False``
        for wrong credentials and raise ``ConnectionError``/``TimeoutError``
        only when the backend cannot answer."""
        ...

    def close(self) -> None:
        """Release pooled sessions (called at server shutdown)."""
        ...

    def sweep(self, max_age: float | None = None) -> float | None:
        """Remove what crashed uploads left behind (an iRODS upload's hidden temporary
        object, a Swift upload's orphan segments) once it is older than ``max_age``
        seconds (``None``: the share's own ``sweep_age`` option). MUST NOT touch
        anything younger, so a live upload is never swept; MUST NOT raise for a
        backend that is unreachable (it logs instead). The server calls it at start
        and again after the number of seconds it returns (``None``: never again).
        A backend with nothing to sweep returns ``None`` at once."""
        ...
