"""Backend errors (the contract's built-in exceptions) -> ``DAVError``, translated once."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from wsgidav.dav_error import (
    HTTP_BAD_GATEWAY,
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_GATEWAY_TIMEOUT,
    HTTP_INTERNAL_ERROR,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NOT_FOUND,
    DAVError,
)

log = logging.getLogger("davprovider.resources")


def to_dav_error(
    exc: BaseException, *, exists: int = HTTP_METHOD_NOT_ALLOWED, missing: int = HTTP_NOT_FOUND
) -> DAVError:
    """Map a backend exception to a DAVError (see ``backend.py``'s table).

    ``exists`` is the status for ``FileExistsError`` (405 for MKCOL, 412 for
    COPY/MOVE without overwrite); ``missing`` the one for
    ``FileNotFoundError`` (409 when a parent is missing on create).
    """
    if isinstance(exc, DAVError):
        return exc
    if isinstance(exc, FileExistsError):
        status = exists
    elif isinstance(exc, IsADirectoryError | NotADirectoryError) or _not_empty(exc):
        status = HTTP_CONFLICT
    elif isinstance(exc, FileNotFoundError):
        status = missing
    elif isinstance(exc, PermissionError):
        status = HTTP_FORBIDDEN
    elif isinstance(exc, ConnectionError):
        status = HTTP_BAD_GATEWAY
    elif isinstance(exc, TimeoutError):
        status = HTTP_GATEWAY_TIMEOUT
    elif isinstance(exc, ValueError):
        status = HTTP_BAD_REQUEST
    else:
        status = HTTP_INTERNAL_ERROR
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return DAVError(status, context_info=reason or None, src_exception=exc)


def _not_empty(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.ENOTEMPTY


@contextmanager
def backend_errors(
    path: str, *, exists: int = HTTP_METHOD_NOT_ALLOWED, missing: int = HTTP_NOT_FOUND
) -> Iterator[None]:
    """Run a backend call, re-raising its built-in errors as ``DAVError``."""
    try:
        yield
    except DAVError:
        raise
    except (OSError, ValueError) as exc:
        error = to_dav_error(exc, exists=exists, missing=missing)
        level = logging.WARNING if error.value in (HTTP_BAD_GATEWAY, 504) else logging.DEBUG
        log.log(level, "backend refused %s: %s -> %s", path, exc, error.value)
        raise error from exc
