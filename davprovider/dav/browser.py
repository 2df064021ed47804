"""The web interface: a WsgiDAV middleware in place of WsgiDAV's directory browser.

It sits after the authenticator, so every page and action needs exactly the
credentials WebDAV needs (Basic through the browser's prompt, or a certificate).

- ``GET`` of a folder: the listing (``listing.py``): breadcrumbs, parent link, sizes,
  dates, sorting, and, where the caller may write, upload, new folder, rename and
  delete forms. ``?download=zip``: the folder as a streamed zip (``zipstream.py``).
  The root (``root.py``) lists the shares the same way, read-only.
- ``POST`` to a folder: the forms' actions (``forms.py``), answered ``303 See Other``
  back to the listing (or a confirmation page for a delete nobody confirmed).
- ``GET`` of a file passes through; a type a browser would run (HTML, SVG, XML) is
  sent with ``Content-Security-Policy: sandbox``, so an uploaded page cannot act as
  this origin (its requests would carry ``Origin: null``, refused by ``forms.py``).

Pages carry a strict CSP (scripts and styles only with the page's nonce, forms only
to this origin, no framing). A visitor who came with an iRODS ticket (``?ticket=ID``,
``auth/ticket.py``) keeps it on every link, form and redirect of these pages.

Share links: tickets can be used but nothing here can make one (the storage contract
has no call to create a ticket). ``Browser.share_links`` is the hook, a function
``(environ, row) -> URL or None``; once set (e.g. over a ticket-creating backend
call), the listing shows a "Share link" in each row's actions.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote

from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
from wsgidav.mw.base_mw import BaseMiddleware

from auth.controller import ENVIRON_KEY, SETTINGS_KEY
from davprovider.dav import forms, listing, zipstream
from davprovider.dav.resources import backend_path
from davprovider.settings import Settings

StartResponse = Callable[..., Any]
ShareLinks = Callable[[dict[str, Any], listing.Row], str | None]

#: Types a browser would run as a page of this origin: sent sandboxed.
_ACTIVE_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml",
                 "application/xml")  # fmt: skip


def _csp(nonce: str) -> str:
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def html_headers(body: bytes, nonce: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", _csp(nonce)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    ]


def _is_share(provider: Any) -> bool:
    """One of our backend shares (not the root's virtual folders)."""
    return hasattr(provider, "share") and hasattr(provider, "factory")


class Browser(BaseMiddleware):
    """WsgiDAV middleware: listing pages, folder zips and form actions."""

    #: Hook for share links (none yet: no delegated-access tokens exist).
    share_links: ClassVar[ShareLinks | None] = None

    def __init__(self, wsgidav_app: Any, next_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, next_app, config)
        self.settings: Settings = config[SETTINGS_KEY]

    def is_disabled(self) -> bool:
        return False  # with dir_browser off it still answers folder GETs (403, below)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        provider = environ.get("wsgidav.provider")
        if provider is None or method not in ("GET", "HEAD", "POST"):
            return self.next_app(environ, start_response)
        resource = provider.get_resource_inst(environ["PATH_INFO"], environ)
        if resource is None or not resource.is_collection:
            answer = _sandboxing(start_response) if method != "POST" else start_response
            return self.next_app(environ, answer)
        if not self.settings.dir_browser:
            if method == "POST":
                return self.next_app(environ, start_response)  # WsgiDAV: 405
            raise DAVError(HTTP_FORBIDDEN, "folder pages are turned off on this server")
        if method == "POST":
            return self._post(environ, start_response, provider, resource)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if query.get("download") == ["zip"]:
            return self._zip(environ, start_response, provider, resource)
        return self._listing(environ, start_response, provider, resource, query)

    # --- GET ------------------------------------------------------------------------

    def _listing(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        provider: Any,
        resource: Any,
        query: dict[str, list[str]],
    ) -> Iterable[bytes]:
        sort, descending = listing.parse_sort(query)
        links = type(self).share_links
        folder = listing.Folder(
            path=provider.share_path + resource.get_preferred_path(),
            mount=provider.mount_path,
            rows=[_row(provider, member) for member in resource.get_member_list()],
            user=environ.get("wsgidav.auth.user_name") or None,
            writable=_is_share(provider) and _may_write(environ, provider),
            zippable=_is_share(provider),
            sort=sort,
            descending=descending,
            done=next(iter(query.get("done", [])), None),
            share_link=(lambda row: links(environ, row)) if links else None,
            origin=f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}",
            keep=_keep(environ),
        )
        nonce = secrets.token_urlsafe(16)
        body = listing.listing_page(folder, nonce)
        start_response("200 OK", html_headers(body, nonce))
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    def _zip(
        self, environ: dict[str, Any], start_response: StartResponse, provider: Any, resource: Any
    ) -> Iterable[bytes]:
        if not _is_share(provider):
            raise DAVError(HTTP_FORBIDDEN, "the list of shares cannot be downloaded as a zip")
        path = backend_path(resource.path)
        top = path.rsplit("/", 1)[-1] or provider.share_path.rsplit("/", 1)[-1] or "share"
        limits = zipstream.Limits(
            self.settings.browser.zip_max_bytes, self.settings.browser.zip_max_entries
        )
        members = zipstream.plan(resource.backend, path, top, limits)
        headers = [
            ("Content-Type", "application/zip"),
            ("Content-Disposition", _attachment(top + ".zip")),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        start_response("200 OK", headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            return [b""]
        return zipstream.stream(resource.backend, members, self.settings.block_size)

    # --- POST -----------------------------------------------------------------------

    def _post(
        self, environ: dict[str, Any], start_response: StartResponse, provider: Any, resource: Any
    ) -> Iterable[bytes]:
        forms.check_same_origin(environ)
        if not _is_share(provider):
            raise DAVError(HTTP_FORBIDDEN, "the list of shares is read-only")
        actions = forms.Actions(environ, provider, resource)
        actions.check_writable()
        folder_url = provider.mount_path + provider.share_path + resource.get_preferred_path()
        if forms.form_kind(environ) == "multipart":
            forms.upload(environ, actions, self.settings.block_size)
            return _see_other(start_response, folder_url, "upload", _keep(environ))
        fields = forms.read_fields(environ)
        action = fields.get("action", "")
        name = fields.get("name", "")
        if action == "mkdir":
            actions.mkdir(name)
        elif action == "rename":
            actions.rename(name, fields.get("to", ""))
        elif action == "delete" and fields.get("confirmed") != "yes":
            member = actions.member(name)
            nonce = secrets.token_urlsafe(16)
            body = listing.confirm_page(
                folder_url, name, member.is_collection, nonce, _keep(environ)
            )
            start_response("200 OK", html_headers(body, nonce))
            return [body]
        elif action == "delete":
            actions.delete(name)
        else:
            raise DAVError(400, f"unknown action: {action!r}")
        return _see_other(start_response, folder_url, action, _keep(environ))


def _may_write(environ: dict[str, Any], provider: Any) -> bool:
    identity = environ.get(ENVIRON_KEY)
    return not provider.is_readonly() and identity is not None and not identity.is_anonymous


def _row(provider: Any, member: Any) -> listing.Row:
    is_dir = bool(member.is_collection)
    return listing.Row(
        name=member.name,
        path=provider.mount_path + provider.share_path + member.get_preferred_path(),
        is_dir=is_dir,
        size=None if is_dir else member.get_content_length(),
        modified=member.get_last_modified(),
    )


def _keep(environ: dict[str, Any]) -> str:
    """``ticket=ID`` when the caller came with an iRODS ticket (``auth/ticket.py``): the
    pages' links and forms carry it on, or the next page would ask for a login."""
    identity = environ.get(ENVIRON_KEY)
    ticket = getattr(identity, "ticket", None) if identity is not None else None
    return f"ticket={ticket}" if ticket else ""


def _see_other(start_response: StartResponse, url: str, done: str, keep: str) -> list[bytes]:
    location = quote(url, safe=listing.HREF_SAFE) + f"?done={done}" + (f"&{keep}" if keep else "")
    start_response(
        "303 See Other",
        [("Location", location), ("Content-Length", "0"), ("Cache-Control", "no-store")],
    )
    return [b""]


def _attachment(filename: str) -> str:
    """``Content-Disposition`` naming ``filename``: ASCII fallback plus RFC 5987 UTF-8."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _sandboxing(start_response: StartResponse) -> StartResponse:
    """A file's answer: never sniffed; sandboxed when a browser would run it."""

    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if status.startswith(("200", "206")):
            kind = next((v for k, v in headers if k.lower() == "content-type"), "")
            extra = [("X-Content-Type-Options", "nosniff")]
            if kind.split(";", 1)[0].strip().lower() in _ACTIVE_TYPES:
                extra.append(("Content-Security-Policy", "sandbox"))
            headers = [*headers, *extra]
        return start_response(status, headers, exc_info)

    return wrapped
