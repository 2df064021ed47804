"""PROPFIND Depth 0/1 of the common live properties, rendered straight from ``Entry``s.

Why: WsgiDAV's PROPFIND builds a resource object per member, dispatches every property
through ``get_property_value``, makes an lxml element per property and runs
``add_property_response`` per member: about 0.1 ms per member, most of a listing's time.
Clients list folders all day (rclone, davfs2, Finder, Explorer) with a few named
properties; this module answers those requests from the ``Entry`` list of one
``Backend.list`` call, with plain strings.

What: ``fast_propfind`` answers a PROPFIND when all of these hold, with the multistatus
WsgiDAV would send (same hrefs, same values, same 200/404 split); otherwise it returns
``None`` and the caller runs WsgiDAV's handler, which finds the request body as it was:

- Depth ``0`` or ``1``, and no conditional header (``If``, ``If-Match``, ...);
- the body is a ``DAV:propfind`` of ``DAV:prop`` elements naming only ``SUPPORTED``
  properties: seven DAV: live ones, ``oc:checksums`` (rclone) and ``oc:permissions``
  (not allprop, propname, dead, lock, quota or dCache properties);
- the target resolves (the provider's cached ``stat``) and, at Depth 1, ``Backend.list``
  succeeds (errors are left to the slow path, which reports them);
- every value can be written as XML 1.0 text.

``oc:checksums`` comes from the calls the slow path makes: a listing's files share one
``Backend.list_digests`` (never computed); the request's own file asks its resource's
``content_digests(compute=True)`` (``Backend.digests``, maybe read back within
``checksums.compute_limit`` and stored); a failure of either is left to the slow path.
``oc:permissions`` is always 404 (``LiveProperties.computed_value``).

Etag, creation date and content type come from the functions the resources use
(``liveprops.entry_*``); the rest mirrors WsgiDAV's ``_DAVResource.get_property_value``,
and tests/dav/test_fast_propfind.py compares both paths.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from lxml import etree
from wsgidav import util

from davprovider.backend import DIGEST_ALGORITHMS, Entry
from davprovider.dav.copymove import backend_path
from davprovider.dav.liveprops import entry_content_type, entry_created, entry_etag
from davprovider.dav.properties import OC_CHECKSUMS, OC_PERMISSIONS
from davprovider.digests import OWNCLOUD_ORDER, owncloud_text

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What renderers share in one request: the WsgiDAV config, and for
    ``oc:checksums`` the known digests of the files answered, by member name."""

    config: dict[str, Any]
    digests: dict[str, dict[str, str]] = field(default_factory=dict)


#: Renders one property of one resource: its element, or ``None`` for a 404.
Renderer = Callable[[str, Entry, Context], "str | None"]

_CONDITIONS = (
    "HTTP_IF",
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)
_HREF_SAFE = "/" + "!*'()," + "$-_|."  # as WsgiDAV's _DAVResource.get_href
_PLAIN_HREF = re.compile(r"[A-Za-z0-9_.~/!*'(),$|-]*")  # what quote() leaves as it is
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
#: Bodies read before, and what they asked: a client sends the same few PROPFIND bodies
#: over and over (davfs2, Finder, gfal2, rclone), so each is parsed once. Bounded: up
#: to ``READ_MEMO`` bodies of ``READ_MEMO_BODY`` bytes at most, emptied when full.
_READ: dict[bytes, tuple[bytes, tuple[str, ...] | None]] = {}
READ_MEMO = 256
READ_MEMO_BODY = 2048
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_OK = "<D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
_MISSING = "<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>"
_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"'
OC_NS = "http://owncloud.org/ns"
_PREFIXES = {"DAV:": "D", OC_NS: "oc"}  # the root declares both when oc: is asked


class _Unrenderable(ValueError):
    """A value XML 1.0 cannot carry: the slow path decides what to answer."""


def _text(value: str) -> str:
    """``value`` escaped as XML character data (``\\r`` kept, as lxml does)."""
    if _NOT_XML.search(value):
        raise _Unrenderable(value)
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value or ">" in value or "\r" in value:
        value = value.replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return value


def _http_date(secs: float) -> str:
    """``util.get_rfc1123_time`` (``email.utils.formatdate``), step for step, faster."""
    t = datetime.fromtimestamp(secs, UTC).timetuple()
    day, month = _DAYS[t[6]], _MONTHS[t[1] - 1]
    return f"{day}, {t[2]:02d} {month} {t[0]:04d} {t[3]:02d}:{t[4]:02d}:{t[5]:02d} GMT"


def _element(name: str, text: str) -> str:
    return f"<D:{name}>{text}</D:{name}>"


# --- one renderer per supported property, as FileResource/FolderResource answer -------


