"""Config sections for sync and desktop clients (``checksums:``, ``clients:``), read by
settings.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from davprovider.digests import DIGEST_ALGORITHMS


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _algorithms(value: tuple[str, ...]) -> str | None:
    unknown = [name for name in value if name not in DIGEST_ALGORITHMS]
    if unknown:
        known = ", ".join(sorted(DIGEST_ALGORITHMS))
        return f"unknown digest algorithm {unknown[0]!r} (known: {known})"
    return None


@dataclass(frozen=True)
class ChecksumSettings:
    """``checksums:``: digests the gateway computes while a PUT streams, kept with the
    object where the backend can (iRODS: AVUs bound to the catalog checksum; Swift:
    metadata of a large object, a single object has Swift's own MD5), so that listings
    report them (``oc:checksums``).

    ``upload`` is computed for every PUT. ``upload_sync`` too for the PUTs whose digests
    someone will compare: those that carry a client checksum (sync clients such as
    rclone and ownCloud send one, and later compare listings) and those of at most
    ``small_limit`` bytes (cheap). A large PUT from any other client (curl, a mounted
    drive) pays for ``upload`` only: MD5 alone costs a core at about 600 MB/s, SHA-256
    one at about 1.4 GB/s. A checksum the client sends is computed and verified
    whatever these lists say. ``compute_limit`` is the largest object (bytes) the
    gateway reads back to compute a digest it does not know, for a single object's
    ``Want-Digest`` or Depth 0 PROPFIND (0: never; listings never read)."""

    upload: tuple[str, ...] = field(default=(), metadata={"check": _algorithms})
    upload_sync: tuple[str, ...] = field(
        default=("md5", "sha1", "sha-256", "adler32"), metadata={"check": _algorithms}
    )
    small_limit: int = field(default=16 << 20, metadata={"check": _not_negative})
    compute_limit: int = field(default=64 << 20, metadata={"check": _not_negative})

    def for_upload(self, size: int | None, client_checksum: bool) -> tuple[str, ...]:
        """The digests to compute for a PUT announcing ``size`` bytes (None: unknown),
        carrying a checksum of its own or not."""
        if client_checksum or (size is not None and size <= self.small_limit):
            return tuple(dict.fromkeys((*self.upload, *self.upload_sync)))
        return self.upload


@dataclass(frozen=True)
class ClientSettings:
    """``clients:``: desktop-client files. ``apple_files: refuse`` answers 403 to
    creating macOS Finder's ``._*`` (AppleDouble) and ``.DS_Store`` files, so they
    never reach the backend; ``store`` keeps them like any file."""

    apple_files: Literal["store", "refuse"] = "store"
