"""Backend errors (the contract's built-in exceptions) -> ``DAVError``, translated once.

A ``PartialFailure`` (some members of a collection's DELETE, COPY or MOVE failed) passes
through ``backend_errors`` untouched: the resources answer it with 207 Multi-Status,
one ``(href, DAVError)`` per failed member (``member_errors``), and release only the
locks of what is gone (``release_locks_below``).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

from wsgidav.dav_error import (
    HTTP_BAD_GATEWAY,
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_GATEWAY_TIMEOUT,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_INTERNAL_ERROR,
    HTTP_METHOD_NOT_ALLOWED,
    HTTP_NOT_FOUND,
    HTTP_SERVICE_UNAVAILABLE,
    DAVError,
)

from davprovider.backend import PartialFailure

T = TypeVar("T")

log = logging.getLogger("davprovider.dav.resources")
HREF_SAFE = "/!*'(),$-_|."  # as WsgiDAV's own hrefs (``get_href``)


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
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        status = HTTP_INSUFFICIENT_STORAGE
    elif isinstance(exc, OSError) and exc.errno == errno.EAGAIN:
        status = HTTP_SERVICE_UNAVAILABLE
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
    except (DAVError, PartialFailure):
        raise
    except (OSError, ValueError) as exc:
        error = to_dav_error(exc, exists=exists, missing=missing)
        level = logging.WARNING if error.value in (HTTP_BAD_GATEWAY, 504) else logging.DEBUG
        log.log(level, "backend refused %s: %s -> %s", path, exc, error.value)
        raise error from exc


def optional(call: Callable[[], T], fallback: Callable[[], T], what: str) -> T:
    """``call()`` of an optional contract method, or ``fallback()`` when the backend
    does not support it (``NotImplementedError``; see ``backend.py``)."""
    try:
        return call()
    except NotImplementedError:
        log.debug("%s not supported by this backend: falling back", what)
        return fallback()


def member_errors(
    failure: PartialFailure, prefix: str, *, exists: int = HTTP_METHOD_NOT_ALLOWED
) -> list[tuple[str, DAVError]]:
    """The failed members of a collection operation as WsgiDAV's error list (its
    handlers answer 207 Multi-Status with an href and a status for each, RFC 4918
    §9.6.1); an href is ``prefix`` (mount and share path) + the member's path."""
    errors = []
    for path, exc in failure.failures:
        error = to_dav_error(exc, exists=exists)
        log.warning("member %s failed: %s -> %s", path, exc, error.value)
        errors.append((quote(prefix + path, safe=HREF_SAFE), error))
    return errors


def release_locks_below(manager: Any, share: str, root: str, kept: Sequence[str]) -> None:
    """After a partial DELETE or MOVE of ``root``: release the locks below it except
    those on a ``kept`` path (still there) or on one of its ancestors."""
    kept_urls = [quote(share + path).rstrip("/") for path in kept]
    for lock in manager.get_url_lock_list(quote(share + root), recursive=True):
        lock_root = lock["root"].rstrip("/")
        if not any(url == lock_root or url.startswith(lock_root + "/") for url in kept_urls):
            manager.release(lock["token"])
