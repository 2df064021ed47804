"""A bearer token as a request presents it, and the 401 that refuses a bad one.

A token comes as ``Authorization: Bearer TOKEN`` (RFC 6750) or as the query parameter
``authz=TOKEN`` (dCache's convention, what ``...WithMacaroon`` URLs carry). Both
token authenticators (``bearer.py``, ``token.py``) read it here, and peek at its
unverified ``iss`` to tell whose it is. A token that cannot be accepted is refused with
``401`` and ``WWW-Authenticate: Bearer error="invalid_token"``; the reason never
contains the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qs

from wsgidav.dav_error import HTTP_BAD_REQUEST, DAVError

#: Longest token accepted (longer: refused without parsing).
MAX_TOKEN = 8192
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def presented(environ: dict[str, Any]) -> str | None:
    """The request's bearer token (header first, then ``?authz=``), or ``None``.
    ``DAVError`` 400 when ``authz`` is given twice."""
    scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    values = parse_qs(environ.get("QUERY_STRING", "")).get("authz")
    if not values:
        return None
    if len(values) > 1:
        raise DAVError(HTTP_BAD_REQUEST, "authz is given more than once")
    return values[0].strip()


def presented_with_issuer(environ: dict[str, Any]) -> tuple[str, str | None] | None:
    """The request's token and its unverified ``iss`` (``None``: not a JWT), or ``None``
    when it presents none; 401 for a malformed one (see ``presented`` for the 400)."""
    token = presented(environ)
    if token is None:
        return None
    if not well_formed(token):
        raise invalid("malformed token")
    return token, issuer_of(token)


def invalid(reason: str) -> DAVError:
    """401 with the RFC 6750 challenge for an invalid, expired or forged token."""
    description = reason.replace('"', "'").replace("\\", "/")
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return DAVError(401, f"invalid token: {reason}", add_headers=[("WWW-Authenticate", challenge)])


def well_formed(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN and _TOKEN.fullmatch(token) is not None


def issuer_of(token: str) -> str | None:
    """The unverified ``iss`` claim of a JWT, or ``None`` when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None
