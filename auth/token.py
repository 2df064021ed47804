"""``auth: {chain: [token, basic]}``: WLCG and SciTokens bearer tokens (JWT), verified offline.

A token (``Authorization: Bearer`` or ``?authz=``, ``bearertoken.py``) whose ``iss`` is
one of ``token.issuers`` is verified with that issuer's keys (a JWKS file: RS256, ES256
and the other asymmetric algorithms of PyJWT; the header's ``kid`` picks the key), its
``exp``/``nbf``/``iat`` with ``token.clock_skew`` seconds of leeway, its ``aud``
against the issuer's ``audiences`` (``https://wlcg.cern.ch/jwt/v1/any`` always
matches; none configured: not checked). Its scopes limit what it may do, at the scope's
path below the issuer's ``base`` (a URL path of this gateway, ``/`` by default):

- ``storage.read:/p``, SciTokens ``read:/p``: DOWNLOAD, LIST, READ_METADATA;
- ``storage.create:/p``: CREATE (PUT of new files, MKCOL), READ_METADATA;
- ``storage.modify:/p``, SciTokens ``write:/p``: UPLOAD, CREATE, DELETE, MANAGE,
  UPDATE_METADATA, READ_METADATA

(``grant.py`` maps activities to methods). Scopes come from ``scope`` (a string) or
``scp`` (a list); others are ignored. The user is the issuer's ``users`` map file's
entry for the ``user_claim`` (``sub`` by default), or else ``user_template`` over the
claims (``subjectmap.py``); the request acts as it, without a password, like a
certificate (``PASSWORDLESS``: an iRODS share's ``proxy_user``, a Swift share's
``options.profiles``). Forged, expired, malformed or unknown-issuer tokens: 401 with
``WWW-Authenticate: Bearer error="invalid_token"`` (a gateway token, when ``bearer``
is in the chain too, is left to it); an unmapped subject or a request outside the
scopes: 403 with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt

from auth import bearer, bearertoken, grant
from auth.mapfile import MapFile
from auth.subjectmap import from_template, load_map, template_fields
from davprovider import schema
from davprovider.backend import Identity
from davprovider.schema import ConfigError
from davprovider.settings import Settings, chain_for

if TYPE_CHECKING:
    from auth.controller import ShareAccess

#: Token identities carry no password: backends act for them through a proxy account.
PASSWORDLESS = True
#: The audience every WLCG token may carry to be accepted anywhere.
ANY_AUDIENCE = "https://wlcg.cern.ch/jwt/v1/any"
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "EdDSA"]

_READ = frozenset({"DOWNLOAD", "LIST", "READ_METADATA"})
_MODIFY = frozenset(
    {"UPLOAD", grant.CREATE, "DELETE", "MANAGE", "UPDATE_METADATA", "READ_METADATA"}
)
SCOPES = {
    "storage.read": _READ,
    "read": _READ,
    "storage.create": frozenset({grant.CREATE, "READ_METADATA"}),
    "storage.modify": _MODIFY,
    "write": _MODIFY,
}


@dataclass(frozen=True)
class TrustedIssuer:
    """``token.issuers[]``: one issuer and how its tokens map to users."""

    issuer: str
    jwks: str = field(metadata={"check": schema.readable})
    audiences: tuple[str, ...] = ()
    base: str = "/"
    user_claim: str = "sub"
    users: str = field(default="", metadata={"check": schema.readable})
    user_template: str = "{sub}"


@dataclass(frozen=True)
class Options:
    """``token:``: the trusted issuers and the clock skew allowed (seconds)."""

    issuers: tuple[TrustedIssuer, ...] = ()
    clock_skew: int = field(default=60, metadata={"check": schema.not_negative})


def check_settings(settings: Settings) -> None:
    """Issuers are required; their key and map files must load."""
    options: Options = settings.token
    if not options.issuers:
        raise ConfigError(settings.source, "token.issuers", "required by the token authenticator")
    for index, entry in enumerate(options.issuers):
        keypath = f"token.issuers[{index}]"
        try:
            Verifier(entry, options.clock_skew)
            template_fields(entry.user_template)
        except (OSError, ValueError, jwt.PyJWKError) as exc:
            raise ConfigError(settings.source, keypath, str(exc).splitlines()[0][:200]) from None


def scopes_of(claims: dict[str, Any], base: str) -> tuple[grant.Scope, ...]:
    """The storage scopes of a token's claims, as URL path prefixes below ``base``."""
    raw = claims.get("scope", claims.get("scp", ""))
    words = raw.split() if isinstance(raw, str) else [w for w in raw if isinstance(w, str)]
    scopes = []
    for word in words:
        name, _, path = word.partition(":")
        if name not in SCOPES:
            continue
        parts = [p for p in f"{base}/{path}".split("/") if p]
        if ".." in parts:
            continue
        scopes.append(grant.Scope("/" + "/".join(parts), SCOPES[name]))
    return tuple(scopes)


