"""What the gateway keeps in AVUs: dead properties and content digests.

- Dead properties: ``dav:<Clark name>`` = value (an empty value is stored as ``-`` with
  units ``davprovider:empty``, since iRODS refuses empty AVU values).
- Digests the gateway computed (``md5``, ``sha1``, ...): ``davprovider:digest:<algorithm>``
  = lowercase hex, units = the catalog checksum (``sha2:<base64>``) of the content they
  describe. A digest counts only while its units equal the object's current catalog
  checksum: an overwrite by any client (which resets or changes that checksum) leaves
  the old digests standing but ignored.
"""

from __future__ import annotations

import base64
import errno
from collections.abc import Iterable, Mapping
from typing import Any

from irods.meta import AVUOperation, iRODSMeta

from davprovider.digests import HEX_LENGTH

META_PREFIX = "dav:"
EMPTY_UNIT = "davprovider:empty"
DIGEST_PREFIX = "davprovider:digest:"


#: iRODS' catalog columns for an AVU's attribute and value (bytes).
MAX_AVU_NAME = MAX_AVU_VALUE = 2700


def check_dead(updates: Mapping[str, str | None]) -> None:
    """Refuse, before anything is written, what iRODS cannot store: a name too long for
    an AVU attribute (``ValueError``, 400) or a value too long (``OSError(ENOSPC)``, 507)."""
    for name, value in updates.items():
        if not name or len((META_PREFIX + name).encode()) > MAX_AVU_NAME:
            raise ValueError(f"property name too long for an iRODS AVU: {name[:80]!r}...")
        if value is not None and len(value.encode()) > MAX_AVU_VALUE:
            raise OSError(
                errno.ENOSPC, f"value of {name} too long for an iRODS AVU ({MAX_AVU_VALUE} bytes)"
            )


def encode_meta(value: str) -> tuple[str, str]:
    return (value, "") if value else ("-", EMPTY_UNIT)


def decode_meta(value: str, units: str | None) -> str:
    return "" if units == EMPTY_UNIT else value


def add_dead(props: Mapping[str, str]) -> list[AVUOperation]:
    """Operations adding dead properties (to an object that has none yet)."""
    return [
        AVUOperation(operation="add", avu=iRODSMeta(META_PREFIX + name, *encode_meta(value)))
        for name, value in props.items()
    ]


def sha2(hex_digest: str) -> str:
    """SHA-256 hex -> the iRODS catalog form ``sha2:<base64>``."""
    return "sha2:" + base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def digest_binding(digests: Mapping[str, str], catalog: str | None) -> str | None:
    """The catalog checksum stored digests are bound to: the registered one, or the
    one iRODS will register for this content (from our own SHA-256)."""
    if catalog:
        return catalog
    return sha2(digests["sha-256"]) if "sha-256" in digests else None


def replace_digests(
    current: Iterable[Any], digests: Mapping[str, str], binding: str
) -> list[AVUOperation]:
    """Operations replacing the digest AVUs among ``current`` by ``digests``."""
    ops = [
        AVUOperation(operation="remove", avu=avu)
        for avu in current
        if str(avu.name).startswith(DIGEST_PREFIX)
    ]
    for algorithm, value in digests.items():
        if algorithm in HEX_LENGTH:
            avu = iRODSMeta(DIGEST_PREFIX + algorithm, value, binding)
            ops.append(AVUOperation(operation="add", avu=avu))
    return ops


def stored_digest(name: str, value: str, units: str | None, catalog: str | None) -> str | None:
    """The algorithm of a digest AVU that is valid for ``catalog``, else ``None``."""
    algorithm = name[len(DIGEST_PREFIX) :]
    if not catalog or units != catalog or algorithm not in HEX_LENGTH:
        return None
    if len(value) != HEX_LENGTH[algorithm]:
        return None
    return algorithm
