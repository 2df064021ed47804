"""The iRODS session pool under a client's first requests in parallel: logins of one
identity that race keep the session requests already hold, and a retired session is
never shut under a request that still holds it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from davprovider.backend import Identity
from davprovider.irods import IrodsFactory, Options, create_factory
from localgrid.irods import LocalZone

ALICE_ID = Identity(user="alice", method="basic", password="alice")
RENEWED = "replacing the iRODS session"
ROUNDS = 6
RACERS = 12


@pytest.fixture
def factory(seeded_zone: LocalZone) -> Iterator[IrodsFactory]:
    made = create_factory(Options(port=seeded_zone.port, root="home"))
    yield made
    made.close()


def _logged_in(factory: IrodsFactory) -> object:
    """A second session of alice that has logged in, as a racing login makes one."""
    session = factory.pool.new_session(ALICE_ID)
    with session.pool.get_connection():
        pass
    return session


def test_a_racing_login_keeps_the_session_a_request_holds(
    factory: IrodsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    assert factory.login("alice", "alice")
    held = factory(ALICE_ID)  # a request on the first login's session
    connection = next(iter(held.session.pool.idle))

    factory.pool.put(ALICE_ID, _logged_in(factory))  # the second login, just behind

    assert factory(ALICE_ID).session is held.session
    assert connection in held.session.pool.idle and connection.socket is not None
    with caplog.at_level(logging.INFO, "davprovider.irods"):
        assert held.stat("/alice").is_dir
    assert RENEWED not in caplog.text


def test_a_retired_session_still_serves_the_request_that_holds_it(
    factory: IrodsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    assert factory.login("alice", "alice")
    held = factory(ALICE_ID)
    idle = next(iter(held.session.pool.idle))
    factory.pool.pooled()[0].last_used -= factory.options.pool_ttl + 1  # expired meanwhile

    factory.pool.put(ALICE_ID, _logged_in(factory))  # replaces it, and retires the old one

    assert factory(ALICE_ID).session is not held.session
    assert idle.socket is None and not held.session.pool.idle  # its idle ones closed
    with caplog.at_level(logging.INFO, "davprovider.irods"):
        assert held.stat("/alice").is_dir  # on a new connection, not a shut one
    assert RENEWED not in caplog.text


def test_twelve_first_requests_at_once_never_lose_a_connection(
    factory: IrodsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[BaseException] = []

    def first_request(start: threading.Barrier) -> None:
        try:
            start.wait(timeout=20)
            assert factory.login("alice", "alice")
            for _ in range(3):
                assert factory(ALICE_ID).stat("/alice").is_dir
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    with caplog.at_level(logging.INFO, "davprovider.irods"):
        for _ in range(ROUNDS):
            factory.pool.close()  # no session pooled: every racer logs in
            start = threading.Barrier(RACERS)
            threads = [threading.Thread(target=first_request, args=(start,)) for _ in range(RACERS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    assert not failures, failures
    assert RENEWED not in caplog.text