def read_jwks(path: str) -> list[jwt.PyJWK]:
    """An issuer's public keys from its JWKS file; ``ValueError`` when it has none usable."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read(1 << 20)
    try:
        return list(jwt.PyJWKSet.from_json(text).keys)
    except jwt.PyJWTError as exc:
        raise ValueError(f"JWKS file {path!r}: {exc}") from None


class Verifier:
    """One trusted issuer: its keys (kept current with the JWKS file, so an issuer's key
    rotation needs no restart), audiences and user mapping."""

    def __init__(self, entry: TrustedIssuer, skew: int) -> None:
        self.entry = entry
        self.skew = skew
        self.keys = MapFile(entry.jwks, read_jwks, "JWKS file", "keys", topic="token")
        self.users = load_map(entry.users) if entry.users else None

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; ``jwt.InvalidTokenError`` when it does not verify."""
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in self.keys.current() if kid is None or k.key_id == kid]
        if not keys:
            raise jwt.InvalidTokenError("signed with an unknown key")
        claims: dict[str, Any] = jwt.decode(
            token,
            keys[0],
            algorithms=ALGORITHMS,
            issuer=self.entry.issuer,
            leeway=self.skew,
            options={"require": ["exp", "iss"], "verify_aud": False},
        )
        self._check_audience(claims)
        return claims

    def _check_audience(self, claims: dict[str, Any]) -> None:
        wanted = set(self.entry.audiences)
        if not wanted:
            return
        aud = claims.get("aud")
        given = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
        if not given & (wanted | {ANY_AUDIENCE}):
            raise jwt.InvalidAudienceError("audience is not this gateway")

    def user(self, claims: dict[str, Any]) -> str | None:
        if self.users is not None:
            value = claims.get(self.entry.user_claim)
            return self.users.get(value) if isinstance(value, str) else None
        return from_template(self.entry.user_template, claims)


class Authenticator:
    """A WLCG/SciTokens JWT -> ``Identity(user, "token")``, within its scopes."""

    name = "token"
    challenges = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        options: Options = settings.token
        self.verifiers = {e.issuer: Verifier(e, options.clock_skew) for e in options.issuers}

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        presented = bearertoken.presented_with_issuer(environ)
        if presented is None:
            return None
        token, issuer = presented
        verifier = self.verifiers.get(issuer or "")
        if verifier is None:
            if "bearer" in chain_for(self.settings, share.share):
                return None  # a gateway token (or garbage): the bearer authenticator's
            raise bearertoken.invalid("unknown issuer")
        try:
            claims = verifier.verify(token)
        except jwt.ExpiredSignatureError:
            raise bearertoken.invalid("token expired") from None
        except (jwt.InvalidTokenError, jwt.PyJWKError, ValueError):
            raise bearertoken.invalid("token not valid here") from None
        user = verifier.user(claims)
        if user is None:
            raise grant.refuse("the token's subject is not mapped to a user")
        identity = Identity(user=user, method="token")
        rights = grant.Grant(scopes_of(claims, verifier.entry.base))
        grant.check(rights, environ, bearer.stat_for(share, identity))
        return identity