def _contentlength(path: str, entry: Entry, ctx: Context) -> str | None:
    if entry.is_dir:
        return None
    return _element("getcontentlength", str(entry.size or 0))


def _lastmodified(path: str, entry: Entry, ctx: Context) -> str | None:
    if entry.modified is None:
        return None
    return _element("getlastmodified", _http_date(entry.modified))


def _etag(path: str, entry: Entry, ctx: Context) -> str | None:
    etag = entry_etag(path, entry)
    return None if etag is None else _element("getetag", _text(etag))


def _resourcetype(path: str, entry: Entry, ctx: Context) -> str | None:
    if entry.is_dir:
        return "<D:resourcetype><D:collection/></D:resourcetype>"
    return "<D:resourcetype/>"


def _contenttype(path: str, entry: Entry, ctx: Context) -> str | None:
    if entry.is_dir:
        return None
    return _element("getcontenttype", _text(entry_content_type(path, entry, ctx.config)))


def _displayname(path: str, entry: Entry, ctx: Context) -> str | None:
    return _element("displayname", _text(util.get_uri_name(path)))


def _creationdate(path: str, entry: Entry, ctx: Context) -> str | None:
    created = entry_created(entry)
    if created is None:
        return None
    return _element("creationdate", util.get_rfc3339_time(created))


def _checksums(path: str, entry: Entry, ctx: Context) -> str | None:
    if entry.is_dir:
        return None
    text = owncloud_text(ctx.digests.get(entry.name, {}))
    if not text:
        return None
    return f"<oc:checksums><oc:checksum>{_text(text)}</oc:checksum></oc:checksums>"


def _permissions(path: str, entry: Entry, ctx: Context) -> str | None:
    return None  # computed by the gateway, never known: 404 for every resource


RENDERERS: dict[str, Renderer] = {
    "{DAV:}getcontentlength": _contentlength,
    "{DAV:}getlastmodified": _lastmodified,
    "{DAV:}getetag": _etag,
    "{DAV:}resourcetype": _resourcetype,
    "{DAV:}getcontenttype": _contenttype,
    "{DAV:}displayname": _displayname,
    "{DAV:}creationdate": _creationdate,
    OC_CHECKSUMS: _checksums,
    OC_PERMISSIONS: _permissions,
}
#: The properties the fast path answers (Clark notation).
SUPPORTED = frozenset(RENDERERS)


# --- the request ---------------------------------------------------------------------


def read_request(environ: dict[str, Any]) -> list[str] | None:
    """Read and parse a PROPFIND body once, for both paths.

    The body (bounded by ``max_xml_body`` before) is handed back to WsgiDAV's handler
    (``wsgi.input``, ``CONTENT_LENGTH``) with RFC 4918's ``<propname/>`` renamed to
    ``<name/>``, the only spelling WsgiDAV 4.4 knows. Returns the property names the
    fast path can answer, else ``None`` (an empty body is allprop)."""
    length = environ.get("CONTENT_LENGTH", "").strip()
    if not length.isdigit() or int(length) == 0:
        return None
    body = environ["wsgi.input"].read(int(length))
    known = _READ.get(body)
    if known is None:
        known = _parse(body)
        if len(body) <= READ_MEMO_BODY:
            if len(_READ) >= READ_MEMO:
                _READ.clear()
            _READ[body] = known
    handed, names = known
    environ["wsgi.input"] = io.BytesIO(handed)
    environ["CONTENT_LENGTH"] = str(len(handed))
    return None if names is None else list(names)


def _parse(body: bytes) -> tuple[bytes, tuple[str, ...] | None]:
    """The body to hand on (``propname`` renamed) and the fast path's names of it."""
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError:
        return body, None  # WsgiDAV answers the malformed body with 400
    renamed = root.tag == "{DAV:}propfind" and b"propname" in body
    if renamed and (found := root.findall("{DAV:}propname")):
        for element in found:
            element.tag = "{DAV:}name"
        body = etree.tostring(root)
    names = _fast_names(root)
    return body, None if names is None else tuple(names)


def _fast_names(root: Any) -> list[str] | None:
    """The names of a ``DAV:propfind`` of ``DAV:prop`` elements, all ``SUPPORTED``."""
    if root.tag != "{DAV:}propfind" or len(root) == 0:
        return None
    names: list[str] = []
    for prop in root:
        if prop.tag != "{DAV:}prop":
            return None  # allprop, propname, include, comments...
        for child in prop:
            if not isinstance(child.tag, str) or child.tag not in SUPPORTED:
                return None
            names.append(child.tag)
    return names or None


