"""Logins: native (4.3 auth framework and legacy 703/704), pam_password, proxy users."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

from .errors import (
    CAT_INSUFFICIENT_PRIVILEGE_LEVEL,
    CAT_INVALID_AUTHENTICATION,
    CAT_INVALID_CLIENT_USER,
    CAT_INVALID_USER,
    PAM_AUTH_PASSWORD_FAILED,
    SYS_INVALID_INPUT_PARAM,
    SYS_PROXYUSER_NO_PRIV,
    IrodsError,
)
from .handlers import ConnState, Reply, api
from .wire import Pack, json_envelope, parse, parse_json

log = logging.getLogger("localgrid.irods.auth")
MAX_PASSWORD_LEN = 50
ANONYMOUS = "anonymous"
DEFAULT_PAM_TTL_HOURS = 336


def expected_digest(challenge: bytes, password: str) -> bytes:
    """The native scheme's response: MD5 over challenge and padded password, no NULs."""
    padded = password.encode("utf-8")[:MAX_PASSWORD_LEN].ljust(MAX_PASSWORD_LEN, b"\0")
    digest = hashlib.md5(challenge[:64] + padded).digest()
    return digest.replace(b"\0", b"\1")


def _verify(state: ConnState, user_name: str, response: bytes) -> None:
    """Check a native response for the proxy user, then settle who the connection acts as."""
    cat = state.catalog
    row = cat.user(user_name)
    passwords = cat.passwords(int(row["user_id"])) if row is not None else []
    if row is not None and user_name == ANONYMOUS and not passwords:
        passwords = [""]  # iRODS lets the anonymous account in with an empty password
    if row is None or not passwords:  # iRODS says so for unknown users and password-less ones
        state.challenge = b""
        log.warning("login refused for %r from %s: no such user or password", user_name, state.peer)
        raise IrodsError(CAT_INVALID_USER, "invalid user")
    ok = bool(state.challenge) and any(
        hmac.compare_digest(expected_digest(state.challenge, pw), response) for pw in passwords
    )
    state.challenge = b""
    if not ok:
        log.warning("login refused for %r from %s: bad password", user_name, state.peer)
        raise IrodsError(CAT_INVALID_AUTHENTICATION, "authentication failed")
    client = state.client_user or user_name
    if client != row["user_name"]:
        if row["user_type_name"] != "rodsadmin":
            log.warning("proxy login refused: %s is not rodsadmin (for %s)", user_name, client)
            raise IrodsError(SYS_PROXYUSER_NO_PRIV, f"{user_name} may not act for {client}")
        if cat.user(client) is None:
            raise IrodsError(CAT_INVALID_CLIENT_USER, f"no such client user: {client}")
    state.actor = cat.actor(client)
    log.info("login %s (proxy %s) from %s", client, user_name, state.peer)


def _new_challenge(state: ConnState) -> str:
    text = secrets.token_hex(32)
    state.challenge = text.encode()
    state.signature = state.challenge[:16].hex()
    return text


@api(110000, before_login=True)
def authenticate(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    request = parse_json(body)
    scheme = str(request.get("scheme", "native"))
    step = str(request.get("next_operation", ""))
    user = str(request.get("user_name", ""))
    if scheme == "native" and step == "auth_agent_auth_request":
        return Reply(msg=json_envelope({**request, "request_result": _new_challenge(state)}))
    if scheme == "native" and step == "auth_agent_auth_response":
        try:
            digest = base64.b64decode(str(request.get("digest", "")))
        except ValueError as exc:
            raise IrodsError(CAT_INVALID_AUTHENTICATION, "digest is not base64") from exc
        _verify(state, user, digest)
        return Reply(msg=json_envelope({k: v for k, v in request.items() if k != "digest"}))
    if scheme == "pam_password" and step == "auth_agent_auth_request":
        return _pam(state, user, str(request.get("a_pw", "")), request)
    raise IrodsError(SYS_INVALID_INPUT_PARAM, f"unsupported auth step {scheme}/{step}")


def _pam(state: ConnState, user: str, password: str, request: dict[str, object]) -> Reply:
    """The PAM stand-in: check the zone's PAM table, hand out a temporary password."""
    cat = state.catalog
    expected = cat.pam_password(user)
    row = cat.user(user)
    if row is None or expected is None or not hmac.compare_digest(expected, password):
        log.warning("PAM login refused for %r from %s", user, state.peer)
        raise IrodsError(PAM_AUTH_PASSWORD_FAILED, "PAM authentication failed")
    try:
        hours = int(str(request.get("a_ttl") or DEFAULT_PAM_TTL_HOURS))
    except ValueError as exc:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "a_ttl is not a number") from exc
    if not 0 < hours <= 24 * 365:
        raise IrodsError(SYS_INVALID_INPUT_PARAM, "a_ttl out of range")
    temp = cat.issue_temp_password(int(row["user_id"]), hours * 3600)
    reply = {k: v for k, v in request.items() if k != "a_pw"}
    return Reply(msg=json_envelope({**reply, "request_result": temp}))


@api(703, before_login=True)
def legacy_challenge(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    challenge = _new_challenge(state).encode()
    packed = Pack("authRequestOut_PI", [("challenge", base64.b64encode(challenge).decode())])
    return Reply(msg=packed.encode())


@api(704, before_login=True)
def legacy_response(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    try:
        response = base64.b64decode(node.string("response"))
    except ValueError as exc:
        raise IrodsError(CAT_INVALID_AUTHENTICATION, "response is not base64") from exc
    _verify(state, node.string("username").partition("#")[0], response)
    return Reply()


@api(709)
def temp_password(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    """GET_TEMP_PASSWORD: the client derives md5(hash_with + password) as a one-time password."""
    actor = state.who()
    seed = secrets.token_hex(16)
    cat = state.catalog
    for password in cat.passwords(actor.user_id)[:1]:
        derived = hashlib.md5((seed + password).ljust(100, "\0").encode()).hexdigest()
        cat.issue_temp_password_value(actor.user_id, derived, 600)
    return Reply(msg=Pack("getTempPasswordOut_PI", [("stringToHashWith", seed)]).encode())


@api(724)
def temp_password_for_other(
    state: ConnState, body: bytes, bs: bytes | bytearray | memoryview
) -> Reply:
    """GET_TEMP_PASSWORD_FOR_OTHER: a rodsadmin gets a one-time password for another user,
    derived from the admin's own password as for 709."""
    actor = state.who()
    if not actor.admin:
        raise IrodsError(CAT_INSUFFICIENT_PRIVILEGE_LEVEL, "rodsadmin only")
    cat = state.catalog
    target = cat.require_user(parse(body).string("targetUser"))
    seed = secrets.token_hex(16)
    for password in cat.passwords(actor.user_id)[:1]:
        derived = hashlib.md5((seed + password).ljust(100, "\0").encode()).hexdigest()
        cat.issue_temp_password_value(int(target["user_id"]), derived, 600)
    out = Pack("getTempPasswordForOtherOut_PI", [("stringToHashWith", seed)])
    return Reply(msg=out.encode())
