"""Catalog rows remembered by one backend, that is for one request.

WsgiDAV looks a request's paths up one call at a time (the target, its parent, the
target again as the upload opens, its metadata), and each lookup was a GenQuery of
its own. A ``Rows`` keeps what this backend's queries answered, present or absent,
so that no row is asked twice in one request:

- A data object's row also names its parent collection's row (one query answers
  both), and a collection's lookup asks for the parent collection too (``in``).
- A data object and a collection never share a path in iRODS: a row of one kind
  answers the other kind's lookup as absent.
- Forgotten after every change this backend makes (``changing``), and before a
  reader that missed looks again (``catalog.Settle``): a miss is never concluded
  from a remembered row, and no change of this request is hidden from it.

A backend serves one request (``backend.py``), so what others change during it shows
no later than it would have between two of its queries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
Row = Mapping[Any, Any]
DATA, COLL = "data", "coll"


class Rows:
    """(kind, share path) -> the row, or ``None`` when the zone said there is none."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Row | None] = {}

    def known(self, kind: str, path: str) -> bool:
        """Whether a row of ``kind`` at ``path`` (or its absence) is remembered."""
        if (kind, path) in self._rows:
            return True
        other = COLL if kind == DATA else DATA
        return self._rows.get((other, path)) is not None

    def get(self, kind: str, path: str) -> Row | None:
        """The remembered row (``None``: absent, or not known: see ``known``)."""
        return self._rows.get((kind, path))

    def keep(self, kind: str, path: str, row: Row | None) -> None:
        self._rows[(kind, path)] = row

    def clear(self) -> None:
        self._rows.clear()


class HasRows(Protocol):
    rows: Rows


S = TypeVar("S", bound=HasRows)


def changing(fn: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A method that changes the zone: the remembered rows are forgotten after it
    (whether it succeeded or not)."""

    @functools.wraps(fn)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(self, *args, **kwargs)
        finally:
            self.rows.clear()

    return wrapper
