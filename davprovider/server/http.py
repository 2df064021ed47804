"""cheroot serving the gateway's WSGI application (``app.py``).

``GatewayServer`` runs it on cheroot, over HTTPS when ``tls:`` is configured
(``tls.py``: the handshake runs in a worker thread on the connection's first read, and
the client's identity is computed there from the verified chain; SIGHUP reloads
certificates, CA bundle and CRLs). A new connection waits in cheroot's selector until
it sends something, so idle connections hold no worker thread. Three fixes to
cheroot's request body handling:

- ``Expect: 100-continue`` is answered when the application first reads the
  body, not before authentication: a refused upload is never sent;
- a body that the application did not read (a 401, a 403, an error) is not
  drained into memory: the connection is closed instead (a small remainder,
  up to ``DRAIN_LIMIT``, is still drained in pieces to keep keep-alive);
- a body that ends before its Content-Length (client closed the
  connection) is an error, not a short file, and chunked bodies are decoded
  in bounded pieces.
"""

from __future__ import annotations

import contextlib
import logging
import select
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

from cheroot import server as cheroot_server
from cheroot import wsgi as cheroot_wsgi
from cheroot.makefile import MakeFile
from wsgidav.dav_error import HTTP_BAD_REQUEST, HTTP_REQUEST_TIMEOUT, DAVError

from davprovider.server.app import WsgiApp
from davprovider.server.framing import StrictHeaderReader, chunk_size, framing_problem
from davprovider.server.sockfile import make_file
from davprovider.server.tls import SelectFirstServer, TLSAdapter, TLSConnection
from davprovider.settings import Settings

server_log = logging.getLogger("davprovider.server")

DRAIN_LIMIT = 64 * 1024
MAX_CHUNK_LINE = 4096
SHARED_BACKLOG = 1024  # listen() backlog of a socket shared by worker processes
LINGER = 0.002  # seconds a worker waits for a keep-alive connection's next request
LINGER_REQUESTS = 100  # requests of one connection served in one turn, at most


class RequestBody:
    """``wsgi.input`` for one request: bounded reads straight from the socket."""

    def __init__(self, request: GatewayRequest) -> None:
        self._request = request
        self.received = 0
        self.failed: DAVError | None = None  # once set, the body is not read again

    @property
    def finished(self) -> bool:
        """True once the whole body has been read."""
        raise NotImplementedError

    def _read(self, size: int) -> bytes:
        raise NotImplementedError

    def _send_continue(self) -> None:
        request = self._request
        if request.expect_continue and not request.sent_headers:
            request.expect_continue = False
            protocol = request.server.protocol.encode("ascii")
            request.conn.wfile.write(protocol + b" 100 Continue\r\n\r\n")

    def read(self, size: int | None = -1) -> bytes:
        """Return up to ``size`` bytes (``b""`` at the end of the body)."""
        if self.failed is not None:
            raise self.failed
        if self.finished or size == 0:
            return b""
        self._send_continue()
        if size is None or size < 0:
            parts = []
            while piece := self._timed_read(1 << 20):
                parts.append(piece)
            data = b"".join(parts)
        else:
            data = self._timed_read(size)
        self.received += len(data)
        return data

    def _timed_read(self, size: int) -> bytes:
        """One bounded read, done within ``server.timeout`` seconds however slowly
        the client sends (else 408 and the connection closes)."""
        request = self._request
        reader = request.conn.rfile
        timed = hasattr(reader, "set_deadline")
        if timed:
            reader.set_deadline(time.monotonic() + request.server.timeout)
        try:
            return self._read(size)
        except TimeoutError:
            request.close_connection = True
            self.failed = DAVError(HTTP_REQUEST_TIMEOUT, "request body too slow")
            raise self.failed from None
        finally:
            if timed:
                reader.set_deadline(None)

    def readline(self, size: int | None = -1) -> bytes:
        """Line reads are not used by WebDAV bodies; served byte-wise, bounded."""
        line = bytearray()
        limit = size if size is not None and size >= 0 else 65536
        while len(line) < limit and not line.endswith(b"\n"):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return bytes(line)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(65536):
            yield chunk

    def drain(self, limit: int) -> bool:
        """Discard an unread remainder of at most ``limit`` bytes; False if
        the body is longer (or of unknown length)."""
        return False

    def settled(self) -> bool:
        """True when the connection may carry another request: the body was read to
        its end, or its small remainder drained (never after a failed read)."""
        if self.failed is not None:
            return False
        return self.finished or self.drain(DRAIN_LIMIT)

    def _incomplete(self, detail: str) -> DAVError:
        self._request.close_connection = True
        return DAVError(HTTP_BAD_REQUEST, f"request body incomplete: {detail}")


