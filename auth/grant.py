"""What a bearer token lets its holder do, and the check of one request against it.

Both token authenticators (``bearer.py``: the gateway's own tokens; ``token.py``: WLCG
and SciTokens JWTs) turn a verified token into a ``Grant``: a list of URL path prefixes,
each with the activities (dCache's names) allowed at and below it, and the client
networks it may be used from. ``check(grant, environ, stat)`` then holds the request
against it and raises ``DAVError`` 403 with a short reason when it falls outside.

Activities and the requests they allow:

- ``DOWNLOAD``: GET and HEAD (a folder's page and zip too: a zip needs it);
- ``LIST``: PROPFIND with Depth 1, GET and HEAD of a folder;
- ``READ_METADATA``: PROPFIND with Depth 0, HEAD;
- ``UPLOAD``: PUT (new or overwrite), MKCOL, LOCK and UNLOCK;
- ``CREATE``: PUT of a file that does not exist yet, MKCOL (WLCG ``storage.create``);
- ``DELETE``: DELETE;
- ``MANAGE``: MOVE and COPY (source and destination both in the grant), MKCOL, LOCK, UNLOCK;
- ``UPDATE_METADATA``: PROPPATCH.

OPTIONS needs any activity; any other method (POST included) none grants. A third-party
copy (``COPY`` with ``Source:``, pull, or with a ``Destination:`` on another server,
push) is a write or a read of the request's path: pull needs what a PUT needs, push
DOWNLOAD. The folders above a token's path may be stat'ed (HEAD, PROPFIND Depth 0) with
any activity, as dCache allows (gfal2 checks a copy's target folder with the target's
token); never listed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError

#: dCache's activity names (as ``activity:`` caveats take them).
ACTIVITIES = frozenset(
    {"DOWNLOAD", "UPLOAD", "LIST", "DELETE", "MANAGE", "READ_METADATA", "UPDATE_METADATA"}
)
#: Internal only: WLCG's ``storage.create`` (write where nothing is yet).
CREATE = "CREATE"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``stat(url_path) -> True`` (a folder), ``False`` (a file) or ``None`` (nothing there).
Stat = Callable[[str], bool | None]

_ANY: frozenset[str] = frozenset({*ACTIVITIES, CREATE})
_ALWAYS = {"OPTIONS": _ANY, "DELETE": frozenset({"DELETE"})}
_WRITE_LOCKS = frozenset({"UPLOAD", "MANAGE", CREATE})


@dataclass(frozen=True)
class Scope:
    """``activities`` allowed at URL path ``prefix`` and below."""

    prefix: str
    activities: frozenset[str]

    def covers(self, path: str) -> bool:
        return within(path, self.prefix)


@dataclass(frozen=True)
class Grant:
    """A verified token's rights: scopes, and the networks it is valid from
    (empty: anywhere)."""

    scopes: tuple[Scope, ...]
    networks: tuple[Network, ...] = ()

    def allowed(self, path: str) -> frozenset[str]:
        """Every activity some scope grants at ``path``."""
        found: set[str] = set()
        for scope in self.scopes:
            if scope.covers(path):
                found |= scope.activities
        return frozenset(found)


def within(path: str, prefix: str) -> bool:
    """True when URL path ``path`` is ``prefix`` or lies below it (whole segments)."""
    base = prefix.rstrip("/")
    path = path.rstrip("/")
    return base == "" or path == base or path.startswith(base + "/")


def networks_of(texts: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (or single addresses) parsed; ``ValueError`` for a malformed one."""
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts)


def request_path(environ: dict[str, Any]) -> str:
    """The request's URL path, decoded (as WsgiDAV resolved it)."""
    return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))


def destination_path(environ: dict[str, Any]) -> str | None:
    """The decoded URL path of a COPY or MOVE ``Destination``."""
    destination = environ.get("HTTP_DESTINATION", "").strip()
    return unquote(urlsplit(destination).path) if destination else None


def refuse(reason: str) -> DAVError:
    return DAVError(HTTP_FORBIDDEN, f"token does not allow this: {reason}")


