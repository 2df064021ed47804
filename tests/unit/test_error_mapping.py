"""The backend error vocabulary -> HTTP status, translated once in resources.py."""

from __future__ import annotations

import errno

import pytest
from wsgidav.dav_error import DAVError

from davprovider.dav.resources import backend_errors, expected_length, to_dav_error


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (FileNotFoundError(errno.ENOENT, "missing"), 404),
        (PermissionError(errno.EACCES, "denied"), 403),
        (FileExistsError(errno.EEXIST, "exists"), 405),
        (IsADirectoryError(errno.EISDIR, "dir"), 409),
        (NotADirectoryError(errno.ENOTDIR, "file"), 409),
        (OSError(errno.ENOTEMPTY, "not empty"), 409),
        (ConnectionError("down"), 502),
        (ConnectionResetError("reset"), 502),
        (TimeoutError("slow"), 504),
        (ValueError("bad"), 400),
        (OSError(errno.EIO, "io"), 500),
    ],
)
def test_each_builtin_error_maps_to_its_status(exc, status):
    assert to_dav_error(exc).value == status


def test_exists_and_missing_statuses_depend_on_the_operation():
    assert to_dav_error(FileExistsError(), exists=412).value == 412
    assert to_dav_error(FileNotFoundError(), missing=409).value == 409


def test_backend_errors_context_raises_dav_error_with_reason():
    with pytest.raises(DAVError) as caught, backend_errors("/x"):
        raise ConnectionError("zone down")
    assert caught.value.value == 502
    assert "zone down" in caught.value.context_info


def test_unrelated_exceptions_are_not_swallowed():
    with pytest.raises(KeyError), backend_errors("/x"):
        raise KeyError("bug")


def test_expected_length_reads_content_length_or_mac_header_for_chunked():
    assert expected_length({"CONTENT_LENGTH": "12"}) == 12
    assert expected_length({"CONTENT_LENGTH": ""}) is None
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "CONTENT_LENGTH": "99"}
    assert expected_length(chunked) is None
    assert expected_length({**chunked, "HTTP_X_EXPECTED_ENTITY_LENGTH": "5"}) == 5
