"""What desktop and sync clients send beyond RFC 4918, recognised in one place.

- Modification times: ``X-OC-Mtime`` (ownCloud, rclone; Unix seconds) on PUT, COPY
  and MOVE, answered ``X-OC-Mtime: accepted``; PROPPATCH of ``DAV:getlastmodified``
  (RFC 1123 date), ``DAV:lastmodified`` (rclone's owncloud vendor: Unix seconds) and
  Windows' ``Win32LastModifiedTime`` (RFC 1123 date). The other Win32 properties
  (``Win32CreationTime``, ``Win32LastAccessTime``, ``Win32FileAttributes``) are kept
  as dead properties.
- macOS Finder: ``._*`` AppleDouble files and ``.DS_Store``, stored or refused with
  403 (``clients.apple_files``); its chunked PUT with ``X-Expected-Entity-Length``
  is handled by ``resources.expected_length``.
- Redirects: davfs2, Windows' WebDAV redirector and Office, and Finder's WebDAVFS are
  never sent to a backend URL (``never_redirected``), whatever a share allows.
"""

from __future__ import annotations

import email.utils
import math
import posixpath
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

WIN32 = "{urn:schemas-microsoft-com:}"
WIN32_MTIME = WIN32 + "Win32LastModifiedTime"
#: Properties whose PROPPATCH sets the modification time.
MTIME_PROPERTIES = frozenset({"{DAV:}getlastmodified", "{DAV:}lastmodified", WIN32_MTIME})
#: Request methods that create the name they address (COPY/MOVE: their Destination).
CREATING = frozenset({"PUT", "MKCOL", "LOCK", "COPY", "MOVE"})
OC_MTIME_HEADER = "HTTP_X_OC_MTIME"
#: User-Agents of clients that do not follow a 307 (or not with their credentials' scope).
NO_REDIRECTS = re.compile(
    r"davfs2|Microsoft-WebDAV-MiniRedir|Microsoft Office|DavClnt|WebDAVFS|WebDAVLib",
    re.IGNORECASE,
)


def never_redirected(agent: str) -> bool:
    """True for a User-Agent that must never get a 307 to a backend URL."""
    return NO_REDIRECTS.search(agent) is not None


def is_apple_file(name: str) -> bool:
    """True for Finder's side files: ``._<name>`` (AppleDouble) and ``.DS_Store``."""
    return name == ".DS_Store" or name.startswith("._")


def created_name(environ: dict[str, Any]) -> str | None:
    """The last path segment a creating request would create, else ``None``."""
    method = environ.get("REQUEST_METHOD", "")
    if method not in CREATING:
        return None
    if method in ("COPY", "MOVE"):
        target = unquote(urlsplit(environ.get("HTTP_DESTINATION", "")).path)
    else:
        target = environ.get("PATH_INFO", "")
    return posixpath.basename(target.rstrip("/"))


def parse_time(text: str | None) -> float:
    """A client's timestamp -> POSIX seconds: Unix seconds (``"1700000000"``,
    fractions allowed), an RFC 1123 date or an RFC 3339 date-time. ``ValueError``
    for anything else, or for times before 1970 or beyond year 9999."""
    value = (text or "").strip()
    if not value:
        raise ValueError("empty timestamp")
    seconds: float | None = None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _parse_date(value)
    if not math.isfinite(seconds) or not 0 <= seconds < 253402300800:
        raise ValueError(f"timestamp out of range: {value!r}")
    return seconds


def _parse_date(value: str) -> float:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise ValueError(f"not a timestamp: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def oc_mtime(environ: dict[str, Any]) -> float | None:
    """The request's ``X-OC-Mtime`` in POSIX seconds, ``None`` without one;
    ``ValueError`` when it is not a number of seconds."""
    header = environ.get(OC_MTIME_HEADER)
    if header is None:
        return None
    try:
        seconds = float(str(header).strip())
    except ValueError:
        raise ValueError(f"X-OC-Mtime must be Unix seconds, not {header!r}") from None
    if not math.isfinite(seconds) or not 0 <= seconds < 253402300800:
        raise ValueError(f"X-OC-Mtime out of range: {header!r}")
    return seconds


def redirect_client(environ: dict[str, Any]) -> tuple[str, str] | None:
    """The client's (address, User-Agent) for a backend's redirect URL, or ``None``
    when the client is one that must never be redirected."""
    agent = str(environ.get("HTTP_USER_AGENT", ""))
    if never_redirected(agent):
        return None
    return str(environ.get("REMOTE_ADDR", "")), agent
