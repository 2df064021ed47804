"""The optional ``redis:`` and ``login_limit:`` sections: defaults, checks naming the key,
secrets kept out of ``repr``, the password from a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from davprovider.fleet.connection import key, make_client, password_of
from davprovider.settings import ConfigError, settings_from_mapping
from tests.helpers.gateway import memory_config


def test_without_the_sections_nothing_changes() -> None:
    settings = settings_from_mapping(memory_config())
    assert settings.redis is None
    assert settings.login_limit.failures == 0


def test_the_url_stays_out_of_repr_and_the_password_comes_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "redis.pw"
    secret.write_text("s3cret-pw\n")
    in_url = settings_from_mapping(memory_config(redis={"url": "redis://:url-pw@h:1/0"}))
    assert "url-pw" not in repr(in_url)
    raw = {"url": "redis://127.0.0.1:6390/2", "password_file": str(secret)}
    settings = settings_from_mapping(memory_config(redis=raw))
    assert settings.redis is not None
    assert "s3cret" not in repr(settings)
    assert password_of(settings.redis) == "s3cret-pw"
    client = make_client(settings.redis)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["password"] == "s3cret-pw" and kwargs["db"] == 2 and kwargs["port"] == 6390
    assert key(settings.redis, "lock", "t") == "davprovider:lock:t"


@pytest.mark.parametrize(
    ("section", "value", "where"),
    [
        ("redis", {"url": "http://127.0.0.1"}, "redis"),
        ("redis", {"timeout": 0}, "redis"),
        ("redis", {"url": "redis://:pw@h:1/0", "password_file": __file__}, "redis"),
        ("redis", {"password_file": "/nonexistent/pw"}, "redis.password_file"),
        ("redis", {"colour": "red"}, "redis.colour"),
        ("login_limit", {"failures": -1}, "login_limit.failures"),
        ("login_limit", {"trusted_proxies": ["not-a-net"]}, "login_limit.trusted_proxies"),
    ],
)
def test_bad_values_name_the_key(section: str, value: object, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(memory_config(**{section: value}), source="site.yaml")
    assert str(caught.value).startswith(f"site.yaml: {where}"), str(caught.value)
