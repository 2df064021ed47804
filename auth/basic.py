"""``auth: {chain: [basic]}``: HTTP Basic, checked by the share's backend.

The user name and password are handed to the share's
``BackendFactory.login`` (iRODS native or PAM, Swift auth, the memory
backend's user table). A wrong password is a 401 challenge; a backend that
cannot answer is a 502 (504 on timeout) with a short reason; never a 500.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any

from wsgidav.dav_error import HTTP_BAD_GATEWAY, HTTP_GATEWAY_TIMEOUT, DAVError

from davprovider.backend import Identity

if TYPE_CHECKING:
    from auth.controller import ShareAccess

log = logging.getLogger(__name__)

#: Longest user name and password handed to a backend (longer: refused, no backend call).
MAX_USER = 256
MAX_PASSWORD = 1024


def parse_basic(header: str) -> tuple[str, str] | None:
    """Return (user, password) from an ``Authorization: Basic`` value, or
    ``None`` when it is absent, another scheme, malformed, or longer than
    ``MAX_USER``/``MAX_PASSWORD``."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    user, sep, password = decoded.partition(":")
    if not sep or not user or len(user) > MAX_USER or len(password) > MAX_PASSWORD:
        return None
    return user, password


class Authenticator:
    """Basic credentials -> ``Identity(user, "basic", password=...)``."""

    name = "basic"
    #: A failed or missing Basic login gets a 401 challenge (not a 403).
    challenges = True

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        """Check the request's Basic credentials with the share's factory."""
        credentials = parse_basic(environ.get("HTTP_AUTHORIZATION", ""))
        if credentials is None:
            return None
        user, password = credentials
        client = environ.get("REMOTE_ADDR", "-")
        try:
            accepted = share.factory.login(user, password)
        except (PermissionError, ValueError):  # refused, or credentials it cannot take
            accepted = False
        except TimeoutError as exc:
            log.warning("basic: backend timed out checking %r from %s: %s", user, client, exc)
            raise DAVError(HTTP_GATEWAY_TIMEOUT, "authentication backend timed out") from None
        except ConnectionError as exc:
            log.warning("basic: backend unreachable checking %r from %s: %s", user, client, exc)
            reason = f"authentication backend unavailable: {_short(exc)}"
            raise DAVError(HTTP_BAD_GATEWAY, reason) from None
        if not accepted:
            log.warning("basic: login failed for %r from %s", user, client)
            return None
        return Identity(user=user, method="basic", password=password)


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]
