"""iRODS tickets through the gateway (``?ticket=ID``, Davrods' convention), served by the
zone: a ticket made with python-irodsclient opens its object without a login, a read
ticket cannot write, its limits are the zone's, and the ticket never reaches the log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from irods.exception import UserDoesNotExist
from irods.ticket import Ticket

from tests.helpers.irods_gateway import (
    GatewayProcess,
    gateway_config,
    read_object,
    start_gateway,
    write_object,
)


@pytest.fixture(scope="module")
def ticket_gateway(
    seeded_zone: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:  # noqa: E501
    with seeded_zone.session() as rods:
        try:
            rods.users.get("anonymous")
        except UserDoesNotExist:
            rods.users.create("anonymous", "rodsuser")
    config = gateway_config(seeded_zone.port)
    config["auth"] = {"chain": ["ticket", "basic"]}
    running = start_gateway(config, tmp_path_factory.mktemp("ticket-gateway"))
    try:
        yield running
    finally:
        running.stop()


def make_ticket(session: Any, kind: str, path: str, uses: int = 0) -> str:
    ticket = Ticket(session)
    ticket.issue(kind, path)
    if uses:
        ticket.modify("uses", str(uses))
    return ticket.string


def test_read_ticket_opens_its_object_without_login(ticket_gateway, alice_prc, workdir, irods_path):  # noqa: E501
    gw = ticket_gateway.client
    path = workdir + "shared.txt"
    write_object(alice_prc, irods_path(path), b"for the ticket holder")
    ticket = make_ticket(alice_prc, "read", irods_path(path))
    reply = gw.request("GET", f"{path}?ticket={ticket}", user=None)
    assert reply.status == 200
    assert reply.body == b"for the ticket holder"
    assert gw.request("GET", path, user=None).status == 401  # no ticket, no login
    assert ticket not in ticket_gateway.log()


def test_read_ticket_cannot_write(ticket_gateway, alice_prc, workdir, irods_path, rods):
    gw = ticket_gateway.client
    path = workdir + "readonly.txt"
    write_object(alice_prc, irods_path(path), b"old")
    ticket = make_ticket(alice_prc, "read", irods_path(path))
    reply = gw.request("PUT", f"{path}?ticket={ticket}", b"new", user=None)
    assert reply.status in (403, 409), reply.status
    assert read_object(rods, irods_path(path)) == b"old"


def test_a_ticket_of_one_use_is_spent_by_the_zone(ticket_gateway, alice_prc, workdir, irods_path):
    gw = ticket_gateway.client
    path = workdir + "once.txt"
    write_object(alice_prc, irods_path(path), b"once")
    ticket = make_ticket(alice_prc, "read", irods_path(path), uses=1)
    first = gw.request("GET", f"{path}?ticket={ticket}", user=None)
    assert first.status == 200
    statuses = {gw.request("GET", f"{path}?ticket={ticket}", user=None).status for _ in range(3)}
    assert statuses <= {403, 404}, statuses


def test_an_unknown_or_malformed_ticket_is_refused(ticket_gateway, workdir):
    gw = ticket_gateway.client
    assert gw.request("GET", f"{workdir}x?ticket=nosuchticket", user=None).status in (403, 404)
    assert gw.request("GET", f"{workdir}x?ticket=bad%20ticket", user=None).status == 400
