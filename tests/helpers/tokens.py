"""Helpers of the token tests: key files, token requests (dCache's macaroon request),
and bearer headers."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import jwt

MACAROON_REQUEST = {"Content-Type": "application/macaroon-request"}


def key_file(folder: Path, name: str = "token.key") -> str:
    """A fresh secret file for ``bearer.keys``."""
    path = folder / name
    path.write_text(secrets.token_urlsafe(48) + "\n")
    return str(path)


def request_body(*caveats: str, validity: str | None = "PT10M") -> bytes:
    body: dict[str, Any] = {"caveats": list(caveats)}
    if validity is not None:
        body["validity"] = validity
    return json.dumps(body).encode()


def ask(
    gateway: Any,
    path: str,
    *caveats: str,
    validity: str | None = "PT10M",
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> Any:
    """POST a token request for ``path`` (as the gateway client's user by default)."""
    sent = {**MACAROON_REQUEST, **(headers or {})}
    return gateway.request("POST", path, request_body(*caveats, validity=validity), sent, **kw)


def token(gateway: Any, path: str, *caveats: str, **kw: Any) -> str:
    """A token for ``path``; fails the test when the gateway refuses."""
    reply = ask(gateway, path, *caveats, **kw)
    assert reply.status == 200, (reply.status, reply.body)
    return str(json.loads(reply.body)["macaroon"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def claims(value: str) -> dict[str, Any]:
    """A token's claims, unverified (to read what the gateway put in)."""
    decoded: dict[str, Any] = jwt.decode(value, options={"verify_signature": False})
    return decoded