class LengthBody(RequestBody):
    """A Content-Length body; EOF before its end raises a 400 DAVError."""

    def __init__(self, request: GatewayRequest, rfile: Any) -> None:
        super().__init__(request)
        self._rfile = rfile  # cheroot's KnownLengthRFile (tracks .remaining)
        self.total = int(rfile.remaining)

    @property
    def finished(self) -> bool:
        return int(self._rfile.remaining) == 0

    def _read(self, size: int) -> bytes:
        want = min(size, int(self._rfile.remaining))
        data = self._rfile.read(want)
        while len(data) < want:
            more = self._rfile.read(want - len(data))
            if not more:
                got = self.received + len(data)
                raise self._incomplete(f"connection closed after {got} of {self.total} bytes")
            data += more
        return bytes(data)

    def drain(self, limit: int) -> bool:
        if int(self._rfile.remaining) > limit or self._request.expect_continue:
            return False
        while self._rfile.read(8192):
            pass
        return self.finished


class ChunkedBody(RequestBody):
    """A ``Transfer-Encoding: chunked`` body, decoded one bounded piece at a time."""

    def __init__(self, request: GatewayRequest, raw: Any) -> None:
        super().__init__(request)
        self._raw = raw  # the connection's buffered socket reader
        self._left = 0
        self._done = False

    @property
    def finished(self) -> bool:
        return self._done

    def _read(self, size: int) -> bytes:
        if self._left == 0 and not self._next_chunk():
            return b""
        data = self._raw.read(min(size, self._left))
        if not data:
            raise self._incomplete(f"connection closed after {self.received} bytes")
        self._left -= len(data)
        if self._left == 0 and self._raw.read(2) != b"\r\n":
            raise self._incomplete("bad chunk terminator")
        return bytes(data)

    def _next_chunk(self) -> bool:
        line = self._raw.readline(MAX_CHUNK_LINE)
        if not line.endswith(b"\n"):
            raise self._incomplete("missing or overlong chunk header")
        try:
            self._left = chunk_size(line)
        except ValueError:
            raise self._incomplete("bad chunk size") from None
        if self._left > 0:
            return True
        while self._raw.readline(MAX_CHUNK_LINE).strip():
            pass  # trailer fields are ignored
        self._done = True
        return False


class GatewayRequest(cheroot_server.HTTPRequest):
    """cheroot request with deferred 100-continue and no unbounded draining."""

    expect_continue = False
    body: RequestBody | None = None
    header_reader = StrictHeaderReader()

    def read_request_headers(self) -> bool:
        """Read headers strictly (``framing.py``: a bad frame is a 400 and the connection
        closes), but hold back ``Expect: 100-continue`` (answered by ``RequestBody`` on
        first read, so auth runs first)."""
        reader = self.header_reader

        def read_holding_expect(rfile: Any, hdict: Any = None) -> Any:
            headers = reader(rfile, hdict)
            expect = headers.pop(b"Expect", b"")
            self.expect_continue = expect.strip().lower() == b"100-continue"
            return headers

        self.header_reader = read_holding_expect  # type: ignore[assignment]
        try:
            if not super().read_request_headers():
                return False
        finally:
            del self.header_reader
        problem = framing_problem(self.inheaders, self.response_protocol)
        if problem is not None:
            server_log.info("refused %s: %s", self.conn.remote_addr, problem)
            self.close_connection = True
            self.simple_response("400 Bad Request", problem)
            return False
        return True

    def send_headers(self) -> None:
        if self.body is not None and not self.body.settled():
            self.close_connection = True
        hold = getattr(self.conn.wfile, "hold_next", None)
        if hold is not None:
            hold()  # the head goes out with the body's first piece: one send, not two
        super().send_headers()

    def respond(self) -> None:
        """cheroot's, then the head still held (a HEAD, a 204, an empty body) sent. On a
        failure the held head goes too, as it went before the failure without the hold,
        and the failure is the one raised."""
        send_held = getattr(self.conn.wfile, "send_held", None)
        try:
            super().respond()
        except BaseException:
            if send_held is not None:
                with contextlib.suppress(OSError):
                    send_held()
            raise
        if send_held is not None:
            send_held()


