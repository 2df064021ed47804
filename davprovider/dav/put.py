"""PUT bodies into a backend ``Upload``: counted, hashed while they stream, verified
against the client's checksums before anything becomes visible.

A client checksum (``Content-MD5``, ``Digest``, ``Repr-Digest``, ``Content-Digest``,
``OC-Checksum``) that the body does not match is answered ``400 Bad Request`` naming
the header, the algorithm and both values; the upload is aborted, so the old content
(or nothing) stays and no temporary object is left. 400 rather than 412: the request
is wrong about its own body, no precondition on the stored resource failed (dCache and
ownCloud answer the same).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from wsgidav.dav_error import HTTP_BAD_REQUEST, DAVError

from davprovider.backend import Upload
from davprovider.dav.errors import backend_errors, optional
from davprovider.digests import Expectation, Hasher, expected_digests, mismatches

log = logging.getLogger("davprovider.dav.resources")


def expected_length(environ: dict[str, Any]) -> int | None:
    """Announced body length: Content-Length, or for chunked bodies the
    ``X-Expected-Entity-Length`` macOS sends; ``None`` when unknown."""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    header = environ.get("HTTP_X_EXPECTED_ENTITY_LENGTH" if chunked else "CONTENT_LENGTH")
    header = (header or "").strip()
    return int(header) if header.isdigit() else None


def client_checksums(environ: dict[str, Any]) -> list[Expectation]:
    """The PUT's client checksums; a malformed one is a 400 before any byte is read."""
    try:
        return expected_digests(environ)
    except ValueError as exc:
        raise DAVError(HTTP_BAD_REQUEST, str(exc)) from None


class Writer:
    """The file-like object WsgiDAV writes a PUT body into."""

    def __init__(
        self, upload: Upload, path: str, expected: Sequence[Expectation], algorithms: Sequence[str]
    ) -> None:
        self.upload = upload
        self.path = path
        self.expected = list(expected)
        kept = upload.kept_digests
        wanted = [a for a in algorithms if kept is None or a in kept]
        self.hasher = Hasher([*wanted, *(algorithm for _, algorithm, _ in expected)])
        upload.plan_digests(self.hasher.algorithms)
        self.entry: Any = None

    def write(self, data: bytes) -> None:
        self.hasher.update(data)
        with backend_errors(self.path):
            self.upload.write(data)

    def close(self) -> None:
        """Verify the client's checksums, hand the digests over, then commit (the
        backend checks the byte count against the announced length)."""
        digests = self.hasher.hexdigests()
        problems = mismatches(self.expected, digests)
        if problems:
            log.warning("PUT %s refused: %s", self.path, "; ".join(problems))
            raise DAVError(HTTP_BAD_REQUEST, "; ".join(problems))
        with backend_errors(self.path):
            optional(lambda: self.upload.set_digests(digests), lambda: None, "set_digests")
            self.entry = self.upload.commit()

    def abort(self) -> None:
        """Discard the upload (old content stays); never raises."""
        self.hasher.close()
        try:
            self.upload.abort()
        except (OSError, ValueError) as exc:
            log.warning("PUT %s: abort failed: %s", self.path, exc)
