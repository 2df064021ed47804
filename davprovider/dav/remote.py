"""The HTTP client of third-party copies: a streamed GET of a remote file (pull) and a
streamed PUT to a remote URL (push), over ``http.client`` with bounded pieces.

Remote HTTPS endpoints are verified with ``tpc.ca_file``/``tpc.ca_dir`` (or the system's
CAs) and their host name. ``headers_to_forward`` turns the request's
``TransferHeader<Name>: value`` headers into ``<Name>: value`` for the remote; their values
(bearer tokens, Basic credentials) never reach a log or an answer. A GET follows up to
``MAX_REDIRECTS`` redirects (a Swift temp URL, a dCache door), forwarding the headers only
while it stays on the same host and port.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from davprovider.settings import TpcSettings

MAX_REDIRECTS = 5
_PREFIX = "HTTP_TRANSFERHEADER"
_REDIRECTS = (301, 302, 303, 307, 308)


class RemoteError(Exception):
    """The remote end failed the copy; the message is safe to show the client."""


def headers_to_forward(environ: Mapping[str, Any]) -> dict[str, str]:
    """``TransferHeaderAuthorization: Bearer x`` -> ``{"Authorization": "Bearer x"}``."""
    found = {}
    for key, value in environ.items():
        if key.startswith(_PREFIX) and len(key) > len(_PREFIX):
            name = "-".join(part.capitalize() for part in key[len(_PREFIX) :].split("_"))
            found[name] = str(value)
    return found


def check_url(url: str) -> None:
    """A URL the gateway can reach: ``http``/``https`` with a host; else ``ValueError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")


class Remote:
    """Connections to remote endpoints under the ``tpc:`` settings."""

    def __init__(self, settings: TpcSettings) -> None:
        self.settings = settings
        self._context: ssl.SSLContext | None = None

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context(
                cafile=self.settings.ca_file or None, capath=self.settings.ca_dir or None
            )
        return self._context

    def connect(self, url: str) -> tuple[http.client.HTTPConnection, str]:
        """A connection to ``url``'s server and the request target (path and query)."""
        check_url(url)
        parts = urlsplit(url)
        timeout = self.settings.connect_timeout
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=timeout, context=self.context()
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return conn, target

    def open_get(
        self, url: str, headers: Mapping[str, str]
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """The answer to a GET of ``url`` (after redirects), ready to ``read``; a status
        other than 200 raises ``RemoteError``. The caller closes the connection."""
        sent = dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            conn, target = self.connect(url)
            try:
                conn.request("GET", target, headers=sent)
                conn.sock.settimeout(self.settings.timeout)
                answer = conn.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise RemoteError(f"source unreachable: {_reason(exc)}") from None
            if answer.status == 200:
                return conn, answer
            location = answer.getheader("Location")
            answer.read(64 << 10)
            conn.close()
            if answer.status not in _REDIRECTS or not location:
                raise RemoteError(f"source answered {answer.status} {answer.reason}")
            following = urljoin(url, location)
            if urlsplit(following).netloc != urlsplit(url).netloc:
                sent = {k: v for k, v in sent.items() if k.lower() == "want-digest"}
            url = following
        raise RemoteError(f"source redirected more than {MAX_REDIRECTS} times")

    def open_put(self, url: str, headers: Mapping[str, str]) -> http.client.HTTPConnection:
        """A PUT to ``url`` with ``headers`` (``Content-Length`` among them) sent: the
        body follows with ``send``, the answer with ``end_put``."""
        conn, target = self.connect(url)
        try:
            conn.putrequest("PUT", target, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            conn.sock.settimeout(self.settings.timeout)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise RemoteError(f"destination unreachable: {_reason(exc)}") from None
        return conn

    def send(self, conn: http.client.HTTPConnection, piece: bytes) -> None:
        """One piece of the body; a remote that stopped reading has its answer read."""
        try:
            conn.send(piece)
        except OSError as exc:
            self.end_put(conn)  # a refusal sent early (401, 403, 412) explains it
            raise RemoteError(f"destination failed: {_reason(exc)}") from None

    def end_put(self, conn: http.client.HTTPConnection) -> int:
        """The remote's status once it is 2xx; else ``RemoteError`` with its reason."""
        try:
            answer = conn.getresponse()
            detail = answer.read(512).decode("utf-8", "replace").strip().splitlines()
        except (OSError, http.client.HTTPException) as exc:
            raise RemoteError(f"destination failed: {_reason(exc)}") from None
        if not 200 <= answer.status < 300:
            said = f": {detail[0][:200]}" if detail else ""
            raise RemoteError(f"destination answered {answer.status} {answer.reason}{said}")
        return answer.status


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({exc.verify_message})"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