class GatewayConnection(TLSConnection):
    """A connection handled by ``GatewayRequest`` (TLS handshake in the worker), with
    our socket files on plain HTTP too (``sockfile.py``).

    A worker serves a request only once its whole head has arrived: until then each
    turn buffers what the socket holds without waiting and hands the connection back
    to the selector, so clients trickling their headers (slowloris) hold no thread.
    A head must be complete ``server.header_timeout`` seconds after its first byte
    (else 408), and one client address may hold ``server.connections_per_client``
    connections at once (else 503)."""

    RequestHandlerClass = GatewayRequest
    _head_started: float | None = None
    _counted: str | None = None

    def __init__(self, server: Any, sock: Any, makefile: Any = MakeFile) -> None:
        super().__init__(server, sock, make_file if makefile is MakeFile else makefile)

    def communicate_after_handshake(self) -> bool:
        """Serve the connection's request, then, while no other connection waits for a
        worker, its next ones as they come within ``LINGER`` seconds (at most
        ``LINGER_REQUESTS`` in one turn): a client that sends request after request
        on one connection skips the round trip through cheroot's selector and its
        queue (two thread hand-offs) for each."""
        keep = self._serve_one()
        for _ in range(LINGER_REQUESTS):
            if not keep or not self._next_head_soon():
                break
            keep = self._serve_one()
        return keep

    def _next_head_soon(self) -> bool:
        """Whether a whole request head is here, or arrives within ``LINGER`` seconds,
        unless other connections wait for a worker and none is idle."""
        limits: ConnectionLimits | None = getattr(self.server, "limits", None)
        requests = getattr(self.server, "requests", None)
        if limits is None or requests is None or (requests.qsize and not requests.idle):
            return False
        rfile = self.rfile
        if rfile.head_complete(limits.header_size):
            return True
        sock = self.socket
        tls = isinstance(sock, ssl.SSLSocket)
        if not tls:  # a busy gateway often finds the next head here already: no poll
            if not rfile.fill_available():
                return False
            if rfile.head_complete(limits.header_size):
                return True
        pending = sock.pending() if tls else 0
        if not pending:
            waiting = select.poll()  # not select(): descriptors above 1023 are common here
            try:
                waiting.register(sock, select.POLLIN)
                if not waiting.poll(LINGER * 1000):
                    return False
            except (OSError, ValueError):
                return False
        return rfile.fill_available() and rfile.head_complete(limits.header_size)

    def _serve_one(self) -> bool:
        limits: ConnectionLimits | None = getattr(self.server, "limits", None)
        if limits is None:
            return super().communicate_after_handshake()
        if self._counted is None:
            self._counted = str(self.remote_addr)
            if not limits.admit(self._counted):
                return self._refuse("503 Service Unavailable", "too many connections")
        rfile = self.rfile
        if not rfile.head_complete(limits.header_size):
            if not rfile.fill_available():
                return False
            now = time.monotonic()
            self._head_started = self._head_started or now
            if not rfile.head_complete(limits.header_size):
                if now - self._head_started > limits.header_timeout:
                    return self._refuse("408 Request Timeout", "request head too slow")
                return True  # back to the selector until more bytes arrive
        self._head_started = None
        return super().communicate_after_handshake()

    def _refuse(self, status: str, reason: str) -> bool:
        server_log.info("refused %s: %s (%s)", self.remote_addr, reason, status)
        body = f"{status}: {reason}\n".encode()
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        try:
            self.wfile.write(head.encode() + body)
        except OSError:
            pass
        return False

    def close(self) -> None:
        limits: ConnectionLimits | None = getattr(self.server, "limits", None)
        counted, self._counted = self._counted, None
        if limits is not None and counted is not None:
            limits.release(counted)
        super().close()


