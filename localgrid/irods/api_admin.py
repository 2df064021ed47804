"""Administration APIs: GENERAL_ADMIN (701), USER_ADMIN (714), TICKET_ADMIN (723), and the
small informational ones (library features 801, client hints 10215)."""

from __future__ import annotations

import hashlib
import json
import logging

from irods import password_obfuscation

from . import quotas, specific, tickets
from .api_objects import delete_files
from .errors import (
    CAT_INSUFFICIENT_PRIVILEGE_LEVEL,
    CAT_INVALID_ARGUMENT,
    SYS_NO_API_PRIV,
    IrodsError,
)
from .handlers import ConnState, Reply, api
from .wire import Pack, json_envelope, parse

log = logging.getLogger("localgrid.irods.admin")
PAD = "1gCBizHWbwIYyWLoysGzTe6SyzqFKMniZX05faZHWAwQKXf6Fs"
FEATURES = {
    "IRODS_HAS_FEATURE_ATOMIC_APPLY_METADATA_OPERATIONS": 202210,
    "IRODS_HAS_FEATURE_TOUCH_API": 202210,
    "IRODS_HAS_FEATURE_REPLICA_TRUNCATE": 202301,
    "IRODS_HAS_LIBRARY_TICKET_ADMINISTRATION": 202301,
}


def _clear_password(state: ConnState, scrambled: str) -> str:
    """Undo PRC's obfuscation of a new password (keyed by the caller's password)."""
    cat, actor = state.catalog, state.who()
    for old in cat.passwords(actor.user_id):
        key = (old[:90] + state.signature[:100]).ljust(100, "\0")
        hashed = hashlib.md5(key.encode()).hexdigest()
        clear = password_obfuscation.unscramble(
            scrambled, key=hashed, scramble_prefix="", block_chaining=True
        )
        prefix = password_obfuscation.v2_prefix
        if clear[1 : len(prefix)] == prefix[1:]:
            return _strip_padding(clear[len(prefix) :])
    raise IrodsError(CAT_INVALID_ARGUMENT, "cannot decode the new password")


def _clear_keyed_password(state: ConnState, scrambled: str) -> str:
    """Undo the simpler obfuscation ``mkuser`` uses (keyed by the caller's password)."""
    passwords = state.catalog.passwords(state.who().user_id)
    if not scrambled or not passwords:
        return ""
    clear = password_obfuscation.unscramble(scrambled, key=passwords[0], scramble_prefix="")
    return _strip_padding(clear)


def _strip_padding(text: str) -> str:
    for i in range(len(text)):
        tail = text[i:]
        if len(tail) > 15 and PAD.startswith(tail):
            return text[:i]
    return text


def _with_zone(user: str, zone: str) -> str:
    return f"{user}#{zone}" if zone and "#" not in user else user


def _add(state: ConnState, noun: str, args: list[str]) -> None:
    cat = state.catalog
    if noun in ("user", "group"):
        user_type = "rodsgroup" if noun == "group" else args[3]
        cat.add_user(args[2], user_type)
        if user_type != "rodsgroup":
            cat.make_home(args[2])
    elif noun == "zone":
        cat.add_zone(args[2], args[3], args[4], args[5])
    elif noun == "resource":
        cat.add_resource(args[2], args[3], args[4], args[5])
    elif noun == "childtoresc":
        cat.add_child(args[2], args[3], args[4])
    elif noun == "specificQuery":
        specific.register(cat, args[2], args[3])
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported admin command add {noun}")


def _rm(state: ConnState, noun: str, args: list[str]) -> None:
    cat = state.catalog
    if noun in ("user", "group"):
        delete_files(cat.remove_user_and_homes(args[2]), cat.vault)
    elif noun == "zone":
        cat.remove_zone(args[2])
    elif noun == "resource":
        if args[3] != "--dryrun":
            cat.remove_resource(args[2])
    elif noun == "childfromresc":
        cat.remove_child(args[2], args[3])
    elif noun == "unusedAVUs":
        cat.remove_unused_avus()
    elif noun == "specificQuery":
        specific.remove(cat, args[2])
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported admin command rm {noun}")


