"""HTTPS for cheroot: our TLS policy, a handshake off the accept loop, the client's
identity from the verified chain, and reloads on SIGHUP.

- ``context.build_context(tls)``: the ``ssl.SSLContext`` of our policy.
- ``TLSAdapter``: cheroot's SSL adapter interface. ``wrap()`` runs in cheroot's accept
  loop and only wraps the socket (no I/O); ``handshake()`` runs in a worker thread on
  the connection's first read, so an idle or slow client blocks nobody.
- The identity is computed once per connection from the verified chain
  (``certchain.analyse_chain``). Python's ``ssl`` cannot switch off OpenSSL's server
  session cache, and a resumed TLS 1.2 session has no verified chain, so the identity of
  each full handshake is kept per session id (``SessionIdentities``): a resumed session
  gets exactly the identity its full handshake verified, or none at all. The cache
  belongs to one context: a reload starts a new context (whose sessions cannot resume
  the old ones) with an empty cache.
- A certificate that failed verification but was let through the handshake
  (``tls.bad_certificates: forbid``, ``verify.py``) gives a ``PeerCertificate`` with
  ``unverified`` set and OpenSSL's reason as ``problem``; ``badcert.py`` answers every
  request of such a connection 403 with that reason.
- ``reload()`` (SIGHUP) re-reads certificate, key, CA bundle and CRLs into a new context
  for new connections; open connections keep theirs and are not dropped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import socket
import ssl
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cheroot import errors as cheroot_errors
from cheroot import server as cheroot_server
from cheroot import wsgi as cheroot_wsgi
from cheroot.ssl import Adapter

from auth.certchain import PEER_KEY, PeerCertificate, analyse_chain
from davprovider.server import metrics, verify
from davprovider.server.context import build_context
from davprovider.server.sockfile import SocketReader, SocketWriter
from davprovider.settings import TLSSettings

log = logging.getLogger("davprovider.server.tls")

_MISSING = object()


class SessionIdentities:
    """Session id -> identity of the full handshake that created it (bounded, LRU)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, PeerCertificate | None] = OrderedDict()

    def put(self, session_id: bytes, peer: PeerCertificate | None) -> None:
        if not session_id:
            return
        with self._lock:
            self._entries[session_id] = peer
            self._entries.move_to_end(session_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get(self, session_id: bytes) -> Any:
        """The stored identity (possibly ``None``), or ``_MISSING``."""
        with self._lock:
            return self._entries.get(session_id, _MISSING) if session_id else _MISSING


@dataclass(frozen=True)
class TLSState:
    """One generation of the TLS configuration: a context and its sessions."""

    context: ssl.SSLContext
    sessions: SessionIdentities


class TLSReader(SocketReader):
    """cheroot's reader, also reporting data already decrypted inside the TLS object
    (so a pipelined request is not left waiting for the socket to turn readable)."""

    def __init__(self, sock: Any, mode: str = "rb", bufsize: int = 8192) -> None:
        super().__init__(sock, mode, bufsize)
        self._tls_socket = sock

    def has_data(self) -> bool:
        if super().has_data():
            return True
        try:
            return bool(self._tls_socket.pending())
        except (OSError, ValueError):
            return False


class TLSAdapter(Adapter):
    """cheroot SSL adapter with our policy (see the module docstring)."""

    def __init__(self, tls: TLSSettings) -> None:  # noqa: D107 - no Adapter.__init__
        self.settings = tls
        self.certificate, self.private_key = tls.certificate, tls.key
        self.certificate_chain, self.ciphers, self.private_key_password = tls.chain, None, None
        self._state = TLSState(build_context(tls), SessionIdentities(tls.session_cache))

    @property
    def context(self) -> ssl.SSLContext:
        """The context new connections are wrapped with."""
        return self._state.context

    def reload(self) -> bool:
        """Re-read certificate, key, CA bundle and CRLs; keep the old context on error."""
        try:
            context = build_context(self.settings)
        except (OSError, ValueError) as exc:
            log.error("tls: reload failed, keeping the previous configuration: %s", exc)
            return False
        self._state = TLSState(context, SessionIdentities(self.settings.session_cache))
        log.info("tls: certificate, client CAs and CRLs reloaded")
        return True

    def bind(self, sock: socket.socket) -> socket.socket:
        return sock

    def wrap(self, sock: socket.socket) -> tuple[ssl.SSLSocket, dict[str, str]]:
        """Wrap without I/O (cheroot's accept loop); the handshake comes later."""
        state = self._state
        try:
            wrapped = state.context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        except OSError as exc:
            raise cheroot_errors.FatalSSLAlert(*exc.args) from exc
        wrapped.davprovider_tls = state  # type: ignore[attr-defined]
        return wrapped, {"wsgi.url_scheme": "https", "HTTPS": "on"}

    def get_environ(self) -> dict[str, str]:
        return {"wsgi.url_scheme": "https", "HTTPS": "on"}

    def makefile(self, sock: Any, mode: str = "r", bufsize: int = 8192) -> Any:
        if "r" in mode:
            return TLSReader(sock, mode, bufsize)
        return SocketWriter(sock, mode, bufsize)

    def handshake(self, sock: ssl.SSLSocket, client: str) -> dict[str, Any] | None:
        """Finish the handshake (in a worker thread); return the connection's TLS environ,
        or ``None`` when the handshake failed (logged with the client and the reason).
        A client speaking plain HTTP to this port is told so in plain HTTP (400)."""
        if _plain_http(sock):
            log.info("tls: %s spoke plain HTTP to the HTTPS port: 400", client)
            raw_send = socket.socket.sendall
            try:
                raw_send(sock, _PLAIN_HTTP_ANSWER)
            except OSError:
                pass
            return None
        verify.begin()
        try:
            sock.do_handshake()
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            log.info("tls: %s closed the connection during the handshake", client)
            return None
        except ssl.SSLCertVerificationError as exc:
            log.warning("tls: refused %s: client certificate: %s", client, exc.verify_message)
            return None
        except ssl.SSLError as exc:
            log.warning("tls: refused %s: %s", client, _ssl_reason(exc))
            return None
        except OSError as exc:  # timeout, reset, closed before finishing
            log.info("tls: handshake with %s not completed: %s", client, exc or type(exc).__name__)
            return None
        peer = self._identify(sock, client)
        return _environ(sock, peer)

    def _identify(self, sock: ssl.SSLSocket, client: str) -> PeerCertificate | None:
        if self.settings.client_certificates == "none":
            return None
        state: TLSState = getattr(sock, "davprovider_tls", self._state)
        session = sock.session
        session_id = session.id if session is not None else b""
        if sock.session_reused:
            return self._resumed(sock, state, session_id, client)
        ders = verified_chain(sock)
        peer = analyse_chain(ders, accept_limited=True) if ders else None
        refused = verify.failure()  # let through by verify.py: every request is refused
        if refused is not None:
            leaf = sock.getpeercert(binary_form=True)
            peer = analyse_chain(ders or ([leaf] if leaf else []))
            peer = dataclasses.replace(peer, problem=refused, unverified=True) if peer else None
        state.sessions.put(session_id, peer)
        if peer is not None and peer.problem:
            log.warning("tls: %s presented %s: %s", client, peer.subject, peer.problem)
        return peer

    def _resumed(
        self, sock: ssl.SSLSocket, state: TLSState, session_id: bytes, client: str
    ) -> PeerCertificate | None:
        cached = state.sessions.get(session_id)
        if cached is _MISSING:
            log.warning("tls: %s resumed a session of unknown identity: no certificate", client)
            return None
        leaf = sock.getpeercert(binary_form=True)
        if cached is not None and (
            leaf is None or hashlib.sha256(leaf).hexdigest() != cached.leaf_sha256
        ):
            log.warning("tls: %s resumed a session with another certificate: refused", client)
            return None
        peer: PeerCertificate | None = cached
        return peer


class TLSConnection(cheroot_server.HTTPConnection):
    """A connection that finishes its TLS handshake on its first turn in a worker
    (``TLSAdapter.handshake``) and keeps the TLS environ computed there."""

    #: True until the connection first went through the selector (``SelectFirstServer``).
    fresh = True
    _tls_pending = True

    def communicate(self) -> bool:
        adapter = self.server.ssl_adapter
        if self._tls_pending and isinstance(adapter, TLSAdapter):
            environ = adapter.handshake(self.socket, f"{self.remote_addr}:{self.remote_port}")
            metrics.tls_handshake(environ is not None)
            if environ is None:
                return False
            self.ssl_env = environ
            self._tls_pending = False
        return self.communicate_after_handshake()

    def communicate_after_handshake(self) -> bool:
        """cheroot's request handling (a subclass may wait for the head first)."""
        return bool(super().communicate())


class SelectFirstServer(cheroot_wsgi.Server):
    """cheroot's WSGI server; a new connection waits in the selector and reaches a
    worker only once it has sent something (idle connections hold no thread)."""

    def process_conn(self, conn: Any) -> None:
        if getattr(conn, "fresh", False):
            conn.fresh = False
            if self.ready:
                self.put_conn(conn)
                return
        super().process_conn(conn)


_PLAIN_HTTP_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 45\r\nConnection: close\r\n\r\n"
    b"400 Bad Request: this port speaks HTTPS only\n"
)