class ConnectionLimits:
    """Open connections per client address, and the head's size and time bounds."""

    def __init__(self, per_client: int, header_size: int, header_timeout: float) -> None:
        self.per_client = per_client
        self.header_size = header_size
        self.header_timeout = header_timeout
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def admit(self, address: str) -> bool:
        """Count a new connection of ``address``; False (not counted) over the bound."""
        with self._lock:
            count = self._open.get(address, 0)
            if self.per_client and count >= self.per_client:
                return False
            self._open[address] = count + 1
            return True

    def release(self, address: str) -> None:
        with self._lock:
            count = self._open.get(address, 0) - 1
            if count > 0:
                self._open[address] = count
            else:
                self._open.pop(address, None)


class GatewayWSGI(cheroot_wsgi.Gateway_10):
    """Puts our ``RequestBody`` in the environ as ``wsgi.input``."""

    def get_environ(self) -> Any:
        environ: dict[str, Any] = super().get_environ()
        request = self.req
        body: RequestBody
        if request.chunked_read:
            body = ChunkedBody(request, request.conn.rfile)
        else:
            body = LengthBody(request, request.rfile)
        request.body = body
        environ["wsgi.input"] = body
        if request.expect_continue:  # still unanswered: the body may yet go elsewhere
            environ["HTTP_EXPECT"] = "100-continue"
        return environ


class SharedSocketServer(SelectFirstServer):
    """Serves ``inherited``, a socket already listening, when one is given (a worker
    process, ``workers.py``), instead of binding its own. Its accepts do not wait: the
    workers all watch the socket, and those that lose the race for a connection must
    go back to their selector at once."""

    inherited: socket.socket | None = None

    def bind(self, family: int, type: int, proto: int = 0) -> None:  # noqa: A002
        if self.inherited is None:
            super().bind(family, type, proto)
            return
        self.socket = self.inherited
        self.bind_addr = self.inherited.getsockname()[:2]

    def prepare(self) -> None:
        super().prepare()
        if self.inherited is not None:
            self.socket.setblocking(False)


def _cheroot_error_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's diagnostics go to our log instead of raw stderr."""
    server_log.log(level, "%s", msg, exc_info=traceback)


class GatewayServer:
    """cheroot serving ``app`` on ``settings.server``'s address."""

    def __init__(self, settings: Settings, app: WsgiApp, sock: socket.socket | None = None) -> None:
        opts = settings.server
        self.app = app
        self._server = SharedSocketServer(
            (opts.host, opts.port),
            app,
            numthreads=opts.threads,
            server_name="davprovider",
            timeout=opts.timeout,
            shutdown_timeout=opts.shutdown_timeout,
        )
        self._server.ConnectionClass = GatewayConnection
        self._server.gateway = GatewayWSGI
        self._server.max_request_body_size = 0
        self._server.max_request_header_size = opts.max_header_size
        self._server.limits = ConnectionLimits(  # type: ignore[attr-defined]
            opts.connections_per_client, opts.max_header_size, opts.header_timeout
        )
        self._server.error_log = _cheroot_error_log  # type: ignore[method-assign]
        self.tls = TLSAdapter(settings.tls) if settings.tls is not None else None
        self._server.ssl_adapter = self.tls
        self._thread: threading.Thread | None = None
        if sock is not None:  # a worker of ``workers.py``: the parent's listening socket
            self._server.inherited = sock
            self._server.request_queue_size = SHARED_BACKLOG

    @property
    def scheme(self) -> str:
        """``https`` when TLS is configured, else ``http``."""
        return "https" if self.tls is not None else "http"

    def reload(self) -> None:
        """Re-read TLS files (certificate, key, client CAs, CRLs) for new connections;
        open connections are kept. Also what SIGHUP does."""
        if self.tls is not None:
            self.tls.reload()

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the real port once ``prepare()`` ran."""
        host, port = self._server.bind_addr[:2]
        return str(host), int(port)

    def prepare(self) -> None:
        """Bind the listening socket."""
        self._server.prepare()

    def serve_forever(self) -> None:
        """Bind if needed and serve until ``stop()`` (or an exception)."""
        if not self._server.ready:
            self.prepare()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, lambda signum, frame: self.reload())
        self._server.serve()

    def start_in_thread(self) -> tuple[str, int]:
        """Bind now, serve in a daemon thread; return the bound address."""
        self.prepare()
        self._thread = threading.Thread(target=self._server.serve, daemon=True)
        self._thread.start()
        return self.address

    def stop(self) -> None:
        """Stop serving, wait for the workers, release backend sessions."""
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        close = getattr(self.app, "close", None)
        if close is not None:
            close()
