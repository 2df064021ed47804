"""Every storage contract call timed, once, around the backend factory.

``instrument(factory, name)`` returns a factory whose backends time each contract method
(``Backend``'s public methods; reads of an ``open_read`` file and writes, commit and
abort of an ``Upload`` too) and report it to ``metrics.backend_call``, and add it to the
time the current request spent in the backend (``RequestClock``, per thread: a request
runs in one cheroot worker thread, body included). Work a backend hands to its own
threads (read-ahead, write-behind) shows as the time the request waited for it.
Backends themselves are not touched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, cast

from davprovider.backend import Backend, BackendFactory, Entry, Identity, Upload
from davprovider.server import metrics

OPERATIONS = frozenset(name for name in dir(Backend) if not name.startswith("_"))


class RequestClock(threading.local):
    """Seconds the current thread's request spent in backend calls."""

    seconds = 0.0

    def start(self) -> None:
        self.seconds = 0.0


CLOCK = RequestClock()


def _timed(backend: str, operation: str, call: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    started = time.perf_counter()
    outcome = "ok"
    try:
        return call(*args, **kw)
    except BaseException as exc:
        outcome = type(exc).__name__
        raise
    finally:
        spent = time.perf_counter() - started
        CLOCK.seconds += spent
        metrics.backend_call(backend, operation, spent, outcome)


class TimedFactory:
    """``inner`` (a ``BackendFactory``) whose backends and logins are timed."""

    def __init__(self, inner: BackendFactory, name: str) -> None:
        self.inner = inner
        self.name = name

    def __call__(self, identity: Identity) -> Backend:
        backend = _timed(self.name, "session", self.inner, identity)
        return cast(Backend, TimedBackend(backend, self.name))

    def login(self, user: str, password: str) -> bool:
        return bool(_timed(self.name, "login", self.inner.login, user, password))

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # sweep, and whatever else the factory offers


class TimedBackend:
    """A backend whose contract methods are timed; everything else passes through."""

    def __init__(self, inner: Backend, name: str) -> None:
        self.inner = inner
        self.name = name

    def open_read(self, path: str, **options: Any) -> BinaryIO:
        reader = _timed(self.name, "open_read", self.inner.open_read, path, **options)
        return cast(BinaryIO, TimedReader(reader, self.name))

    def open_write(self, path: str, **options: Any) -> Upload:
        upload = _timed(self.name, "open_write", self.inner.open_write, path, **options)
        return cast(Upload, TimedUpload(upload, self.name))

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in OPERATIONS or not callable(attribute):
            return attribute

        def call(*args: Any, **kw: Any) -> Any:
            return _timed(self.name, name, attribute, *args, **kw)

        return call


class TimedReader:
    """A backend's read stream whose ``read`` calls are timed."""

    def __init__(self, inner: Any, name: str) -> None:
        self.inner = inner
        self.name = name

    def read(self, size: int = -1) -> bytes:
        return bytes(_timed(self.name, "read", self.inner.read, size))

    def __enter__(self) -> TimedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class TimedUpload:
    """A backend's ``Upload`` whose write, commit and abort are timed."""

    def __init__(self, inner: Upload, name: str) -> None:
        self.inner = inner
        self.name = name

    def write(self, data: bytes) -> None:
        _timed(self.name, "write", self.inner.write, data)

    def commit(self) -> Entry:
        return cast(Entry, _timed(self.name, "commit", self.inner.commit))

    def abort(self) -> None:
        _timed(self.name, "abort", self.inner.abort)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def instrument(factory: BackendFactory, name: str) -> BackendFactory:
    """``factory`` with every backend call timed (see the module's docstring)."""
    return cast(BackendFactory, TimedFactory(factory, name))
