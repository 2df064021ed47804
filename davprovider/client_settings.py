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
    """``checksums:``: ``upload`` lists the digests computed while every PUT streams
    and kept with the object where the backend can (iRODS: AVUs bound to the catalog
    checksum), so that listings report them (``oc:checksums``); a checksum the client
    sends is verified whatever this list says. ``compute_limit`` is the largest object
    (bytes) the gateway reads back to compute a digest it does not know, for a single
    object's ``Want-Digest`` or Depth 0 PROPFIND (0: never; listings never read)."""

    upload: tuple[str, ...] = field(
        default=("md5", "sha1", "sha-256", "adler32"), metadata={"check": _algorithms}
    )
    compute_limit: int = field(default=64 << 20, metadata={"check": _not_negative})


@dataclass(frozen=True)
class ClientSettings:
    """``clients:``: desktop-client files. ``apple_files: refuse`` answers 403 to
    creating macOS Finder's ``._*`` (AppleDouble) and ``.DS_Store`` files, so they
    never reach the backend; ``store`` keeps them like any file."""

    apple_files: Literal["store", "refuse"] = "store"