def _modify(state: ConnState, noun: str, args: list[str]) -> None:
    cat = state.catalog
    if noun == "user":
        value = _clear_password(state, args[4]) if args[3] == "password" else args[4]
        cat.modify_user(args[2], args[3], value)
    elif noun == "group":
        cat.set_membership(args[2], _with_zone(args[4], args[5]), args[3] == "add")
    elif noun == "resource":
        cat.modify_resource(args[2], args[3], args[4])
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported admin command modify {noun}")


@api(701)
def general_admin(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    if not state.who().admin:  # the API table admits only privileged users, as in iRODS
        raise IrodsError(SYS_NO_API_PRIV, "GENERAL_ADMIN is for rodsadmin users")
    node = parse(body)
    args = [node.string(f"arg{i}") for i in range(10)]
    verb, noun = args[0], args[1]
    if verb == "add":
        _add(state, noun, args)
    elif verb == "rm":
        _rm(state, noun, args)
    elif verb == "modify":
        _modify(state, noun, args)
    elif verb == "set-quota":
        quotas.set_quota(state.catalog, noun, args[2], args[3], args[4])
    elif verb == "calculate-usage":
        quotas.calculate_usage(state.catalog)
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported admin command {verb} {noun}")
    log.info("admin %s %s %s by %s", verb, noun, args[2], state.who().name)
    return Reply()


@api(714)
def user_admin(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    """USER_ADMIN: a user's own password; and for rodsadmin and groupadmin users, making
    rodsusers and groups and changing group membership (as iRODS lets a groupadmin)."""
    node = parse(body)
    args = [node.string(f"arg{i}") for i in range(10)]
    cat, actor = state.catalog, state.who()
    if args[0] == "userpw" and args[2] == "password":
        if args[1] != actor.name and not actor.admin:
            raise IrodsError(CAT_INSUFFICIENT_PRIVILEGE_LEVEL, "may only change own password")
        cat.modify_user(args[1], "password", _clear_password(state, args[3]))
        return Reply()
    if not (actor.admin or actor.user_type == "groupadmin"):
        raise IrodsError(CAT_INSUFFICIENT_PRIVILEGE_LEVEL, "rodsadmin or groupadmin only")
    if args[0] == "mkuser":
        cat.add_user(args[1], "rodsuser", _clear_keyed_password(state, args[2]))
        cat.make_home(args[1])
    elif args[0] == "mkgroup":
        cat.add_user(args[1], "rodsgroup")
    elif args[0] == "modify" and args[1] == "group":
        cat.set_membership(args[2], _with_zone(args[4], args[5]), args[3] == "add")
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported user admin command {args[0]}")
    return Reply()


@api(723)
def ticket_admin(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    node = parse(body)
    args = [node.string(f"arg{i}") for i in range(1, 7)]
    admin_kw = "irodsAdmin" in node.kvp()
    if args[0] == "create":
        tickets.create(state, args[1], args[2], args[3])
    elif args[0] == "mod":
        tickets.modify(state, args[1], args[2:], admin_kw)
    elif args[0] == "delete":
        tickets.delete(state, args[1], admin_kw)
    elif args[0] == "session":
        tickets.start_session(state, args[1])
    else:
        raise IrodsError(CAT_INVALID_ARGUMENT, f"unsupported ticket command {args[0]}")
    return Reply()


@api(801)
def library_features(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    return Reply(msg=Pack("STR_PI", [("myStr", json.dumps(FEATURES))]).encode())


@api(10215)
def client_hints(state: ConnState, body: bytes, bs: bytes | bytearray | memoryview) -> Reply:
    hints = {
        "hash_scheme": "SHA256",
        "match_hash_policy": "compatible",
        "plugins": [{"name": "unixfilesystem", "type": "resource"}],
        "rules": [],
        "specific_queries": sorted(specific.BUILT_IN),
    }
    return Reply(msg=json_envelope(hints))
