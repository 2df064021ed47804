"""The gateway's token signing keys: secret files, the first signs, all verify.

Each file holds one secret (at least 32 bytes, surrounding whitespace ignored; e.g.
``openssl rand -base64 48 > key``). Tokens are JWTs signed HS256 with the first
file's key; their header names the key (``kid``: the first 16 hex digits of the
key's SHA-256), so a token verifies against whichever listed key made it. Rotation
with overlap: list a second file for the new key, keep it second until every gateway
reads it, then swap the two files' contents (the new key signs), and drop the old one
once the longest token it signed has expired. The files are looked at every few seconds
and re-read when they change (``mapfile.py``): no restart; a file that no longer reads
keeps its previous key. Every gateway of a deployment lists the same files. The keys
never reach ``repr()`` or a log line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import jwt

from auth.mapfile import MapFile

#: Shortest secret accepted (bytes).
MIN_KEY = 32
ALGORITHM = "HS256"


class KeyFileError(ValueError):
    """A key file that cannot be used (the message names the file)."""


@dataclass(frozen=True)
class Key:
    kid: str
    secret: bytes = field(repr=False)


def read_key(path: str) -> Key:
    """One key file; ``KeyFileError`` when it is unreadable or too short."""
    try:
        with open(path, "rb") as handle:
            secret = handle.read(64 * 1024).strip()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path!r}: {exc.strerror or exc}") from None
    if len(secret) < MIN_KEY:
        raise KeyFileError(f"key file {path!r} holds fewer than {MIN_KEY} bytes")
    return Key(hashlib.sha256(secret).hexdigest()[:16], secret)


def _key_file(path: str) -> tuple[Key]:
    return (read_key(path),)


class KeyRing:
    """The keys of ``paths``, each kept current with its file (a rotation needs no
    restart)."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        if not paths:
            raise KeyFileError("no key files")
        self._files = [
            MapFile(path, _key_file, "token key", "key", topic="bearer") for path in paths
        ]

    @property
    def keys(self) -> list[Key]:
        return [file.current()[0] for file in self._files]

    def sign(self, claims: dict[str, Any]) -> str:
        key = self.keys[0]
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str, issuer: str) -> dict[str, Any]:
        """The claims of a token this ring signed for ``issuer``, not expired;
        ``jwt.InvalidTokenError`` otherwise."""
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((key for key in self.keys if key.kid == kid), None)
        if key is None:
            raise jwt.InvalidTokenError("signed with an unknown key")
        claims: dict[str, Any] = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        return claims
