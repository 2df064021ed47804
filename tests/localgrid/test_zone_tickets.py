"""Tickets: issued by an owner, supplied by another user, every limit enforced by the zone."""

from __future__ import annotations

import time

import pytest
from irods.exception import (
    CAT_NO_ACCESS_PERMISSION,
    CAT_TICKET_EXPIRED,
    CAT_TICKET_INVALID,
    CAT_TICKET_USES_EXCEEDED,
    CollectionDoesNotExist,
    DataObjectDoesNotExist,
)
from irods.models import TicketQuery
from irods.ticket import Ticket


@pytest.fixture
def shared(alice, login):
    """alice's object "shared.txt" (content b"secret") and her session."""
    session = login(alice)
    path = f"{alice.home}/shared.txt"
    with session.data_objects.open(path, "w") as f:
        f.write(b"secret")
    return session, path


def _read(session, path: str) -> bytes:
    with session.data_objects.open(path, "r") as f:
        return f.read()


def test_read_ticket_lets_another_user_read(shared, bob, login):
    owner, path = shared
    ticket = Ticket(owner).issue("read", path)
    reader = login(bob)

    Ticket(reader, ticket.string).supply()

    assert _read(reader, path) == b"secret"


def test_without_ticket_the_object_is_invisible(shared, bob, login):
    _, path = shared

    with pytest.raises((DataObjectDoesNotExist, CollectionDoesNotExist)):
        login(bob).data_objects.get(path)


def test_read_ticket_does_not_allow_writing(shared, bob, login):
    owner, path = shared
    ticket = Ticket(owner).issue("read", path)
    writer = login(bob)
    Ticket(writer, ticket.string).supply()

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        writer.data_objects.open(path, "w")


def test_write_ticket_on_collection_allows_writing_inside(shared, bob, login, alice):
    owner, path = shared
    ticket = Ticket(owner).issue("write", alice.home)
    writer = login(bob)
    Ticket(writer, ticket.string).supply()

    with writer.data_objects.open(path, "w") as f:
        f.write(b"changed")

    assert _read(owner, path) == b"changed"


def test_uses_limit_is_enforced(shared, bob, login):
    owner, path = shared
    ticket = Ticket(owner).issue("read", path)
    ticket.modify("uses", "1")
    reader = login(bob)
    Ticket(reader, ticket.string).supply()
    _read(reader, path)

    with pytest.raises(CAT_TICKET_USES_EXCEEDED):
        _read(reader, path)


def test_expired_ticket_is_refused(shared, bob, login):
    owner, path = shared
    ticket = Ticket(owner).issue("read", path)
    ticket.modify("expire", str(int(time.time()) - 10))

    with pytest.raises(CAT_TICKET_EXPIRED):
        reader = login(bob)
        Ticket(reader, ticket.string).supply()
        _read(reader, path)


def test_write_byte_limit_is_enforced(shared, bob, login):
    owner, path = shared
    ticket = Ticket(owner).issue("write", path)
    ticket.modify("write-byte", "4")
    writer = login(bob)
    Ticket(writer, ticket.string).supply()

    with pytest.raises(CAT_TICKET_USES_EXCEEDED), writer.data_objects.open(path, "w") as f:
        f.write(b"too many bytes")
        f.flush()


def test_ticket_for_other_users_only_excludes_this_one(shared, bob, login, make_user):
    owner, path = shared
    carol = make_user("carol")
    ticket = Ticket(owner).issue("read", path)
    ticket.modify("add", "user", carol.name)
    reader = login(bob)
    Ticket(reader, ticket.string).supply()

    with pytest.raises(CAT_NO_ACCESS_PERMISSION):
        _read(reader, path)


def test_unknown_ticket_is_invalid(bob, login, alice):
    session = login(bob)
    Ticket(session, "no-such-ticket").supply()

    with pytest.raises(CAT_TICKET_INVALID):
        session.collections.get(alice.home)


def test_ticket_columns_answer_genquery(shared):
    owner, path = shared
    ticket = Ticket(owner).issue("write", path)
    ticket.modify("write-file", "3")

    row = (
        owner.query(TicketQuery.Ticket, TicketQuery.DataObject)
        .filter(TicketQuery.Ticket.string == ticket.string)
        .one()
    )

    assert row[TicketQuery.Ticket.type] == "write"
    assert row[TicketQuery.Ticket.write_file_limit] == 3
    assert row[TicketQuery.DataObject.name] == "shared.txt"
