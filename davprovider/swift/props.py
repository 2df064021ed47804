"""Dead properties of the Swift backend: where they live and the container flag.

A container's own properties are ``X-Container-Meta-Dav-*``; an object's or a
folder marker's are ``X-Object-Meta-Dav-*`` (encoding in ``names.py``); a folder
without marker gets one when a property is set on it.

A container flags that its objects may carry dead properties
(``X-Container-Meta-Davprovider-Props: 1``, ``names.PROPS_FLAG``) before the
first one is stored there: PROPPATCH, a COPY or MOVE from a flagged container
(``bulk.py``), an overwrite keeping old properties. PROPFIND ``allprop`` Depth
1 reads the members' metadata (a HEAD each) only in a flagged container; the
flag comes with the listing's own headers, so an unflagged container costs
nothing more. Objects given ``X-Object-Meta-Dav-*`` by other tools in an
unflagged container are missed by such listings (a PROPFIND of the object
itself still shows them). Where Swift refuses the flag (a container shared
through an ACL, metadata full) the property is stored all the same and the
refusal logged.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from swiftclient.exceptions import ClientException

from .errors import status_of
from .names import PROPS_FLAG, Location, check_limits, dead_properties, meta_headers, user_meta
from .sync import post_object

if TYPE_CHECKING:
    from .account import Account

log = logging.getLogger("davprovider.swift")
Target = tuple[str, str | None]


def meta_target(account: Account, loc: Location) -> Target:
    """Where ``loc``'s metadata lives: ``("container", None)``, ``("object",
    name)``, or ``("implicit", marker name)`` for a folder without marker."""
    if loc.is_account:
        raise PermissionError(errno.EACCES, "the share root has no properties")
    _, row = account.lookup(loc)
    if loc.is_container:
        return "container", None
    if row is None:
        return "implicit", loc.prefix
    return "object", row["name"]


def all_meta(account: Account, loc: Location) -> tuple[Target, dict[str, str], dict[str, str]]:
    """Where ``loc``'s metadata lives, its user metadata, and the HEAD it came from."""
    target = meta_target(account, loc)
    if target[0] == "container":
        head = account.container_head(loc.container)
        return target, user_meta(head, "container"), head
    if target[0] == "implicit":
        return target, {}, {}
    assert target[1] is not None
    head = account.conn.head_object(loc.container, target[1])
    return target, user_meta(head, "object"), head


def set_meta(account: Account, path: str, updates: Mapping[str, str | None]) -> None:
    """The contract's ``set_meta``: one POST (or a new folder marker)."""
    loc = account.locate(path)
    (kind, name), current, head = all_meta(account, loc)
    props = dead_properties(current)
    for key, value in updates.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    limits = account.limits.meta
    others = {k: v for k, v in current.items() if not k.startswith("dav-")}
    new = {**others, **meta_headers(props, limits)}
    check_limits(new, limits, path)
    if kind != "container" and props:
        flag(account, loc.container)
    if kind == "container":
        headers = {f"X-Container-Meta-{k}": v for k, v in new.items()}
        for gone in set(current) - set(new):
            headers[f"X-Remove-Container-Meta-{gone}"] = "x"
        account.conn.post_container(loc.container, headers)
    elif kind == "implicit":
        account.put_marker(loc, new)
    else:
        assert name is not None
        post_object(account.conn, loc.container, name, head, new)


def member_meta(account: Account, loc: Location) -> dict[str, str]:
    """Dead properties of a listed member: its object, else its folder marker."""
    if loc.is_container:
        return dead_properties(user_meta(account.conn.head_container(loc.container), "container"))
    for name in (loc.obj, loc.prefix):
        headers = account.head_object(loc.container, name)
        if headers is not None:
            return dead_properties(user_meta(headers, "object"))
    return {}


def flagged(account: Account, container: str) -> bool:
    """Whether objects of ``container`` may carry dead properties (``PROPS_FLAG``)."""
    return PROPS_FLAG in user_meta(account.container_head(container), "container")


def flag(account: Account, container: str) -> None:
    """Set ``PROPS_FLAG`` on ``container`` unless it has it (see the module docstring)."""
    if flagged(account, container):
        return
    try:
        account.conn.post_container(container, {f"X-Container-Meta-{PROPS_FLAG}": "1"})
    except ClientException as exc:
        if status_of(exc) not in (400, 403):
            raise
        log.warning("cannot flag container %s as holding properties: %s", container, exc)
        return
    headers = {**account.container_head(container), f"x-container-meta-{PROPS_FLAG}": "1"}
    account.recent.put(("container", container), headers)
