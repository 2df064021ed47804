"""Client quirks recognised in davprovider/clients.py, and their config sections."""

from __future__ import annotations

import pytest

from davprovider.dav.clients import created_name, is_apple_file, oc_mtime, parse_time
from davprovider.settings import ConfigError, settings_from_mapping


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1500000000", 1500000000),
        ("1500000000.5", 1500000000.5),
        ("Wed, 27 Sep 2017 14:28:34 GMT", 1506522514),
        ("Thu, 28 Feb 2008 19:15:10 GMT", 1204226110),
        ("2017-09-27T14:28:34Z", 1506522514),
        ("2017-09-27T16:28:34+02:00", 1506522514),
    ],
)
def test_client_timestamps_are_read_in_every_format(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1", "nan", "1e300", None])
def test_bad_timestamps_are_value_errors(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_x_oc_mtime_is_unix_seconds_only():
    assert oc_mtime({}) is None
    assert oc_mtime({"HTTP_X_OC_MTIME": " 1700000000 "}) == 1700000000
    with pytest.raises(ValueError):
        oc_mtime({"HTTP_X_OC_MTIME": "Wed, 27 Sep 2017 14:28:34 GMT"})


@pytest.mark.parametrize(
    ("name", "apple"),
    [("._photo.jpg", True), (".DS_Store", True), ("._", True), ("_x", False), (".ds_store", False)],
)
def test_apple_side_files_are_recognised(name, apple):
    assert is_apple_file(name) is apple


def test_created_name_reads_the_path_or_the_destination():
    assert created_name({"REQUEST_METHOD": "PUT", "PATH_INFO": "/a/._b"}) == "._b"
    assert created_name({"REQUEST_METHOD": "MKCOL", "PATH_INFO": "/a/d/"}) == "d"
    copy = {"REQUEST_METHOD": "COPY", "HTTP_DESTINATION": "http://h/s/x/%2E_y"}
    assert created_name(copy) == "._y"
    assert created_name({"REQUEST_METHOD": "GET", "PATH_INFO": "/._b"}) is None


SHARE = "shares:\n  - {path: /m, backend: memory}\n"


def test_checksum_and_client_sections_have_defaults():
    settings = settings_from_mapping({"shares": [{"path": "/m", "backend": "memory"}]})
    checksums = settings.checksums
    assert checksums.upload == ("adler32",)
    assert checksums.upload_sync == ("md5", "sha1", "sha-256", "adler32")
    assert (checksums.small_limit, checksums.compute_limit) == (16 << 20, 64 << 20)
    assert settings.clients.apple_files == "store"
    assert settings.shares[0].apple_files is None


@pytest.mark.parametrize(
    ("extra", "keypath"),
    [
        ({"checksums": {"upload": ["md5", "crc32"]}}, "checksums.upload"),
        ({"checksums": {"compute_limit": -1}}, "checksums.compute_limit"),
        ({"checksums": {"upload_sync": ["sha3"]}}, "checksums.upload_sync"),
        ({"checksums": {"small_limit": -5}}, "checksums.small_limit"),
        ({"clients": {"apple_files": "hide"}}, "clients.apple_files"),
        ({"clients": {"apple": "refuse"}}, "clients.apple"),
    ],
)
def test_bad_client_settings_name_their_key(extra, keypath):
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({"shares": [{"path": "/m", "backend": "memory"}], **extra})
    assert caught.value.keypath == keypath


def test_share_can_override_apple_files():
    share = {"path": "/m", "backend": "memory", "apple_files": "refuse"}
    assert settings_from_mapping({"shares": [share]}).shares[0].apple_files == "refuse"


def test_small_and_sync_client_uploads_get_every_digest_large_ones_only_upload():
    checksums = settings_from_mapping({"shares": [{"path": "/m", "backend": "memory"}]}).checksums
    every = ("adler32", "md5", "sha1", "sha-256")
    assert checksums.for_upload(0, False) == every
    assert checksums.for_upload(16 << 20, False) == every
    assert checksums.for_upload((16 << 20) + 1, False) == ("adler32",)  # the grid's, cheap
    assert checksums.for_upload(None, False) == ("adler32",)  # chunked: length unknown
    assert checksums.for_upload(1 << 30, True) == every  # rclone sends OC-Checksum
