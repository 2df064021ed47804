"""The in-process gateway (cheroot on 127.0.0.1, free port) and its HTTP client.

``running_gateway(config, factories)`` serves ``config`` in a thread; ``Gateway`` sends one
request per connection, as alice by default; ``memory_config`` is one memory share at /memory.
"""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from davprovider.backend import BackendFactory
from davprovider.server.app import build_app
from davprovider.server.http import GatewayServer
from davprovider.settings import settings_from_mapping

USERS = {"alice": "alice-pw", "bob": "bob-pw", "reader": "reader-pw"}


def memory_config(**overrides: Any) -> dict[str, Any]:
    """A config with one memory share at /memory (alice, bob; reader read-only)."""
    share = {
        "path": "/memory",
        "backend": "memory",
        "options": {"users": dict(USERS), "read_only_users": ["reader"]},
    }
    share.update(overrides.pop("share", {}))
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 5},
        "logging": {"access_log": False},
        "shares": [share],
    }
    config.update(overrides)
    return config


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Gateway:
    host: str
    port: int
    factories: Mapping[str, BackendFactory]
    app: Any
    user: tuple[str, str] | None = ("alice", USERS["alice"])
    extra: dict[str, str] = field(default_factory=dict)

    def auth_header(self, user: tuple[str, str] | None) -> dict[str, str]:
        if user is None:
            return {}
        token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        user: tuple[str, str] | None | str = "default",
    ) -> Response:
        """One request on a fresh connection; ``user=None`` sends no credentials."""
        who = self.user if user == "default" else user
        assert not isinstance(who, str)
        sent = {**self.auth_header(who), **self.extra, **(headers or {})}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=sent)
            reply = conn.getresponse()
            data = reply.read()
            return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)
        finally:
            conn.close()

    def put(self, path: str, data: bytes, **kw: Any) -> Response:
        return self.request("PUT", path, data, **kw)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)


@contextmanager
def running_gateway(
    config: Mapping[str, Any], factories: Mapping[str, BackendFactory] | None = None
) -> Iterator[Gateway]:
    """Start the gateway for ``config`` in a thread; stop it afterwards."""
    settings = settings_from_mapping(config, source="<test>")
    app = build_app(settings, factories)
    server = GatewayServer(settings, app)
    host, port = server.start_in_thread()
    try:
        yield Gateway(host, port, app.factories, app)
    finally:
        server.stop()
