"""Config validation: defaults, and errors that name the key path and the file."""

from __future__ import annotations

import pytest

from davprovider.memory import Options as MemoryOptions
from davprovider.settings import ConfigError, load_settings, settings_from_mapping

MINIMAL = "shares:\n  - {path: /memory, backend: memory}\n"


def write(tmp_path, text: str):
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def error_for(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return str(caught.value)


def test_minimal_config_gets_documented_defaults(tmp_path):
    settings = load_settings(write(tmp_path, MINIMAL))
    assert settings.block_size == 256 * 1024
    assert settings.propfind_infinity is False
    assert settings.auth.chain == ("basic",)
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 8080)
    assert settings.shares[0].options == MemoryOptions()
    assert settings.source.endswith("site.yaml")


def test_backend_options_are_validated_by_the_backend_type(tmp_path):
    text = "shares:\n  - path: /m\n    backend: memory\n    options: {users: {a: b}}\n"
    assert load_settings(write(tmp_path, text)).shares[0].options.users == {"a": "b"}


@pytest.mark.parametrize(
    ("text", "keypath", "problem"),
    [
        (MINIMAL + "blok_size: 5\n", "blok_size", "unknown key"),
        (MINIMAL + "block_size: 12\n", "block_size", "between 4096"),
        (MINIMAL + "block_size: lots\n", "block_size", "must be int"),
        (MINIMAL + "server: {prot: 1}\n", "server.prot", "unknown key"),
        (MINIMAL + "server: {port: 70000}\n", "server.port", "port number"),
        (MINIMAL + "propfind_infinity: 'yes'\n", "propfind_infinity", "must be bool"),
        (MINIMAL + "logging: {level: loud}\n", "logging.level", "must be one of"),
        (MINIMAL + "auth: {chain: [basic, kerberos]}\n", "auth.chain[1]", "unknown authenticator"),
        ("shares:\n  - {path: memory, backend: memory}\n", "shares[0].path", "leading slash"),
        ("shares:\n  - {path: /m, backend: ftp}\n", "shares[0].backend", "unknown backend"),
        ("shares:\n  - {path: /m}\n", "shares[0].backend", "required"),
        (
            "shares:\n  - {path: /m, backend: memory, options: {colour: 1}}\n",
            "shares[0].options.colour",
            "unknown key",
        ),
        (
            "shares:\n  - {path: /m, backend: memory, anonymous: {}}\n",
            "shares[0].anonymous.user",
            "required",
        ),
        ("shares: []\n", "shares", "at least one"),
        ("server: {}\n", "shares", "required"),
        (MINIMAL + "shares:\n  - {path: /m, backend: memory}\n", None, "not valid YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, keypath, problem):
    message = error_for(tmp_path, text)
    assert message.startswith(str(tmp_path / "site.yaml"))
    if keypath:
        assert f": {keypath}: " in message
    assert problem in message


def test_duplicate_share_paths_are_refused(tmp_path):
    text = "shares:\n  - {path: /m, backend: memory}\n  - {path: /M, backend: memory}\n"
    assert "shares[1].path: duplicate" in error_for(tmp_path, text)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match="must be a mapping"):
        settings_from_mapping(["shares"], source="x.yaml")


def test_secrets_stay_out_of_repr(tmp_path):
    text = (
        "shares:\n  - path: /m\n    backend: memory\n    options: {users: {alice: hunter2}}\n"
        "    anonymous: {user: pub, password: s3cret}\n"
    )
    settings = load_settings(write(tmp_path, text))
    assert "hunter2" not in repr(settings)
    assert "s3cret" not in repr(settings)


def test_backend_option_checks_in_post_init_name_the_options_key(tmp_path):
    text = "shares:\n  - {path: /i, backend: irods, options: {root: relative}}\n"
    message = error_for(tmp_path, text)
    assert ": shares[0].options: root must be" in message


def test_irods_share_options_validate(tmp_path):
    text = "shares:\n  - {path: /irods, backend: irods, options: {zone: z, pool_ttl: 60}}\n"
    options = load_settings(write(tmp_path, text)).shares[0].options
    assert (options.zone, options.pool_ttl) == ("z", 60.0)
