"""A PUT answered ``307 Temporary Redirect`` to a URL where the backend takes the body.

``Backend.upload_url`` (a Swift temp URL) is asked only when the body can still go
elsewhere and nothing the gateway does on a PUT would be skipped:

- the client sent ``Expect: 100-continue`` (the server holds back ``100 Continue``
  until the body is first read, ``server/http.py``, so no body byte has been sent)
  and a ``Content-Length`` (the backend decides by size);
- no header that only the gateway acts on: client checksums (``Content-MD5``,
  ``Digest``, ``Repr-Digest``, ``OC-Checksum``), ``X-OC-Mtime``, conditions (``If``,
  ``If-Match``, ``If-None-Match``, ``If-Unmodified-Since``), ``Content-Range``,
  ``Content-Encoding``, Finder's ``X-Expected-Entity-Length``;
- the target is not a collection, its parent is one, and no lock covers either
  (such PUTs are checked and answered by WsgiDAV as usual);
- the client is not one that never follows redirects (``clients.never_redirected``).

Anything else is streamed through the gateway as before. The 307 leaves the body
unread, so the connection is closed after it (``server/http.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from wsgidav import util
from wsgidav.dav_error import HTTP_TEMP_REDIRECT, DAVError

from davprovider.dav.clients import redirect_client
from davprovider.dav.errors import optional
from davprovider.dav.resources import backend_errors, backend_path, forget

log = logging.getLogger(__name__)

#: Request headers whose meaning a direct upload would lose.
GATEWAY_HEADERS = (
    "HTTP_CONTENT_MD5", "HTTP_DIGEST", "HTTP_REPR_DIGEST", "HTTP_OC_CHECKSUM",
    "HTTP_X_OC_MTIME", "HTTP_IF", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE", "HTTP_CONTENT_RANGE", "HTTP_CONTENT_ENCODING",
    "HTTP_X_EXPECTED_ENTITY_LENGTH",
)  # fmt: skip


def redirectable_length(environ: dict[str, Any]) -> int | None:
    """The body length of a PUT that may be redirected, else ``None``."""
    if str(environ.get("HTTP_EXPECT", "")).strip().lower() != "100-continue":
        return None
    if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
        return None
    length = str(environ.get("CONTENT_LENGTH", "")).strip()
    if not length.isdigit() or any(name in environ for name in GATEWAY_HEADERS):
        return None
    return int(length)


def check_put_redirect(provider: Any, environ: dict[str, Any]) -> None:
    """Raise a 307 ``DAVError`` to the backend's upload URL when this PUT may go
    there directly (see the module); return to stream it through otherwise."""
    size = redirectable_length(environ)
    client = redirect_client(environ)
    if size is None or client is None or provider.is_readonly():
        return
    path = environ["PATH_INFO"]
    target = provider.get_resource_inst(path, environ)
    parent = provider.get_resource_inst(util.get_uri_parent(path), environ)
    if target is not None and target.is_collection:
        return
    if parent is None or not parent.is_collection or _locked(provider, target or parent):
        return
    backend = provider.backend(environ)
    with backend_errors(path):
        location = optional(
            lambda: backend.upload_url(
                backend_path(path), size, address=client[0], agent=client[1]
            ),
            lambda: None,
            "upload redirect",
        )
    if location:
        forget(environ)
        log.info("PUT %s redirected to the backend", path)
        headers = [("Location", location), ("Cache-Control", "no-store")]
        raise DAVError(HTTP_TEMP_REDIRECT, add_headers=headers)


def _locked(provider: Any, resource: Any) -> bool:
    """True when a lock covers ``resource`` (a PUT there needs its token)."""
    manager = provider.lock_manager
    if manager is None:
        return False
    return bool(manager.get_indirect_url_lock_list(resource.get_ref_url()))