def check(grant: Grant, environ: dict[str, Any], stat: Stat) -> None:
    """Raise ``DAVError`` 403 unless ``grant`` allows this request."""
    _check_address(grant, environ)
    method = environ.get("REQUEST_METHOD", "")
    path = request_path(environ)
    allowed = grant.allowed(path)
    if not allowed:
        if _stats_an_ancestor(grant, environ, path):
            return
        raise refuse(f"{path} is outside the token's path")
    acting = _acting_as(environ)
    if acting in ("COPY", "MOVE"):
        _check_transfer(grant, environ, allowed)
        return
    needed = _needed(acting, environ, allowed, lambda: stat(path))
    if not needed:
        raise refuse(f"no activity allows {method}")
    if not needed & allowed:
        raise refuse(f"{method} needs {' or '.join(sorted(needed))}")


def _needed(
    method: str, environ: dict[str, Any], allowed: frozenset[str], kind: Callable[[], bool | None]
) -> frozenset[str]:
    """The activities of which ``method`` needs one (``kind`` stats the target, called
    only when the answer depends on it)."""
    if method in _ALWAYS:
        return _ALWAYS[method]
    if method in ("GET", "HEAD"):
        if "download=zip" in environ.get("QUERY_STRING", ""):
            return frozenset({"DOWNLOAD"})  # a folder's files, zipped
        base = {"DOWNLOAD", "READ_METADATA"} if method == "HEAD" else {"DOWNLOAD"}
        if not base & allowed and "LIST" in allowed and kind():
            base.add("LIST")  # a folder's page
        return frozenset(base)
    if method == "PROPFIND":
        depth = environ.get("HTTP_DEPTH", "infinity").strip().lower()
        return frozenset({"LIST", "READ_METADATA"} if depth == "0" else {"LIST"})
    if method == "PUT":
        if "UPLOAD" not in allowed and CREATE in allowed and kind() is None:
            return frozenset({CREATE})
        return frozenset({"UPLOAD"})
    if method == "MKCOL":
        return _WRITE_LOCKS
    if method in ("LOCK", "UNLOCK"):
        if allowed & {"UPLOAD", "MANAGE"} or CREATE not in allowed:
            return frozenset({"UPLOAD", "MANAGE"})
        return frozenset({CREATE}) if kind() is None else frozenset({"UPLOAD", "MANAGE"})
    if method == "PROPPATCH":
        return frozenset({"UPDATE_METADATA"})
    return frozenset()


def _acting_as(environ: dict[str, Any]) -> str:
    """The request's method; a third-party copy as what it does to the request's path:
    ``Source:`` (pull) writes it (PUT), a ``Destination:`` on another server (push)
    reads it (GET)."""
    method = str(environ.get("REQUEST_METHOD", ""))
    if method != "COPY":
        return method
    if environ.get("HTTP_SOURCE"):
        return "PUT"
    destination = urlsplit(environ.get("HTTP_DESTINATION", "").strip())
    host = str(environ.get("HTTP_HOST", "")).lower()
    return "GET" if destination.netloc and destination.netloc.lower() != host else method


def _stats_an_ancestor(grant: Grant, environ: dict[str, Any], path: str) -> bool:
    """A HEAD or PROPFIND Depth 0 of a folder above one of the grant's paths."""
    method = environ.get("REQUEST_METHOD", "")
    depth = environ.get("HTTP_DEPTH", "infinity").strip().lower()
    if method != "HEAD" and (method != "PROPFIND" or depth != "0"):
        return False
    return any(within(scope.prefix, path) for scope in grant.scopes if scope.activities)


def _check_transfer(grant: Grant, environ: dict[str, Any], allowed: frozenset[str]) -> None:
    method = environ.get("REQUEST_METHOD", "")
    if "MANAGE" not in allowed:
        raise refuse(f"{method} needs MANAGE")
    destination = destination_path(environ)
    if destination is None or "MANAGE" not in grant.allowed(destination):
        raise refuse(f"{method} destination is outside the token's path")


def _check_address(grant: Grant, environ: dict[str, Any]) -> None:
    if not grant.networks:
        return
    try:
        address = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
    except ValueError:
        raise refuse("client address unknown") from None
    if not any(address in network for network in grant.networks):
        raise refuse("not valid from this client address")
