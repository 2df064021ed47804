"""Fixtures local to the conformance suite of the local iRODS zone (localgrid/irods).

The zone itself (`irods_zone`, module-scoped) and the `rods` session come from tests/conftest.py.
Everything here goes through python-irodsclient's public API; nothing touches the catalog file.
Because one zone serves a whole test module, every test makes its own uniquely named users and
collections, so tests stay independent of each other and of their order.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from irods.session import iRODSSession

from tests.helpers.prc_io import ZONE

RODS_HOME = f"/{ZONE}/home/rods"


@dataclass(frozen=True)
class ZoneUser:
    """A user made for one test, with the password it logs in with."""

    name: str
    password: str = field(repr=False)

    @property
    def home(self) -> str:
        return f"/{ZONE}/home/{self.name}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Returns a maker of names that no other test uses: unique("alice") -> "alice_1f3a9c0d2e"."""

    def make(prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:10]}"

    return make


@pytest.fixture
def scratch(rods: iRODSSession, unique: Callable[[str], str]) -> str:
    """The path of a fresh, empty collection under rods' home, for one test."""
    return rods.collections.create(f"{RODS_HOME}/{unique('t')}").path


@pytest.fixture
def sessions(irods_zone) -> Iterator[Callable[..., iRODSSession]]:
    """A factory of extra sessions on the zone (any user, any kwargs), cleaned up after the test."""
    opened: list[iRODSSession] = []

    def open_session(**kwargs) -> iRODSSession:
        session = irods_zone.session(**kwargs)
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.cleanup()


@pytest.fixture
def make_user(rods: iRODSSession, unique: Callable[[str], str]) -> Callable[..., ZoneUser]:
    """A factory of new users with a native password, made by rods through GENERAL_ADMIN."""

    def make(prefix: str = "user", user_type: str = "rodsuser") -> ZoneUser:
        user = ZoneUser(unique(prefix), f"pw-{uuid.uuid4().hex[:12]}")
        rods.users.create(user.name, user_type)
        rods.users.modify(user.name, "password", user.password)
        return user

    return make


@pytest.fixture
def alice(make_user: Callable[..., ZoneUser]) -> ZoneUser:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., ZoneUser]) -> ZoneUser:
    return make_user("bob")


@pytest.fixture
def login(sessions: Callable[..., iRODSSession]) -> Callable[[ZoneUser], iRODSSession]:
    """Opens a native-auth session as the given user."""

    def open_as(user: ZoneUser) -> iRODSSession:
        return sessions(user=user.name, password=user.password)

    return open_as


@pytest.fixture
def local_file(tmp_path: Path) -> Callable[[int, str], tuple[Path, str]]:
    """Writes `size` random bytes to a local file in pieces; returns (path, md5 hex)."""

    def write(size: int, name: str = "payload.bin") -> tuple[Path, str]:
        path = tmp_path / name
        digest = hashlib.md5()
        with path.open("wb") as out:
            left = size
            while left:
                block = os.urandom(min(left, 4 * 1024 * 1024))
                digest.update(block)
                out.write(block)
                left -= len(block)
        return path, digest.hexdigest()

    return write


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as src:
        for block in iter(lambda: src.read(4 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture
def md5_of() -> Callable[[Path], str]:
    """md5 hex of a local file, read in pieces."""
    return file_md5
