"""A map file kept current: re-read when its mtime, size or inode change.

Shared by the grid-mapfile, the VOMS map file, the gateway's token keys and the token
issuers' JWKS files. ``MapFile(path, load, name)`` reads the
file once (a first read that fails raises), then at most every ``check_every`` seconds
looks at its stamp; a changed file is parsed again, and a file that no longer reads or
parses is logged and the previous content kept.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sized
from typing import Generic, TypeVar

log = logging.getLogger("auth.x509")

T = TypeVar("T", bound=Sized)

Stamp = tuple[int, int, int]


def file_stamp(path: str) -> Stamp | None:
    """(mtime in ns, size, inode) of ``path``; ``None`` when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class MapFile(Generic[T]):
    """The parsed content of a file, ``load(path)`` again whenever the file changes.

    ``load`` raises ``ValueError`` (or ``OSError``, ``UnicodeDecodeError``) for a file it
    cannot use; ``name`` ("grid-mapfile") and ``unit`` ("DNs") word the log lines, which
    begin with ``topic`` ("x509").
    """

    def __init__(
        self,
        path: str,
        load: Callable[[str], T],
        name: str,
        unit: str = "entries",
        check_every: float = 2.0,
        topic: str = "x509",
    ) -> None:
        self.path = path
        self.check_every = check_every
        self._load = load
        self._name = name
        self._unit = unit
        self._topic = topic
        self._lock = threading.Lock()
        self._stamp = file_stamp(path)
        self._content = load(path)
        self._checked = time.monotonic()

    def current(self) -> T:
        """The content, re-read first when the file changed since the last look."""
        self._refresh()
        return self._content

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = now
            stamp = file_stamp(self.path)
            if stamp == self._stamp:
                return
            self._stamp = stamp
            try:
                content = self._load(self.path)
            except (OSError, ValueError) as exc:
                log.error(
                    "%s: %s not reloaded, keeping the previous one: %s",
                    self._topic,
                    self._name,
                    exc,
                )
                return
            self._content = content
            log.info(
                "%s: %s %s reloaded (%d %s)",
                self._topic, self._name, self.path, len(content), self._unit,
            )  # fmt: skip