def _plain_http(sock: ssl.SSLSocket) -> bool:
    """True when the client's first bytes are an HTTP request line, not a TLS record
    (a TLS handshake starts with byte 0x16). Peeks on the raw socket: nothing is read."""
    try:
        first = socket.socket.recv(sock, 8, socket.MSG_PEEK)
    except OSError:
        return False
    return bool(first) and first[:1].isalpha() and first[:1].isupper()


def verified_chain(sock: ssl.SSLSocket) -> list[bytes]:
    """DER certificates of the chain OpenSSL verified, leaf first (empty without one)."""
    public = getattr(sock, "get_verified_chain", None)  # Python 3.13+
    if public is not None:
        return [bytes(c) for c in public() or []]
    sslobj = getattr(sock, "_sslobj", None)
    chain = sslobj.get_verified_chain() if sslobj is not None else None
    return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain or []]  # type: ignore[attr-defined]


def _environ(sock: ssl.SSLSocket, peer: PeerCertificate | None) -> dict[str, Any]:
    """The connection's TLS environ (mod_ssl names, computed by us; never from headers)."""
    cipher = sock.cipher()
    env: dict[str, Any] = {
        "wsgi.url_scheme": "https",
        "HTTPS": "on",
        "SSL_PROTOCOL": sock.version() or "",
        "SSL_CIPHER": cipher[0] if cipher else "",
        "SSL_SESSION_RESUMED": "Resumed" if sock.session_reused else "Initial",
        "SSL_CLIENT_VERIFY": "NONE",
    }
    if peer is not None:
        env.update(
            {
                PEER_KEY: peer,
                "SSL_CLIENT_VERIFY": "FAILED:" + peer.problem if peer.problem else "SUCCESS",
                "SSL_CLIENT_S_DN": peer.subject,
                "SSL_CLIENT_I_DN": peer.issuer,
                "SSL_CLIENT_M_SERIAL": peer.serial,
                "SSL_CLIENT_V_END": peer.not_after.isoformat(),
                "SSL_CLIENT_IS_PROXY": "true" if peer.proxy else "false",
            }
        )
    return env


def _ssl_reason(exc: ssl.SSLError) -> str:
    reason = getattr(exc, "reason", None)
    if reason == "HTTP_REQUEST":
        return "plain HTTP sent to the HTTPS port"
    text = str(reason or exc).replace("_", " ").lower()
    return text or type(exc).__name__
