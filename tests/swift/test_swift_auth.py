"""Who acts in Swift: Basic passthrough, service profiles, Keystone parameters, options."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from davprovider.backend import Identity
from davprovider.settings import ConfigError, load_settings, settings_from_mapping
from davprovider.swift import Options, Profile, connection_params
from localgrid.swift import free_base_port
from tests.helpers.swift_helpers import KEY, USER, as_tester, count_requests, put, read


def test_login_succeeds_with_the_right_password_and_fails_with_a_wrong_one_or_user(make_factory):
    factory = make_factory(user_template="{user}:{user}")
    assert factory.login("alice", "alice")
    assert factory.login("alice", "alice")  # cached: Swift is asked once per pool_ttl
    assert not factory.login("alice", "wrong")
    assert not factory.login("nobody", "alice")


def test_a_login_is_checked_with_swift_once(make_factory, monkeypatch):
    from swiftclient import client

    calls = []
    real = client.get_auth_1_0
    monkeypatch.setattr(client, "get_auth_1_0", lambda *a, **k: calls.append(a) or real(*a, **k))
    factory = make_factory(user_template="{user}:{user}")
    for _ in range(3):
        assert factory.login("bob", "bob")
    backend = factory(Identity("bob", "basic", password="bob"))
    backend.list("/")  # the first request reuses the login's token
    assert len(calls) == 1


def test_login_to_an_unreachable_swift_is_a_connection_error(make_factory):
    factory = make_factory(auth_url=f"http://127.0.0.1:{free_base_port(1)}/auth/v1.0")
    with pytest.raises(ConnectionError):
        factory.login("alice", "alice")


def test_each_basic_user_works_in_its_own_account(make_factory):
    factory = make_factory(user_template="{user}:{user}")
    alice = factory(Identity("alice", "basic", password="alice"))
    bob = factory(Identity("bob", "basic", password="bob"))
    name = f"own-{uuid.uuid4().hex[:8]}"
    alice.mkdir(f"/{name}")
    try:
        put(alice, f"/{name}/note.txt", b"alice's")
        assert name not in [e.name for e in bob.list("/")]
        with pytest.raises(FileNotFoundError):
            bob.stat(f"/{name}/note.txt")
    finally:
        alice.remove(f"/{name}", recursive=True)


def test_a_revoked_password_is_refused_by_swift(make_factory):
    factory = make_factory(user_template="{user}:{user}")
    wrong = factory(Identity("alice", "basic", password="not-alice"))
    with pytest.raises(PermissionError):
        wrong.list("/")


def test_certificate_identities_use_their_profile(make_factory, container):
    factory = make_factory(profiles={"carol": Profile(user="test:tester", key="testing")})
    carol = factory(Identity("carol", "x509", dn="/O=Grid/CN=Carol"))
    assert container in [e.name for e in carol.list("/")]
    with pytest.raises(PermissionError):
        factory(Identity("dave", "x509", dn="/O=Grid/CN=Dave"))
    by_ip = factory(Identity("carol", "ipallow"))  # profiles are keyed by the mapped user
    assert container in [e.name for e in by_ip.list("/")]


def test_keystone_v3_options_build_the_connection_parameters():
    options = Options(
        auth_url="https://keystone.example.org:5000/v3", auth_version=3,
        user_template="{user}", project_name="proj-{user}", user_domain_name="Users",
        project_domain_name="Projects", region_name="RegionTwo", interface="internal",
        cacert="/etc/ssl/ca.pem", timeout=30,
        profiles={"svc": Profile(user="gateway", key="s3cret", project_name="shared")},
    )  # fmt: skip
    params = connection_params(options, Identity("alice", "basic", password="pw"))
    assert params == {
        "authurl": "https://keystone.example.org:5000/v3", "user": "alice", "key": "pw",
        "auth_version": "3", "retries": 0, "starting_backoff": 0.1, "timeout": 30.0,
        "insecure": False,
        "cacert": "/etc/ssl/ca.pem",
        "os_options": {
            "project_name": "proj-alice", "project_id": None, "user_domain_name": "Users",
            "project_domain_name": "Projects", "region_name": "RegionTwo",
            "endpoint_type": "internal", "service_type": "object-store",
        },
    }  # fmt: skip
    service = connection_params(options, Identity("svc", "x509"))
    assert (service["user"], service["key"]) == ("gateway", "s3cret")
    assert service["os_options"]["project_name"] == "shared"


def test_keystone_v2_uses_tenant_names_and_a_storage_url_override():
    options = Options(
        auth_url="http://keystone:5000/v2.0", auth_version="2.0", project_name="research",
        storage_url="http://swift.internal:8080/v1/AUTH_research",
    )  # fmt: skip
    params = connection_params(options, Identity("alice", "basic", password="pw"))
    assert params["os_options"]["tenant_name"] == "research"
    assert "project_name" not in params["os_options"]
    assert params["os_options"]["object_storage_url"].endswith("/AUTH_research")


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"auth_version": 4}, "auth_version"),
        ({"auth_version": 3}, "project_name"),
        ({"auth_url": "ftp://x"}, "auth_url"),
        ({"user_template": "{login}"}, "user_template"),
        ({"segment_size": 0}, "segment_size"),
        ({"colour": "blue"}, "colour"),
        ({"profiles": {"carol": {"user": "x", "password": "y"}}}, "password"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(options, problem):
    config = {"shares": [{"path": "/swift", "backend": "swift", "options": options}]}
    with pytest.raises(ConfigError, match=problem):
        settings_from_mapping(config, source="site.yaml")


def test_a_swift_share_config_is_accepted():
    config = {
        "shares": [{
            "path": "/swift", "backend": "swift",
            "options": {
                "auth_url": "http://127.0.0.1:8080/auth/v1.0", "auth_version": 1.0,
                "user_template": "{user}:{user}", "segment_size": 1048576,
                "profiles": {"carol": {"user": "test:tester", "key": "testing"}},
            },
        }],
    }  # fmt: skip
    options = settings_from_mapping(config).shares[0].options
    assert isinstance(options, Options) and options.auth_version == "1.0"
    assert options.profiles["carol"] == Profile(user="test:tester", key="testing")
    assert "testing" not in repr(options)


def test_temp_url_redirect_target_serves_the_object_without_credentials(
    make_factory, swift_conn, container
):
    swift_conn.post_account({"X-Account-Meta-Temp-URL-Key": "k3y"})
    backend = make_factory(container=container, temp_url_redirect=True)(as_tester())
    put(backend, "/some file ü.txt", b"shared for a while")
    url = backend.redirect_url("/some file ü.txt", address="127.0.0.1", agent="curl/8.5.0")
    assert url is not None and "temp_url_sig=" in url and "temp_url_expires=" in url
    with urllib.request.urlopen(url) as reply:
        assert reply.read() == b"shared for a while"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url.replace("temp_url_sig=", "temp_url_sig=0"))
    assert caught.value.code == 401
    off = make_factory(container=container)(as_tester())
    assert off.redirect_url("/some file ü.txt", address="127.0.0.1", agent="curl/8") is None
    assert backend.redirect_url("/some file ü.txt", address="127.0.0.1", agent="rclone") is None
    assert read(off, "/some file ü.txt") == b"shared for a while"


def test_connections_are_reused_between_requests(make_factory):
    factory = make_factory()
    first = factory(as_tester())
    first.list("/")
    conn = first.conn
    del first  # the request ends: its connection goes back to the pool
    second = factory(as_tester())
    assert second.conn is conn
    calls = count_requests(conn)
    second.list("/")
    assert dict(calls) == {"get_account": 1}


def test_a_stale_token_is_renewed_before_a_streamed_upload(make_factory, container):
    factory = make_factory(container=container)
    assert factory.login(USER, KEY)
    factory.pool._tokens[factory.pool.key(as_tester())].token = "AUTH_ftk" + "A" * 40  # expired
    backend = factory(as_tester())
    data = os.urandom(600_000)
    assert put(backend, "/f.bin", data, chunk=100_000).size == len(data)
    assert read(backend, "/f.bin") == data


def test_an_anonymous_share_account_uses_its_password_or_a_profile(make_factory, container):
    factory = make_factory(profiles={"guest": Profile(user="test:tester", key="testing")})
    with_password = factory(Identity("test:tester", "anonymous", password="testing"))
    assert container in [e.name for e in with_password.list("/")]
    by_profile = factory(Identity("guest", "anonymous", password=""))
    assert container in [e.name for e in by_profile.list("/")]


def test_the_annotated_example_config_is_valid():
    settings = load_settings(Path(__file__).parents[2] / "config" / "swift.example.yaml")
    (share,) = settings.shares
    assert share.backend == "swift" and share.options.user_template == "{user}:{user}"