def fast_propfind(
    provider: Any,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    names: list[str] | None,
) -> Iterable[bytes] | None:
    """Answer a PROPFIND for ``names`` (``read_request``'s) within this module's scope
    (see the docstring), else ``None``."""
    depth = environ.get("HTTP_DEPTH")
    if names is None or depth not in ("0", "1") or any(key in environ for key in _CONDITIONS):
        return None
    resource = provider.get_resource_inst(environ["PATH_INFO"], environ)
    entry: Entry | None = getattr(resource, "entry", None)
    if entry is None:
        return None
    try:  # WsgiDAV's If-header evaluation fails on these (500): leave it to it
        util.checked_etag(resource.get_etag(), allow_none=True)
        if entry.modified is not None:
            int(entry.modified)
    except (ValueError, OverflowError):
        return None
    members = [(resource.path, entry)]
    listing: list[Entry] = []
    if depth == "1" and entry.is_dir:
        try:
            listing = list(resource.backend.list(resource.path))
        except (OSError, ValueError):
            return None  # the slow path lists again and reports the error
        members += _member_paths(resource.path, listing)
    ctx = Context(environ["wsgidav.config"])
    if OC_CHECKSUMS in names:
        try:
            ctx.digests = _known_digests(resource, entry, listing)
        except Exception:  # the slow path asks again and answers it per property
            return None
    try:
        body = _multistatus(provider, ctx, names, members)
    except (_Unrenderable, ValueError, OverflowError, OSError):
        return None
    environ["wsgidav.all_input_read"] = 1
    headers = [
        ("Content-Type", "application/xml; charset=utf-8"),
        ("Date", util.get_rfc1123_time()),
        ("Content-Length", str(len(body))),
    ]
    start_response("207 Multi-Status", headers)
    log.debug("PROPFIND %s answered from %d entries", environ["PATH_INFO"], len(members))
    return [body]


def _known_digests(resource: Any, entry: Entry, listing: list[Entry]) -> dict[str, dict[str, str]]:
    """The digests ``oc:checksums`` reports, by member name, from the slow path's calls:
    the request's own file asks its resource (which may compute them); a listing's
    files (``FolderResource._listing``'s, duplicates and all) share one ``list_digests``."""
    if not entry.is_dir:
        return {entry.name: resource.content_digests(OWNCLOUD_ORDER, compute=True)}
    by_name = {e.name: e for e in listing}
    files = [by_name[e.name] for e in listing if not by_name[e.name].is_dir]
    if not files:
        return {}  # the slow path never asks
    found: dict[str, dict[str, str]] = resource.backend.list_digests(
        resource.path, files, DIGEST_ALGORITHMS
    )
    return found


def _member_paths(parent: str, listing: Iterable[Entry]) -> list[tuple[str, Entry]]:
    """Members as ``FolderResource`` makes them: one per name, at its backend path."""
    prefix = backend_path(parent).rstrip("/") + "/"
    by_name = {e.name: e for e in listing}
    return [
        (prefix + name if name and "/" not in name else backend_path(prefix + name), e)
        for name, e in by_name.items()
    ]


def _href(prefix: str, path: str, is_dir: bool) -> str:
    """``_DAVResource.get_href``: quoted; collections end with ``/``."""
    if path in ("", "/"):
        path = "/"
    elif is_dir and not path.endswith("/"):
        path += "/"
    if _PLAIN_HREF.fullmatch(path):
        return prefix + path
    return prefix + quote(path, safe=_HREF_SAFE)


def _empty(name: str) -> str:
    """The element of a 404 property, ``{ns}local`` -> ``<prefix:local/>``."""
    namespace, _, local = name[1:].partition("}")
    return f"<{_PREFIXES[namespace]}:{local}/>"


def _multistatus(
    provider: Any, ctx: Context, names: list[str], members: list[tuple[str, Entry]]
) -> bytes:
    prefix = quote(provider.mount_path + provider.share_path, safe=_HREF_SAFE)
    renderers = [(RENDERERS[name], _empty(name)) for name in names]
    oc = f' xmlns:oc="{OC_NS}"' if any(name.startswith("{" + OC_NS) for name in names) else ""
    out = [f"{_HEAD}{oc}>"]
    for path, entry in members:
        pieces = [render(path, entry, ctx) for render, _ in renderers]
        found = [piece for piece in pieces if piece is not None]
        missing = [
            empty for piece, (_, empty) in zip(pieces, renderers, strict=True) if piece is None
        ]
        out.append(f"<D:response><D:href>{_href(prefix, path, entry.is_dir)}</D:href>")
        ok = f"<D:propstat><D:prop>{''.join(found)}</D:prop>{_OK}" if found else ""
        gone = f"<D:propstat><D:prop>{''.join(missing)}</D:prop>{_MISSING}" if missing else ""
        # WsgiDAV orders the propstats by the status of their first property
        out.append(gone + ok if pieces[0] is None else ok + gone)
        out.append("</D:response>")
    out.append("</D:multistatus>")
    return "".join(out).encode()
