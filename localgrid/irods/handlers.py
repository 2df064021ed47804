"""Per-connection state and the table of API handlers (filled by the api_* modules)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from .access import Actor
from .errors import SYS_BAD_FILE_DESCRIPTOR, SYS_NO_API_PRIV, IrodsError
from .meta import Catalog


@dataclass
class Reply:
    """What a handler answers: intInfo (>= 0), a packed body and raw bytes."""

    int_info: int = 0
    msg: bytes = b""
    bs: bytes | bytearray | memoryview = b""


@dataclass
class OpenFile:
    """An L1 descriptor: one replica's vault file at this connection's offset."""

    data_id: int
    path: str
    os_fd: int
    writable: bool
    offset: int = 0
    written: bool = False
    keywords: dict[str, str] = field(default_factory=dict)
    repl_num: int = 0
    hier: str = ""
    ticket: str = ""
    recorded: int = 0  # the replica's size in the catalog when opened


@dataclass
class Cursor:
    """A GenQuery result kept for paging with continueInx."""

    columns: list[int]
    rows: list[tuple[object, ...]]
    position: int = 0


@dataclass
class ConnState:
    """What one client connection has established."""

    catalog: Catalog
    peer: str
    proxy_user: str = ""
    proxy_zone: str = ""
    client_user: str = ""
    client_zone: str = ""
    actor: Actor | None = None
    challenge: bytes = b""
    signature: str = ""
    files: dict[int, OpenFile] = field(default_factory=dict)
    cursors: dict[int, Cursor] = field(default_factory=dict)
    next_handle: int = 3
    ticket: str = ""

    def who(self) -> Actor:
        """The acting user; API calls before login are refused."""
        if self.actor is None:
            raise IrodsError(SYS_NO_API_PRIV, "not authenticated")
        return self.actor

    def handle(self) -> int:
        value = self.next_handle
        self.next_handle += 1
        return value

    def file(self, fd: int) -> OpenFile:
        try:
            return self.files[fd]
        except KeyError:
            raise IrodsError(SYS_BAD_FILE_DESCRIPTOR, f"bad descriptor {fd}") from None

    def close_all(self) -> None:
        for f in self.files.values():
            os.close(f.os_fd)
        self.files.clear()
        self.cursors.clear()


Handler = Callable[[ConnState, bytes, bytes | bytearray | memoryview], Reply]
API: dict[int, Handler] = {}
BEFORE_LOGIN: set[int] = set()


def api(number: int, before_login: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler for an API number."""

    def register(fn: Handler) -> Handler:
        API[number] = fn
        if before_login:
            BEFORE_LOGIN.add(number)
        return fn

    return register
