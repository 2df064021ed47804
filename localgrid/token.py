"""The demo's token issuer and the gateway's token keys (nothing here is for production).

``ensure_issuer(folder)`` makes, once, an EC P-256 signing key (``issuer-key.pem``, mode
0600) and its public JWKS (``jwks.json``) for the issuer ``DEMO_ISSUER``, and a secret
for the gateway's own tokens (``gateway-token.key``). ``issue(folder, user, scope)``
signs a WLCG-profile token (ES256, ``sub`` = the user, ``scope`` as given, audience
``https://wlcg.cern.ch/jwt/v1/any``). ``token_sections(issuer)`` is what a gateway config
needs to trust it: the ``bearer:`` and ``token:`` sections.

``python -m localgrid token alice 'storage.read:/irods/alice'`` prints such a token, signed
with the key of the demo data folder (``--data``, ``var/demo`` by default).
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEMO_ISSUER = "https://issuer.localgrid.invalid/demo"
KID = "localgrid-demo-1"
ANY_AUDIENCE = "https://wlcg.cern.ch/jwt/v1/any"


@dataclass(frozen=True)
class DemoIssuer:
    folder: Path
    key: Path
    jwks: Path
    gateway_key: Path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_issuer(folder: Path) -> DemoIssuer:
    """The issuer's files under ``folder`` (made on first use)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = DemoIssuer(
        folder, folder / "issuer-key.pem", folder / "jwks.json", folder / "gateway-token.key"
    )
    if not made.key.exists():
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(made.key, pem)
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
        public.update(kid=KID, alg="ES256", use="sig")
        made.jwks.write_text(json.dumps({"keys": [public]}, indent=2) + "\n")
    if not made.gateway_key.exists():
        _write_private(made.gateway_key, secrets.token_urlsafe(48).encode() + b"\n")
    return made


def issue(folder: Path, user: str, scope: str, lifetime: int = 3600, **claims: Any) -> str:
    """A token of the demo issuer for ``user`` with ``scope`` (space-separated)."""
    made = ensure_issuer(folder)
    now = int(time.time())
    payload = {
        "wlcg.ver": "1.0",
        "iss": DEMO_ISSUER,
        "sub": user,
        "aud": ANY_AUDIENCE,
        "scope": scope,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    key = serialization.load_pem_private_key(made.key.read_bytes(), password=None)
    return jwt.encode(payload, key, algorithm="ES256", headers={"kid": KID})  # type: ignore[arg-type]


def token_sections(made: DemoIssuer, base: str = "/") -> dict[str, Any]:
    """``bearer:`` and ``token:`` config sections trusting this issuer (users by ``sub``)."""
    return {
        "bearer": {"keys": [str(made.gateway_key)], "max_validity": 86400},
        "token": {
            "issuers": [
                {"issuer": DEMO_ISSUER, "jwks": str(made.jwks), "base": base,
                 "user_template": "{sub}"},
            ],
        },
    }  # fmt: skip


def demo_tokens(
    raw: dict[str, Any], folder: Path, admin_password: str, users: dict[str, str]
) -> None:
    """Turn the demo's gateway config ``raw`` into one that issues and accepts tokens:
    ``bearer`` and ``token`` first in the chain, the sections above, the iRODS shares'
    rodsadmin proxy and the Swift shares' profiles (token identities have no password)."""
    raw.update(token_sections(ensure_issuer(folder)))
    chain = list(raw.get("auth", {}).get("chain", ["basic"]))
    raw["auth"] = {
        "chain": ["bearer", "token", *[n for n in chain if n not in ("bearer", "token")]]
    }
    for share in raw.get("shares", []):
        options = share.setdefault("options", {})
        if share.get("backend") == "irods":
            options.update(proxy_user="rods", proxy_password=admin_password)
        elif share.get("backend") == "swift":
            profiles = {user: {"user": f"{user}:{user}", "key": key} for user, key in users.items()}
            options["profiles"] = profiles
