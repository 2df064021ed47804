"""Token requests, as dCache answers them: ``POST`` with ``application/macaroon-request``.

A logged-in caller POSTs to any file or folder URL of a share whose chain has the
``bearer`` authenticator (``auth/bearer.py``)::

    Content-Type: application/macaroon-request
    {"caveats": ["activity:DOWNLOAD,LIST", "path:sub/dir", "ip:192.0.2.0/24",
                 "before:2030-01-01T00:00:00Z"], "validity": "PT10M"}

and gets ``200`` with ``{"macaroon": TOKEN, "uri": {"targetWithMacaroon",
"baseWithMacaroon", "target", "base"}}`` (the ``...WithMacaroon`` URLs carry
``?authz=TOKEN``; ``base`` is the gateway's root). This is what gfal2's HTTP plugin
sends before a copy (``RETRIEVE_BEARER_TOKEN``, on by default): it needs HTTPS.

The token never grants more than the caller has: it acts as the caller, at the URL (which
must exist and be visible to the caller, or be a new name in such a folder: gfal2 asks for
an upload target's token before it writes) and below, narrowed by ``path:`` (relative to
the URL); with the ``activity:`` activities (all seven without the caveat; several
caveats: those in all); from the ``ip:`` networks (anywhere without; a caller known only
by its address, ``ipallow``, gets its own address); until the earliest of ``before:``,
now plus ``validity`` (ISO 8601, ``PT10M``, ``P1D``) and now plus
``bearer.max_validity``. Identities without a login of their own (anonymous, ticket,
token) cannot ask. A caveat this module does not know is refused (400), as dCache does.
A browser cannot send this content type across sites without CORS, so no form can
make a visitor's browser ask for a token.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    HTTP_REQUEST_ENTITY_TOO_LARGE,
    DAVError,
)
from wsgidav.mw.base_mw import BaseMiddleware

from auth import bearer, grant
from auth.controller import ENVIRON_KEY, SETTINGS_KEY
from auth.tokenkeys import KeyRing
from davprovider.backend import Identity
from davprovider.settings import Settings

MEDIA_TYPE = "application/macaroon-request"
#: Largest request body read (bytes).
BODY_LIMIT = 64 * 1024
_DURATION = re.compile(
    r"P(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.IGNORECASE
)
_URL_SAFE = "/-_.~!$&'()*+,;=:@"


@dataclass
class Caveats:
    """A token request's terms, before the caller's own limits are applied."""

    activities: frozenset[str] = grant.ACTIVITIES
    path: str = ""
    networks: tuple[grant.Network, ...] = ()
    before: float | None = None
    validity: float | None = None
    seen: set[str] = field(default_factory=set)


def bad(reason: str) -> DAVError:
    return DAVError(HTTP_BAD_REQUEST, f"token request: {reason}")


def duration(text: str) -> float:
    """Seconds of an ISO 8601 duration (days, hours, minutes, seconds)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip().upper() in ("P", "PT"):
        raise bad(f"validity {text[:40]!r} is not an ISO 8601 duration such as PT10M")
    days, hours, minutes, seconds = (float(v) if v else 0.0 for v in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def instant(text: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad(f"before: {text[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _activity(caveats: Caveats, value: str) -> None:
    names = {name.strip().upper() for name in value.split(",") if name.strip()}
    unknown = names - grant.ACTIVITIES
    if unknown:
        raise bad(f"unknown activity {sorted(unknown)[0]!r}")
    caveats.activities &= names


def _path(caveats: Caveats, value: str) -> None:
    parts = [part for part in value.split("/") if part and part != "."]
    if ".." in parts:
        raise bad("path: may not climb with ..")
    if "path" in caveats.seen:
        raise bad("only one path: caveat is accepted")
    caveats.path = "/".join(parts)


def _ip(caveats: Caveats, value: str) -> None:
    if "ip" in caveats.seen:
        raise bad("only one ip: caveat is accepted")
    try:
        caveats.networks = grant.networks_of(v for v in value.split(",") if v.strip())
    except ValueError:
        raise bad(f"ip: {value[:60]!r} is not a list of networks") from None


def _before(caveats: Caveats, value: str) -> None:
    moment = instant(value)
    caveats.before = moment if caveats.before is None else min(caveats.before, moment)


_CAVEATS: dict[str, Callable[[Caveats, str], None]] = {
    "activity": _activity, "path": _path, "ip": _ip, "before": _before,
}  # fmt: skip


def parse_request(body: bytes) -> Caveats:
    """The caveats and validity of a request body; ``DAVError`` 400 when malformed."""
    try:
        request = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise bad("the body is not JSON") from None
    if not isinstance(request, dict):
        raise bad("the body is not a JSON object")
    caveats = Caveats()
    listed = request.get("caveats", [])
    if not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise bad("caveats must be a list of strings")
    for caveat in listed:
        name, sep, value = caveat.partition(":")
        handler = _CAVEATS.get(name.strip().lower())
        if handler is None or not sep:
            raise bad(f"unsupported caveat {name[:40]!r}")
        handler(caveats, value)
        caveats.seen.add(name.strip().lower())
    validity = request.get("validity")
    if validity is not None:
        if not isinstance(validity, str):
            raise bad("validity must be an ISO 8601 duration string")
        caveats.validity = duration(validity)
    return caveats


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, at most ``BODY_LIMIT`` bytes (413 beyond), read in blocks."""
    length = environ.get("CONTENT_LENGTH", "").strip()
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if length.isdigit() and int(length) > BODY_LIMIT:
        raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, "token request too large")
    left = BODY_LIMIT + 1 if chunked else int(length) if length.isdigit() else 0
    parts: list[bytes] = []
    while left > 0 and (data := environ["wsgi.input"].read(min(left, 16384))):
        parts.append(data)
        left -= len(data)
    body = b"".join(parts)
    if len(body) > BODY_LIMIT:
        raise DAVError(HTTP_REQUEST_ENTITY_TOO_LARGE, "token request too large")
    return body


def expiry(caveats: Caveats, max_validity: int, now: float) -> int:
    """The earliest of ``before``, now + ``validity`` and now + ``max_validity``."""
    limits = [now + max_validity]
    if caveats.validity is not None:
        limits.append(now + caveats.validity)
    if caveats.before is not None:
        limits.append(caveats.before)
    expires = int(min(limits))
    if expires <= now:
        raise bad("the token would already have expired")
    return expires


def _networks(caveats: Caveats, identity: Identity, environ: dict[str, Any]) -> Iterable[Any]:
    if identity.method != "ipallow":
        return caveats.networks
    try:
        address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
    except ValueError:
        raise DAVError(HTTP_FORBIDDEN, "token request: client address unknown") from None
    return (ipaddress.ip_network(address),)


def _urls(environ: dict[str, Any], path: str, token: str) -> dict[str, str]:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    base = f"{scheme}://{host}/"
    target = f"{scheme}://{host}{quote(path, safe=_URL_SAFE)}"
    authz = "?authz=" + quote(token, safe="")
    return {
        "targetWithMacaroon": target + authz,
        "baseWithMacaroon": base + authz,
        "target": target,
        "base": base,
    }


def _existing(provider: Any, environ: dict[str, Any]) -> str:
    """The requested path if it exists, else its folder (a token for an upload target,
    as gfal2 asks before it writes); 404 when neither is there for the caller."""
    path = environ["PATH_INFO"]
    if provider.get_resource_inst(path, environ) is not None:
        return str(path)
    parent = path.rstrip("/").rsplit("/", 1)[0] or "/"
    folder = provider.get_resource_inst(parent, environ)
    if folder is None or not folder.is_collection:
        raise DAVError(HTTP_NOT_FOUND, "no such file or folder")
    return str(parent)


def _check_usable(provider: Any, identity: Identity, path: str) -> None:
    """403 unless the share can act for the token's identity (which has no password:
    an iRODS ``proxy_user``, a Swift profile): a token that could never work is not made."""
    holder = Identity(user=identity.user, method="bearer")
    try:
        provider.factory(holder).stat("/" + "/".join(p for p in path.split("/") if p))
    except PermissionError:
        reason = f"this share cannot act for {identity.user} without a password (no proxy access)"
        raise DAVError(HTTP_FORBIDDEN, f"token request: {reason}") from None
    except OSError:
        pass  # the request itself found it; a token holder will meet the same answer


class TokenRequests(BaseMiddleware):
    """WsgiDAV middleware after the authenticator: answers token requests."""

    def __init__(self, wsgidav_app: Any, next_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)
        settings: Settings = config[SETTINGS_KEY]
        self.settings = settings
        self.shares = bearer.minting_shares(settings)
        self.ring = KeyRing(settings.bearer.keys) if self.shares else None

    def is_disabled(self) -> bool:
        return False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        kind = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if environ.get("REQUEST_METHOD") != "POST" or kind != MEDIA_TYPE:
            return self.next_app(environ, start_response)
        provider: Any = environ.get("wsgidav.provider")
        share = getattr(provider, "share", None)
        if self.ring is None or share is None or share.path not in self.shares:
            raise DAVError(HTTP_FORBIDDEN, "tokens are not issued for this URL")
        identity: Identity | None = environ.get(ENVIRON_KEY)
        if identity is None or identity.method in bearer.NOT_MINTING:
            raise DAVError(HTTP_FORBIDDEN, "only a logged-in user can ask for a token")
        caveats = parse_request(read_body(environ))
        _check_usable(provider, identity, _existing(provider, environ))
        target = grant.request_path(environ)
        prefix = target.rstrip("/") + ("/" + caveats.path if caveats.path else "")
        scope = grant.Scope(prefix or "/", caveats.activities)
        expires = expiry(caveats, self.settings.bearer.max_validity, time.time())
        networks = tuple(_networks(caveats, identity, environ))
        minted = bearer.mint(self.ring, identity, scope, networks, expires)
        answer = {"macaroon": minted.token, "uri": _urls(environ, target, minted.token)}
        body = json.dumps(answer).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]
