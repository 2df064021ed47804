"""One record per request, for the access log (text or JSON lines) and the metrics.

``request_id(environ)``: the client's ``X-Request-ID`` when it is sane (1 to 128 of
``A-Za-z0-9._:-``; a balancer's id carries through), else a new random one; the access
log echoes it in the response. ``Record`` holds what the access log reports: never the
``Authorization`` header, and the path without its query (``?ticket=``, ``?authz=``
carry secrets). ``login_outcome`` reads the authentication decision from a record.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import random
import re
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from auth.controller import ENVIRON_KEY
from davprovider.settings import LoggingSettings

ID_KEY = "davprovider.request_id"
HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(environ: dict[str, Any]) -> str:
    """The request's id: the client's when sane, else a new one; kept in the environ."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    # a log's correlation id, not a secret: the process's PRNG (no system call) will do
    chosen = given if _SANE_ID.fullmatch(given) else f"{random.getrandbits(64):016x}"
    environ[ID_KEY] = chosen
    return chosen


@dataclass
class Record:
    """What one request did (times in milliseconds)."""

    time: str
    id: str
    client: str
    method: str
    path: str
    status: str
    user: str | None
    auth: str | None
    dn: str | None
    bytes_in: int
    bytes_out: int
    duration_ms: float
    backend_ms: float
    fqan: str | None  # the primary VOMS FQAN of a certificate login, if any
    credentials: str | None  # the Authorization scheme sent (``basic``...), not its value


def credentials_scheme(environ: dict[str, Any]) -> str | None:
    """The lower-cased scheme of the request's ``Authorization`` header, if any."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme = header.split(" ", 1)[0].lower()
    return scheme if scheme.isalpha() and len(scheme) <= 16 else ("other" if header else None)


def make_record(
    environ: dict[str, Any],
    start: tuple[float, str, str, str | None],
    status: str,
    sizes: tuple[int, int],
    backend_seconds: float,
) -> Record:
    """The record of a finished request; ``start`` is (monotonic start, method,
    request URI, credentials scheme) as seen when it began."""
    started, method, uri, scheme = start
    identity = environ.get(ENVIRON_KEY)
    return Record(
        time=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        id=environ.get(ID_KEY, "-"),
        client=environ.get("REMOTE_ADDR", "-"),
        method=method,
        path=uri.split("?", 1)[0],
        status=status,
        user=getattr(identity, "user", None) or environ.get("wsgidav.auth.user_name") or None,
        auth=getattr(identity, "method", None),
        dn=getattr(identity, "dn", None),
        bytes_in=sizes[0],
        bytes_out=sizes[1],
        duration_ms=round((time.monotonic() - started) * 1000, 3),
        backend_ms=round(backend_seconds * 1000, 3),
        fqan=next(iter(getattr(identity, "fqans", None) or ()), None),
        credentials=scheme,
    )


def login_outcome(record: Record) -> tuple[str, str] | None:
    """(method, result) of the request's authentication, or None when none was asked
    for (a page needing no login)."""
    if record.auth is not None:
        return record.auth, "accepted"
    if record.status == "401":
        return (record.credentials, "rejected") if record.credentials else ("none", "challenged")
    if record.status == "429" and record.credentials:
        return record.credentials, "limited"
    if record.status == "403" and record.credentials:
        return record.credentials, "refused"
    return None


def text_line(record: Record) -> str:
    return (
        f'{record.client} {record.user or "-"} "{record.method} {record.path}" '
        f"{record.status} in={record.bytes_in} out={record.bytes_out} "
        f"{record.duration_ms:.1f}ms id={record.id}"
        + (f" fqan={record.fqan}" if record.fqan else "")
    )


def json_line(record: Record) -> str:
    fields = asdict(record)
    del fields["credentials"]
    return json.dumps(fields, separators=(",", ":"))


def setup_access_log(settings: LoggingSettings) -> logging.Logger:
    """The access logger: through the root handlers as text; as bare JSON lines on a
    handler of its own (``access_file``, or stderr) with ``access_format: json``."""
    logger = logging.getLogger("davprovider.access")
    for old in [h for h in logger.handlers if getattr(h, "davprovider_access", False)]:
        logger.removeHandler(old)
        old.close()
    logger.propagate = settings.access_format == "text" and not settings.access_file
    if logger.propagate:
        return logger
    handler: logging.Handler
    if settings.access_file:
        # reopened when logrotate moves it away; every worker appends whole lines
        handler = logging.handlers.WatchedFileHandler(settings.access_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    setattr(handler, "davprovider_access", True)  # noqa: B010 - our mark on the handler
    pattern = "%(message)s" if settings.access_format == "json" else "%(asctime)s %(message)s"
    handler.setFormatter(logging.Formatter(pattern))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger
