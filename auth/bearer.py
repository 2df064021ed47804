"""``auth: {chain: [bearer, basic]}``: the gateway's own tokens, as dCache's macaroons.

A logged-in user asks for one with a token request (``dav/tokenrequest.py``: a POST of
``application/macaroon-request``); anyone who holds it may then use it as
``Authorization: Bearer TOKEN`` or ``?authz=TOKEN`` on any gateway of the deployment
(they share the ``bearer.keys`` files, ``tokenkeys.py``). The token is a JWT signed
HS256 that names the user who asked, the URL path it is valid at and below, its
activities (``grant.py``), the client networks it may come from and its expiry.

A request with it acts as that user (``Identity(user, "bearer")``), without a password,
so backends act for it as they do for certificates (``PASSWORDLESS``): an iRODS share
through its rodsadmin ``proxy_user`` (``client_user`` = the user), a Swift share with the
user's entry in ``options.profiles``, a memory share as the user. Every limit is checked
here before the request goes on: a token that is forged, malformed, signed with a key
no longer listed or expired is refused with 401 (``WWW-Authenticate: Bearer
error="invalid_token"``); a valid one used outside its path, activities or networks
with 403 and the reason. A JWT whose issuer is one of the ``token`` authenticator's
(WLCG tokens, ``token.py``) is left to it. No token: ``None`` (the next one tries).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt

from auth import bearertoken, grant
from auth.tokenkeys import KeyFileError, KeyRing
from davprovider import schema
from davprovider.backend import Identity
from davprovider.schema import ConfigError
from davprovider.settings import Settings, chain_for, shares_using

if TYPE_CHECKING:
    from auth.controller import ShareAccess

#: Token identities carry no password: backends act for them through a proxy account.
PASSWORDLESS = True
#: The ``iss`` of the gateway's tokens.
ISSUER = "davprovider"
#: Identity methods that may not ask for a token (they hold no login of their own).
NOT_MINTING = frozenset({"anonymous", "ticket", "bearer", "token"})


@dataclass(frozen=True)
class Options:
    """``bearer:``: ``keys``, the secret files (the first signs, all verify);
    ``max_validity``, the longest a token may live (seconds)."""

    keys: tuple[str, ...] = field(default=(), metadata={"check": schema.readable_all})
    max_validity: int = field(default=86400, metadata={"check": schema.positive})


def check_settings(settings: Settings) -> None:
    """The key files must be usable wherever the chain names ``bearer``."""
    try:
        KeyRing(settings.bearer.keys)
    except KeyFileError as exc:
        raise ConfigError(settings.source, "bearer.keys", str(exc)) from None


@dataclass(frozen=True)
class Minted:
    """A token and what it allows (``grant.Grant``'s terms)."""

    token: str
    expires: int


def mint(
    ring: KeyRing,
    identity: Identity,
    scope: grant.Scope,
    networks: tuple[grant.Network, ...],
    expires: int,
) -> Minted:
    """A token acting as ``identity`` within ``scope``, from ``networks``, until ``expires``."""
    claims = {
        "iss": ISSUER,
        "sub": identity.user,
        "iat": int(time.time()),
        "exp": expires,
        "jti": secrets.token_hex(8),
        "dav": {
            "path": scope.prefix,
            "act": sorted(scope.activities),
            "ip": [str(network) for network in networks],
        },
    }
    return Minted(ring.sign(claims), expires)


def grant_of(claims: dict[str, Any]) -> grant.Grant:
    """The ``Grant`` a verified token's claims describe; ``ValueError`` if malformed."""
    dav = claims.get("dav")
    if not isinstance(dav, dict) or not isinstance(dav.get("path"), str):
        raise ValueError("no dav claim")
    activities = dav.get("act")
    if not isinstance(activities, list) or not set(activities) <= grant.ACTIVITIES:
        raise ValueError("bad activities")
    networks = grant.networks_of(dav.get("ip") or [])
    return grant.Grant((grant.Scope(dav["path"], frozenset(activities)),), networks)


def stat_for(share: ShareAccess, identity: Identity) -> grant.Stat:
    """``grant.Stat`` over the share's backend acting as ``identity``."""

    def stat(url_path: str) -> bool | None:
        relative = url_path[len(share.share.path) :]
        path = "/" + "/".join(part for part in relative.split("/") if part)
        try:
            return share.factory(identity).stat(path).is_dir
        except OSError:  # nothing there, or not for this user: the request will tell
            return None

    return stat


class Authenticator:
    """A gateway token -> ``Identity(user, "bearer")``, within its grant."""

    name = "bearer"
    challenges = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ring = KeyRing(settings.bearer.keys)

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        presented = bearertoken.presented_with_issuer(environ)
        if presented is None:
            return None
        token, issuer = presented
        if issuer != ISSUER and self._foreign(issuer, share):
            return None  # a WLCG token: the token authenticator's
        try:
            claims = self.ring.verify(token, ISSUER)
            rights = grant_of(claims)
        except jwt.ExpiredSignatureError:
            raise bearertoken.invalid("token expired") from None
        except (jwt.InvalidTokenError, ValueError):
            raise bearertoken.invalid("token not valid here") from None
        identity = Identity(user=str(claims["sub"]), method="bearer")
        grant.check(rights, environ, stat_for(share, identity))
        return identity

    def _foreign(self, issuer: str | None, share: ShareAccess) -> bool:
        """True when the share's chain has the ``token`` authenticator and it
        knows ``issuer``."""
        if issuer is None or "token" not in chain_for(self.settings, share.share):
            return False
        return any(entry.issuer == issuer for entry in self.settings.token.issuers)


def minting_shares(settings: Settings) -> set[str]:
    """Paths of the shares whose chain has ``bearer`` (where tokens can be asked for)."""
    return {share.path for _, share in shares_using(settings, "bearer")}
