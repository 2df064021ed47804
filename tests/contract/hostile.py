"""A corpus of hostile requests every share must survive, sent on raw sockets.

Subclass ``HostileSuite`` (one line) beside ``DavVerbSuite``; it uses the same
``dav_target``. Each case is bytes a client could send: malformed framing, paths that
climb, broken headers, XML attacks, oversized properties. For every case the gateway
must answer within ``DEADLINE`` with the expected status (4xx; a 5xx only where an RFC
asks for one), put no internals or secrets in the answer, and lose nothing: the canary
keeps its content, and nothing the request tried to create appears.
"""

from __future__ import annotations

import base64
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.contract.dav_verbs import DavTarget

DEADLINE = 10.0
CANARY = b"the canary must survive every case\n"
LOCKINFO = (
    '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
    "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>{owner}</D:owner></D:lockinfo>"
)
XXE = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
LEAKS = (b"Traceback", b"Source exception", b'File "/', b"Error(", b"WsgiDAV")


@dataclass(frozen=True)
class Case:
    """``head`` (with ``{base}``, ``{auth}``, ``{host}``) and an optional body; the
    statuses that may answer it; ``absent``: names under base it must not create."""

    name: str
    head: str
    body: bytes = b""
    statuses: frozenset[int] = frozenset({400})
    absent: tuple[str, ...] = ()
    auth: bool = True
    after: Callable[[DavTarget], None] | None = field(default=None, compare=False)


def request(method: str, path: str, *headers: str, auth: bool = True) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: {host}"]
    if auth:
        lines.append("Authorization: {auth}")
    return "\r\n".join([*lines, *headers]) + "\r\n\r\n"


def xml_case(name: str, method: str, body: str, statuses: set[int], *extra: str) -> Case:
    data = body.encode()
    head = request(method, "{base}canary.txt", f"Content-Length: {len(data)}", *extra)
    return Case(name, head, data, frozenset(statuses))


def proppatch(props: str, namespaces: str = 'xmlns:x="urn:x"') -> str:
    return (
        f'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" {namespaces}>'
        f"<D:set><D:prop>{props}</D:prop></D:set></D:propertyupdate>"
    )


