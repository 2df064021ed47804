"""``auth: {chain: [ticket, basic]}``: iRODS tickets given as ``?ticket=ID`` (Davrods' way).

Anyone holding a ticket string may use it, without logging in: the request acts as the
configured ticket account (``ticket.user``, iRODS' ``anonymous`` by default) with the
ticket supplied on its session, so the zone decides everything: the ticket's object or
collection, read or write, its uses, byte and file limits, expiry, and its allowed
users, groups and hosts. An invalid, spent or expired ticket is the zone's refusal (403).
No ticket in the query: ``None`` (the next authenticator tries). The ticket string
never reaches a log line (the access log writes paths without their query).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from wsgidav.dav_error import HTTP_BAD_REQUEST, DAVError

from davprovider.backend import Identity
from davprovider.schema import ConfigError
from davprovider.settings import Settings, shares_using

if TYPE_CHECKING:
    from auth.controller import ShareAccess

log = logging.getLogger("auth.ticket")

_TICKET = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Options:
    """``ticket:``: the iRODS account a ticket request acts as (it must exist in the
    zone; real iRODS accepts any password for ``anonymous``)."""

    user: str = "anonymous"
    password: str = field(default="", repr=False)


def check_settings(settings: Settings) -> None:
    """Tickets are iRODS'; a share of another backend cannot take them."""
    for index, share in shares_using(settings, "ticket"):
        if share.backend != "irods":
            problem = "the ticket authenticator serves iRODS shares only"
            raise ConfigError(settings.source, f"shares[{index}].auth", problem)


def ticket_of(environ: dict[str, Any]) -> str | None:
    """The ``ticket`` query parameter; ``DAVError`` 400 for a malformed one."""
    values = parse_qs(environ.get("QUERY_STRING", "")).get("ticket")
    if not values:
        return None
    if len(values) > 1 or not _TICKET.fullmatch(values[0]):
        raise DAVError(HTTP_BAD_REQUEST, "malformed ticket")
    return values[0]


class Authenticator:
    """``?ticket=ID`` -> ``Identity(ticket.user, "ticket", ticket=ID)``."""

    name = "ticket"
    challenges = False

    def __init__(self, settings: Settings) -> None:
        self.options: Options = settings.ticket

    def authenticate(self, environ: dict[str, Any], share: ShareAccess) -> Identity | None:
        ticket = ticket_of(environ)
        if ticket is None:
            return None
        user, password = self.options.user, self.options.password
        return Identity(user=user, method="ticket", password=password, ticket=ticket)
