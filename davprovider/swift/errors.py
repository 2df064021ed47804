"""swiftclient's and requests' exceptions translated into the contract's built-ins
(the one place). Swift's 503 (no node could answer, or one is error-limited) is
``OSError(EAGAIN)`` and its 507 ``OSError(ENOSPC)``: the gateway answers 503/507, a
full or busy store is no 502."""

from __future__ import annotations

import errno
import functools
import logging
import socket
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from requests import exceptions as rex
from swiftclient.exceptions import ClientException

log = logging.getLogger("davprovider.swift")
P = ParamSpec("P")
T = TypeVar("T")

BAD_INPUT = {400, 411, 412, 413, 416, 422}
BUSY_RETRIES = (0.02, 0.08, 0.2)  # seconds before each retry of a read that met a 503


def retry_busy(read: Callable[[], T]) -> T:
    """Run an idempotent read (GET, HEAD), again after a short pause while Swift answers
    503. An object server answers 503 when the object's file was replaced between its
    listing and its opening (an overwrite racing the read); with one replica the proxy
    has no other node to ask, so the next attempt, not the client, should see the new
    version. Other failures, and a 503 that persists, go to the caller."""
    for pause in BUSY_RETRIES:
        try:
            return read()
        except ClientException as exc:
            if exc.http_status != 503:
                raise
        time.sleep(pause)
    return read()


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a swiftclient failure (``None``: no answer at all)."""
    return exc.http_status if isinstance(exc, ClientException) else None


def reason_of(exc: ClientException) -> str:
    """Swift's short explanation (first line of the body), else the message."""
    body = exc.http_response_content
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = (body or "").strip().splitlines()
    if text and not text[0].startswith("<"):
        return text[0][:200]
    return (exc.http_reason or exc.msg or "").strip()[:200]


def is_auth_failure(exc: BaseException) -> bool:
    """True for a refused login (tempauth 401/403, keystoneclient's 'Unauthorized')."""
    if not isinstance(exc, ClientException):
        return False
    return exc.http_status in (401, 403) or str(exc.msg).startswith("Unauthorized")


def translate(exc: BaseException, what: str) -> OSError | ValueError:
    """The built-in exception the contract uses for a Swift failure."""
    if isinstance(exc, ClientException) and exc.http_status is not None:
        status, reason = exc.http_status, reason_of(exc)
        if status == 404:
            return FileNotFoundError(errno.ENOENT, f"not found: {what}")
        if status in (401, 403):
            return PermissionError(errno.EACCES, f"permission denied: {what}")
        if status == 409:
            return OSError(errno.ENOTEMPTY, f"conflict on {what}: {reason}")
        if status in BAD_INPUT:
            return ValueError(f"refused by Swift: {what}: {status} {reason}")
        if status == 408:
            return TimeoutError(errno.ETIMEDOUT, f"Swift timed out: {what}")
        if status == 499:
            return ValueError(f"upload of {what} interrupted")
        if status == 507:
            return OSError(errno.ENOSPC, f"Swift is out of space: {what}")
        if status == 503:
            return OSError(errno.EAGAIN, f"Swift is busy, try again later: {what}")
        return ConnectionError(errno.EIO, f"Swift answered {status} on {what}: {reason}")
    if isinstance(exc, rex.Timeout | socket.timeout | TimeoutError):
        return TimeoutError(errno.ETIMEDOUT, f"Swift timed out: {what}")
    if isinstance(exc, rex.RequestException | ConnectionError | ClientException):
        return ConnectionError(errno.ECONNRESET, f"Swift unreachable: {what}: {exc}")
    log.error("unexpected Swift failure on %s: %r", what, exc)
    return OSError(errno.EIO, f"Swift error on {what}: {type(exc).__name__}")


def translated(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a backend method, translating Swift failures (built-ins pass through)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except (TimeoutError, ClientException, rex.RequestException) as exc:
            what = getattr(args[0], "path", None) or (str(args[1]) if len(args) > 1 else "")
            what = what or fn.__name__
            raise translate(exc, what) from exc

    return wrapper
