"""PRC's exceptions translated into the storage contract's built-ins (the one place)."""

from __future__ import annotations

import errno
import functools
import logging
import socket
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from irods import exception as ex

log = logging.getLogger("davprovider.irods")
P = ParamSpec("P")
T = TypeVar("T")

NOT_FOUND = (
    ex.DoesNotExist,
    ex.OBJ_PATH_DOES_NOT_EXIST,
    ex.CAT_UNKNOWN_COLLECTION,
    ex.CAT_UNKNOWN_FILE,
    ex.CAT_NO_ROWS_FOUND,
    ex.USER_FILE_DOES_NOT_EXIST,
)
EXISTS = (
    ex.CATALOG_ALREADY_HAS_ITEM_BY_THAT_NAME,
    ex.CAT_NAME_EXISTS_AS_COLLECTION,
    ex.CAT_NAME_EXISTS_AS_DATAOBJ,
    ex.OVERWRITE_WITHOUT_FORCE_FLAG,
)
DENIED = (
    ex.CAT_NO_ACCESS_PERMISSION,
    ex.CAT_INSUFFICIENT_PRIVILEGE_LEVEL,
    ex.SYS_NO_API_PRIV,
    ex.CAT_INVALID_AUTHENTICATION,
    ex.CAT_INVALID_USER,
    ex.CAT_INVALID_CLIENT_USER,
    ex.SYS_PROXYUSER_NO_PRIV,
    ex.CAT_PASSWORD_EXPIRED,
)
BAD_INPUT = (
    ex.USER_INPUT_PATH_ERR,
    ex.SYS_INVALID_INPUT_PARAM,
    ex.SAME_SRC_DEST_PATHS_ERR,
    ex.CAT_INVALID_ARGUMENT,
    ex.USER_CHKSUM_MISMATCH,
)
# Failures that mean the connection, not the request, went wrong: retry on a new session.
BROKEN = (ex.NetworkException, ConnectionError, BrokenPipeError, socket.timeout, EOFError)


def translate(exc: BaseException, what: str) -> OSError | ValueError:
    """The built-in exception the contract uses for a PRC failure."""
    if isinstance(exc, NOT_FOUND):
        return FileNotFoundError(errno.ENOENT, f"not found: {what}")
    if isinstance(exc, EXISTS):
        return FileExistsError(errno.EEXIST, f"already exists: {what}")
    if isinstance(exc, DENIED) or _ticket_refused(exc):
        return PermissionError(errno.EACCES, f"permission denied: {what}")
    if isinstance(exc, ex.SYS_RESC_QUOTA_EXCEEDED):
        return OSError(errno.EDQUOT, f"quota exceeded: {what}")
    if isinstance(exc, ex.CAT_COLLECTION_NOT_EMPTY | ex.CANT_RM_NON_EMPTY_HOME_COLL):
        return OSError(errno.ENOTEMPTY, f"collection not empty: {what}")
    if isinstance(exc, BAD_INPUT):
        return ValueError(f"refused by iRODS: {what}: {type(exc).__name__}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return TimeoutError(errno.ETIMEDOUT, f"iRODS timed out: {what}")
    if isinstance(exc, BROKEN):
        return ConnectionError(errno.ECONNRESET, f"iRODS unreachable: {what}")
    log.error("unexpected iRODS failure on %s: %r", what, exc)
    return OSError(errno.EIO, f"iRODS error on {what}: {type(exc).__name__}")


def _ticket_refused(exc: BaseException) -> bool:
    """A ticket refused: invalid, expired, spent, or not for this user, group or host
    (iRODS' ``CAT_TICKET_*`` codes, -890000 to -899999; PRC names only a few)."""
    code = getattr(exc, "code", None)
    return isinstance(code, int) and -899999 <= code <= -890000


def _subject(args: tuple[object, ...], default: str) -> str:
    """What a failure names: the path argument, or the path of the object it runs on."""
    if len(args) > 1 and isinstance(args[1], str):
        return args[1]
    return str(getattr(args[0], "path", default)) if args else default


def translated(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a backend method, translating PRC exceptions (built-ins pass through)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except (OSError, ValueError, NotImplementedError):
            raise
        except (ex.iRODSException, ex.PycommandsException, EOFError) as exc:
            what = _subject(args, fn.__name__)
            raise translate(exc, what) from exc

    return wrapper


class Renewable(Protocol):
    def renew(self) -> None: ...


def retried(fn: Callable[P, T]) -> Callable[P, T]:
    """Translated, and retried once on a new session (``args[0].renew()``) when the
    pooled connection turns out to be dead."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except BROKEN:
            backend: Renewable = args[0]  # type: ignore[assignment]
            backend.renew()
            return fn(*args, **kwargs)

    return translated(wrapper)
