"""HTTP Basic handed to the backend's login; the controller's chain decisions."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from auth.basic import parse_basic
from auth.controller import ENVIRON_KEY
from davprovider.backend import Identity
from davprovider.memory import MemoryFactory, Options
from tests.helpers.gateway import memory_config, running_gateway


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class DownFactory(MemoryFactory):
    """A backend whose login cannot be answered."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(Options())
        self.error = error

    def login(self, user: str, password: str) -> bool:
        raise self.error


def test_parse_basic_accepts_valid_and_rejects_malformed_headers():
    assert parse_basic(basic("alice", "pa:ss")) == ("alice", "pa:ss")
    assert parse_basic("Basic !!!not-base64") is None
    assert parse_basic("Basic " + base64.b64encode(b"no-colon").decode()) is None
    assert parse_basic("Bearer abc") is None
    assert parse_basic("") is None


def test_right_password_authenticates_and_puts_identity_in_environ(make_app):
    reply = make_app().call(
        "PROPFIND", "/memory/", authorization=basic("alice", "secret"), headers={"Depth": "0"}
    )
    assert reply.status == 207
    identity = reply.environ[ENVIRON_KEY]
    assert (identity.user, identity.method) == ("alice", "basic")
    assert reply.environ["wsgidav.auth.user_name"] == "alice"


def test_wrong_password_is_401_with_challenge(make_app):
    reply = make_app().call("GET", "/memory/", authorization=basic("alice", "wrong"))
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Basic ")


def test_missing_credentials_are_401(make_app):
    assert make_app().call("GET", "/memory/").status == 401


@pytest.mark.parametrize(
    "header",
    ["Basic !!!", "Basic " + base64.b64encode(b"x").decode(), "Digest username=x", "garbage"],
)
def test_malformed_authorization_is_401_not_500(make_app, header):
    assert make_app().call("GET", "/memory/", authorization=header).status == 401


def test_backend_down_during_login_is_502_with_short_reason(make_app):
    app = make_app(factories={"/memory": DownFactory(ConnectionError("zone unreachable"))})
    reply = app.call("GET", "/memory/", authorization=basic("alice", "secret"))
    assert reply.status == 502
    assert b"zone unreachable" in reply.body


def test_backend_timeout_during_login_is_504(make_app):
    app = make_app(factories={"/memory": DownFactory(TimeoutError("slow"))})
    assert app.call("GET", "/memory/", authorization=basic("alice", "secret")).status == 504


def test_empty_chain_denies_with_403(make_app):
    reply = make_app(chain=[]).call("GET", "/memory/", authorization=basic("alice", "secret"))
    assert reply.status == 403


def test_anonymous_share_allows_reads_as_fixed_account(make_app):
    app = make_app(anonymous={"user": "public"})
    reply = app.call("PROPFIND", "/memory/", headers={"Depth": "0"})
    assert reply.status == 207
    identity: Any = reply.environ[ENVIRON_KEY]
    assert (identity.user, identity.method) == ("public", "anonymous")


def test_anonymous_write_is_challenged_so_a_user_can_log_in(make_app):
    app = make_app(anonymous={"user": "public"})
    assert app.call("PUT", "/memory/x", body=b"x").status == 401
    ok = app.call("PUT", "/memory/x", body=b"x", authorization=basic("alice", "secret"))
    assert ok.status == 201


def test_anonymous_without_basic_in_chain_refuses_writes_with_403(make_app):
    app = make_app(chain=[], anonymous={"user": "public"})
    assert app.call("GET", "/memory/").status == 200
    assert app.call("PUT", "/memory/x", body=b"x").status == 403


def test_identity_repr_never_shows_the_password():
    identity = Identity("alice", "basic", password="hunter2")
    assert "hunter2" not in repr(identity)
    assert identity.password == "hunter2"


@pytest.mark.parametrize(("access_log", "level"), [(True, "DEBUG"), (False, "INFO")])
def test_an_accepted_password_login_is_logged_below_the_access_line(
    access_log: bool, level: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = memory_config()
    config["logging"] = {"access_log": access_log}
    with caplog.at_level(logging.DEBUG, "auth.controller"), running_gateway(config) as gw:
        assert gw.request("PROPFIND", "/memory/", headers={"Depth": "0"}).status == 207
        assert gw.request("PROPFIND", "/memory/", user=None).status == 401
    accepted = [r for r in caplog.records if "accepted as alice by basic" in r.getMessage()]
    challenged = [r for r in caplog.records if "challenged" in r.getMessage()]
    assert [r.levelname for r in accepted] == [level]
    assert [r.levelname for r in challenged] == ["INFO"]  # every other decision as before
