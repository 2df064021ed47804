"""In-process WSGI calls into the gateway app (no sockets): the auth chain."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from davprovider.backend import BackendFactory
from davprovider.server.app import build_app
from davprovider.settings import settings_from_mapping


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    environ: dict[str, Any]


class App:
    """The gateway WSGI app built from a config dict, called directly."""

    def __init__(
        self, config: Mapping[str, Any], factories: Mapping[str, BackendFactory] | None = None
    ) -> None:
        self.app = build_app(settings_from_mapping(config, source="<test>"), factories)

    def call(
        self,
        method: str,
        path: str,
        *,
        authorization: str | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "REQUEST_URI": path,
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        if authorization is not None:
            environ["HTTP_AUTHORIZATION"] = authorization
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        setup_testing_defaults(environ)
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
            started["status"] = int(status.split()[0])
            started["headers"] = {k.lower(): v for k, v in headers}

        chunks = self.app(environ, start_response)
        data = b"".join(chunks)
        return Reply(started["status"], started["headers"], data, environ)


def share_config(chain: list[str] | None = None, **share: Any) -> dict[str, Any]:
    return {
        "auth": {"chain": ["basic"] if chain is None else chain},
        "logging": {"access_log": False},
        "shares": [
            {
                "path": "/memory",
                "backend": "memory",
                "options": {"users": {"alice": "secret"}},
                **share,
            }
        ],
    }


@pytest.fixture
def make_app() -> Any:
    """``make_app(chain=None, factories=None, **share_overrides)`` -> App."""

    def make(
        chain: list[str] | None = None,
        factories: Mapping[str, BackendFactory] | None = None,
        **share: Any,
    ) -> App:
        return App(share_config(chain, **share), factories)

    return make
