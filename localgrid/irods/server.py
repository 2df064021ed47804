"""The zone's TCP server: one thread per connection, startup, negotiation, API dispatch."""

from __future__ import annotations

import logging
import socket
import socketserver
import sqlite3

from . import api_admin, api_auth, api_catalog, api_data, api_objects  # noqa: F401  (fill API)
from .errors import (
    CAT_SQL_ERR,
    SYS_API_INPUT_ERR,
    SYS_INVALID_INPUT_PARAM,
    SYS_NO_API_PRIV,
    SYS_UNMATCHED_API_NUM,
    IrodsError,
)
from .handlers import API, BEFORE_LOGIN, ConnState, Reply
from .meta import Catalog
from .wire import Message, Pack, ProtocolError, parse, read_message, rerror, send_message

log = logging.getLogger("localgrid.irods")
RELEASE = "rods4.3.4"
NEGOTIATION = "request_server_negotiation"


class Connection:
    """One client: startup handshake, then requests until disconnect or EOF."""

    def __init__(self, catalog: Catalog, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.state = ConnState(catalog, peer)

    def serve(self) -> None:
        try:
            if self._startup():
                self._loop()
        except (ConnectionError, TimeoutError, OSError) as exc:
            log.info("connection from %s ended: %s", self.state.peer, exc)
        except ProtocolError as exc:
            log.warning("refused malformed message from %s: %s", self.state.peer, exc)
        finally:
            self.state.close_all()

    def _startup(self) -> bool:
        first = read_message(self.sock)
        if first is None:
            return False
        if first.type != "RODS_CONNECT":
            raise ProtocolError(f"expected RODS_CONNECT, got {first.type!r}")
        pack = parse(first.msg)
        if pack.number("irodsProt") != 1:
            raise ProtocolError("only the XML protocol (irodsProt=1) is spoken here")
        st = self.state
        st.proxy_user, st.proxy_zone = pack.string("proxyUser"), pack.string("proxyRcatZone")
        st.client_user = pack.string("clientUser") or st.proxy_user
        st.client_zone = pack.string("clientRcatZone") or st.proxy_zone
        if pack.string("option").endswith(NEGOTIATION) and not self._negotiate():
            return False
        version = Pack(
            "Version_PI",
            [("status", 0), ("relVersion", RELEASE), ("apiVersion", "d"), ("reconnPort", 0),
             ("reconnAddr", ""), ("cookie", 400)],
        )  # fmt: skip
        send_message(self.sock, Message("RODS_VERSION", 0, version.encode()))
        return True

    def _negotiate(self) -> bool:
        """Client-server negotiation: we don't care, so the client's TCP choice stands."""
        offer = Pack("CS_NEG_PI", [("status", 1), ("result", "CS_NEG_DONT_CARE")])
        send_message(self.sock, Message("RODS_CS_NEG_T", 0, offer.encode()))
        answer = read_message(self.sock)
        if answer is None:
            return False
        result = parse(answer.msg).string("result")
        if "CS_NEG_USE_TCP" not in result:
            log.warning(
                "negotiation from %s ended with %r; TLS is not offered", self.state.peer, result
            )
            return False
        return True

    def _loop(self) -> None:
        while True:
            message = read_message(self.sock)
            if message is None or message.type == "RODS_DISCONNECT":
                return
            if message.type != "RODS_API_REQ":
                raise ProtocolError(f"unexpected message type {message.type!r}")
            reply = self._dispatch(message)
            send_message(self.sock, reply)

    def _dispatch(self, message: Message) -> Message:
        number, st = message.int_info, self.state
        handler = API.get(number)
        try:
            if handler is None:
                raise IrodsError(SYS_UNMATCHED_API_NUM, f"API {number} is not implemented")
            if st.actor is None and number not in BEFORE_LOGIN:
                raise IrodsError(SYS_NO_API_PRIV, "log in first")
            reply: Reply = handler(st, message.msg, message.bs)
            return Message("RODS_API_REPLY", reply.int_info, reply.msg, b"", reply.bs)
        except IrodsError as exc:
            return self._error(number, exc.code, exc.text, exc.body, exc.stack)
        except ProtocolError as exc:
            return self._error(number, SYS_API_INPUT_ERR, str(exc))
        except sqlite3.Error as exc:
            log.exception("catalog error in API %s", number)
            return self._error(number, CAT_SQL_ERR, str(exc))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            return self._error(number, SYS_INVALID_INPUT_PARAM, f"bad input: {exc}")

    def _error(
        self, number: int, code: int, text: str, body: bytes = b"",
        stack: list[tuple[int, str]] | None = None,
    ) -> Message:  # fmt: skip
        user = self.state.actor.name if self.state.actor else "-"
        log.info("API %s by %s from %s -> %s %s", number, user, self.state.peer, code, text)
        return Message("RODS_API_REPLY", code, body, rerror(code, text, stack))


class _RequestHandler(socketserver.BaseRequestHandler):
    server: ZoneServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Connection(
            self.server.catalog, sock, f"{self.client_address[0]}:{self.client_address[1]}"
        ).serve()


class ZoneServer(socketserver.ThreadingTCPServer):
    """Listens on host:port (port 0 picks a free one) and serves the catalog."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, catalog: Catalog, host: str = "127.0.0.1", port: int = 0) -> None:
        self.catalog = catalog
        super().__init__((host, port), _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])