def _framing_cases() -> list[Case]:
    put = "PUT {base}canary.txt HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n"
    chunked = put + "Transfer-Encoding: chunked\r\n\r\n"
    smuggled = (
        "0\r\n\r\nMKCOL {base}smuggled HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n"
    )
    return [
        Case(
            "content-length-minus-one-anonymous",
            request("PUT", "{base}x", "Content-Length: -1", auth=False),
            b"abc",
            absent=("x",),
        ),  # noqa: E501
        Case(
            "content-length-minus-one",
            request("PUT", "{base}canary.txt", "Content-Length: -1"),
            b"abc",
        ),  # noqa: E501
        Case(
            "content-length-minus-five",
            request("PUT", "{base}canary.txt", "Content-Length: -5"),
            b"abc",
        ),  # noqa: E501
        Case("content-length-words", request("PUT", "{base}canary.txt", "Content-Length: abc")),
        Case(
            "content-length-plus", request("PUT", "{base}canary.txt", "Content-Length: +3"), b"abc"
        ),  # noqa: E501
        Case(
            "content-length-two-values",
            request("PUT", "{base}canary.txt", "Content-Length: 3, 3"),
            b"abc",
        ),  # noqa: E501
        Case(
            "content-length-twice",
            request("PUT", "{base}canary.txt", "Content-Length: 3", "Content-Length: 3"),
            b"abc",
        ),  # noqa: E501
        Case(
            "length-and-chunked-smuggling",
            put + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            smuggled.encode(),
            absent=("smuggled",),
        ),  # noqa: E501
        Case(
            "transfer-encoding-space-before-colon",
            put + "Transfer-Encoding : chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
        ),  # noqa: E501
        Case(
            "transfer-encoding-gzip",
            put + "Transfer-Encoding: gzip, chunked\r\n\r\n",
            b"0\r\n\r\n",
            frozenset({400, 501}),
        ),  # noqa: E501
        Case("chunk-size-hex-prefix", chunked, b"0x3\r\nabc\r\n0\r\n\r\n"),
        Case("chunk-size-underscore", chunked, b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n"),
        Case("chunk-size-plus", chunked, b"+3\r\nabc\r\n0\r\n\r\n"),
        Case("chunk-size-negative", chunked, b"-3\r\nabc\r\n0\r\n\r\n"),
        Case("chunk-without-terminator", chunked, b"3\r\nabcXY0\r\n\r\n"),
        Case("host-missing", "GET {base}canary.txt HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n"),
        Case("host-twice", request("GET", "{base}canary.txt", "Host: other")),
        Case("header-folded", request("GET", "{base}canary.txt", "X-A: 1", " folded")),
        Case("header-name-with-space", request("GET", "{base}canary.txt", "X A: 1")),
        Case(
            "header-line-of-200k",
            request("GET", "{base}canary.txt", "X-A: " + "a" * 200_000),
            statuses=frozenset({400, 413, 431}),
        ),  # noqa: E501
    ]


def _path_cases() -> list[Case]:
    cases = [
        Case("path-root-dot-dot", request("GET", "/../x")),
        Case("path-climbs-out-of-share", request("GET", "{base}../../../../etc/passwd")),
        Case("path-climbs-encoded", request("PROPFIND", "{base}%2e%2e/%2e%2e/", "Depth: 1")),
        Case("path-invalid-utf8", request("GET", "{base}%ff%fe")),
        Case("path-invalid-utf8-put", request("PUT", "{base}%ff.txt", "Content-Length: 1"), b"x"),
        Case("path-overlong-utf8-dot", request("GET", "{base}%c0%ae%c0%ae/canary.txt")),
        Case("path-nul", request("PUT", "{base}a%00b", "Content-Length: 1"), b"x", absent=("a",)),
        Case("path-control-character", request("PUT", "{base}a%01b", "Content-Length: 1"), b"x"),
        Case("path-delete-character", request("PUT", "{base}a%7fb", "Content-Length: 1"), b"x"),
        Case(
            "path-of-64k",
            request("GET", "{base}" + "a" * 65_000),
            statuses=frozenset({400, 413, 414}),
        ),  # noqa: E501
    ]
    for name, value in [
        ("garbage", "["), ("empty", ""), ("bad-percent", "http://{host}{base}%zz"),
        ("bad-port", "http://{host}:99999{base}x"), ("relative", "x"), ("no-path", "http://{host}"),
        ("climbing", "http://{host}{base}../../x"), ("nul", "http://{host}{base}a%00b"),
    ]:  # fmt: skip
        head = request("COPY", "{base}canary.txt", f"Destination: {value}")
        cases.append(Case(f"destination-{name}", head))
    return cases


def _condition_cases() -> list[Case]:
    put = ("PUT", "{base}canary.txt")
    return [
        Case("if-garbage", request(*put, "If: garbage", "Content-Length: 1"), b"x"),
        Case("if-unclosed-list", request(*put, "If: (<urn:x>", "Content-Length: 1"), b"x"),
        Case("if-empty-list", request(*put, "If: ()", "Content-Length: 1"), b"x"),
        Case(
            "if-tagged-to-another-host",
            request(
                "DELETE",
                "{base}canary.txt",
                "If: <http://elsewhere.example{base}canary.txt> (<opaquelocktoken:x>)",
            ),
            statuses=frozenset({412}),
        ),  # noqa: E501
        Case("depth-seven", request("PROPFIND", "{base}", "Depth: 7"), statuses=frozenset({400})),
        Case(
            "overwrite-maybe",
            request("COPY", "{base}canary.txt", "Destination: {base}copy.txt", "Overwrite: maybe"),
            absent=("copy.txt",),
        ),  # noqa: E501
        Case(
            "range-garbage",
            request("GET", "{base}canary.txt", "Range: bytes=abc"),
            statuses=frozenset({200, 416}),
        ),  # noqa: E501
        Case("unknown-method", request("BREW", "{base}canary.txt"), statuses=frozenset({405, 501})),  # noqa: E501
        Case(
            "password-of-10k",
            request("GET", "{base}canary.txt", auth=False).replace(
                "\r\n\r\n",
                "\r\nAuthorization: Basic "
                + base64.b64encode(b"alice:" + b"p" * 10_000).decode()
                + "\r\n\r\n",
            ),
            statuses=frozenset({401}),
        ),  # noqa: E501
        Case(
            "basic-not-base64",
            request("GET", "{base}canary.txt", auth=False).replace(
                "\r\n\r\n", "\r\nAuthorization: Basic !!!\r\n\r\n"
            ),
            statuses=frozenset({401}),
        ),  # noqa: E501
    ]


def _xml_cases() -> list[Case]:
    big = proppatch("<x:big>" + "a" * 200_000 + "</x:big><x:small>1</x:small>")
    many = proppatch("".join(f"<x:p{i}>{'v' * 20}</x:p{i}>" for i in range(1_100)))
    return [
        xml_case("lock-external-entity", "LOCK", XXE + LOCKINFO.format(owner="&e;"), {400}),
        xml_case(
            "propfind-with-dtd",
            "PROPFIND",
            XXE + '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
            {400},
            "Depth: 0",
        ),  # noqa: E501
        xml_case("propfind-not-xml", "PROPFIND", "<D:propfind", {400}, "Depth: 0"),
        xml_case("proppatch-value-of-200k", "PROPPATCH", big, {207}),
        xml_case("proppatch-1100-properties", "PROPPATCH", many, {207}),
        xml_case(
            "proppatch-control-namespace",
            "PROPPATCH",
            proppatch('<y:a xmlns:y="urn:&#1;">1</y:a>'),
            {207, 400},
        ),  # noqa: E501
        xml_case(
            "proppatch-long-namespace",
            "PROPPATCH",
            proppatch(f'<y:a xmlns:y="urn:{"n" * 5000}">1</y:a>'),
            {207},
        ),  # noqa: E501
        xml_case(
            "proppatch-brace-namespace",
            "PROPPATCH",
            proppatch('<y:a xmlns:y="urn:{x}">1</y:a>'),
            {207, 400},
        ),  # noqa: E501
        Case(
            "xml-body-over-limit",
            request("PROPFIND", "{base}", "Depth: 0", f"Content-Length: {(1 << 20) + 1}"),
            statuses=frozenset({413}),
        ),  # noqa: E501
    ]


CASES = _framing_cases() + _path_cases() + _condition_cases() + _xml_cases()


def exchange(target: DavTarget, case: Case) -> tuple[int, bytes, float]:
    """Send ``case``; the status and body of the answer, and the seconds it took."""
    gw = target.client
    values = {"base": target.base, "auth": target.auth, "host": f"{gw.host}:{gw.port}"}
    head = case.head
    for key, value in values.items():
        head = head.replace("{" + key + "}", value)
    started = time.monotonic()
    with socket.create_connection((gw.host, gw.port), timeout=DEADLINE) as sock:
        try:
            sock.sendall(head.encode("latin-1") + case.body)
        except OSError:
            pass  # the gateway may close before a huge request is all sent
        status, body = read_answer(sock, started + DEADLINE)
    return status, body, time.monotonic() - started


def read_answer(sock: socket.socket, deadline: float) -> tuple[int, bytes]:
    """One response: status and body (by Content-Length, else until close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = _recv(sock, deadline)
        if not piece:
            raise AssertionError(f"connection closed without an answer: {data[:200]!r}")
        data += piece
    head, body = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    want = int(match.group(1)) if match else None
    while want is None or len(body) < want:
        piece = _recv(sock, deadline)
        if not piece:
            assert want is None, f"answer announced {want} bytes, sent {len(body)}"
            break
        body += piece
    return status, body


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    assert remaining > 0, "no complete answer within the deadline"
    sock.settimeout(remaining)
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


class HostileSuite:
    """The corpus against one share (``dav_target`` as for ``DavVerbSuite``)."""

    @pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
    def test_hostile_request_is_refused_and_loses_nothing(self, dav_target, case):
        dav_target.seed("canary.txt", CANARY)
        status, body, seconds = exchange(dav_target, case)
        assert status in case.statuses, (status, body[:300])
        assert seconds < DEADLINE
        user, password = dav_target.client.user
        secrets = (password.encode(),) if password != user else ()  # the demo's alice/alice
        for leak in (*LEAKS, *secrets):
            assert leak not in body, leak
        assert dav_target.stored("canary.txt") == CANARY
        for name in case.absent:
            assert dav_target.stored(name) is None, name
        # the share still answers, and the target was left unlocked
        assert dav_target.client.put(dav_target.base + "canary.txt", CANARY).status == 204

    def test_lock_timeout_infinite_is_capped(self, dav_target):
        dav_target.seed("locked.txt", b"x")
        body = LOCKINFO.format(owner="me").encode()
        reply = dav_target.client.request(
            "LOCK", dav_target.base + "locked.txt", body, headers={"Timeout": "Infinite"}
        )
        assert reply.status == 200
        granted = int(re.search(rb"Second-(\d+)", reply.body).group(1))  # type: ignore[union-attr]
        assert 0 < granted <= 3600
        token = reply.header("Lock-Token")
        unlock = {"Lock-Token": token or ""}
        assert (
            dav_target.client.request(
                "UNLOCK", dav_target.base + "locked.txt", headers=unlock
            ).status
            == 204
        )  # noqa: E501

    def test_proppatch_over_bounds_stores_nothing(self, dav_target):
        dav_target.seed("props.txt", b"x")
        big = proppatch("<x:small>1</x:small><x:big>" + "a" * 200_000 + "</x:big>").encode()
        reply = dav_target.client.request("PROPPATCH", dav_target.base + "props.txt", big)
        assert reply.status == 207
        assert b"507" in reply.body and b"424" in reply.body
        find = (
            b'<D:propfind xmlns:D="DAV:"><D:prop><x:small xmlns:x="urn:x"/></D:prop></D:propfind>'  # noqa: E501
        )
        listed = dav_target.client.request(
            "PROPFIND", dav_target.base + "props.txt", find, headers={"Depth": "0"}
        )
        assert b"404" in listed.body  # the small one was not stored either
