"""A small iRODS-protocol server (SQLite catalog, vault folder) for tests and the demo."""

from .zone import LocalZone

__all__ = ["LocalZone"]
