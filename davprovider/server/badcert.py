"""Requests over a connection whose client certificate failed verification: 403.

With ``tls.client_certificates: optional`` and ``tls.bad_certificates: forbid`` a revoked,
expired or untrusted certificate (or a proxy breaking RFC 3820) no longer ends the TLS
handshake (``verify.py``): the client gets an HTTP answer it can show, on every request
of that connection, whatever the share's authenticators: ``403 Forbidden`` and one line
naming the reason (OpenSSL's, e.g. ``certificate revoked``). Nothing is read or run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from auth.certchain import PEER_KEY, PeerCertificate

log = logging.getLogger("davprovider.server.tls")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class CertificateRefusal:
    """WSGI middleware: 403 with the reason for an unverified client certificate."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        peer: PeerCertificate | None = environ.get(PEER_KEY)
        if peer is None or not peer.unverified:
            return self.app(environ, start_response)
        reason = f"client certificate refused: {peer.problem}"
        log.info("tls: %s %s: 403 (%s)", environ.get("REMOTE_ADDR", "-"), peer.subject, reason)
        body = f"403 Forbidden: {reason}\n".encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        start_response("403 Forbidden", headers)
        return [body]
