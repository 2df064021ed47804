"""Bad input on the wire: the zone refuses it (error reply or closed connection) and keeps serving.

Raw sockets speak the framing of the iRODS XML protocol: a 4-byte big-endian header length, a
<MsgHeader_PI> header, then msg, error and byte-stream parts of the lengths the header declares.
After each case a fresh PRC session must still work and the catalog must list what it did before.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import socket
import struct
import time
import uuid

import pytest
from irods.exception import SYS_UNMATCHED_API_NUM, NetworkException, iRODSException
from irods.message import iRODSMessage

from tests.helpers.prc_io import ZONE

HOME = f"/{ZONE}/home/rods"
CANARY = f"{HOME}/canary"
CANARY_NAMES = ["a.txt", "b.txt", "c.txt"]
REPLY_TIMEOUT = 10.0
UNKNOWN_API = 99999


# --- raw protocol helpers ---------------------------------------------------------------------


def _header(kind: str, msg_len: int = 0, err_len: int = 0, bs_len: int = 0, info: int = 0) -> bytes:
    xml = (
        f"<MsgHeader_PI><type>{kind}</type><msgLen>{msg_len}</msgLen><errorLen>{err_len}</errorLen>"
        f"<bsLen>{bs_len}</bsLen><intInfo>{info}</intInfo></MsgHeader_PI>"
    ).encode()
    return struct.pack(">I", len(xml)) + xml


def _frame(kind: str, msg: bytes = b"", bs: bytes = b"", info: int = 0) -> bytes:
    return _header(kind, len(msg), 0, len(bs), info) + msg + bs


def _startup_pack(user: str = "rods") -> bytes:
    return (
        f"<StartupPack_PI><irodsProt>1</irodsProt><connectCnt>0</connectCnt>"
        f"<proxyUser>{user}</proxyUser><proxyRcatZone>{ZONE}</proxyRcatZone>"
        f"<clientUser>{user}</clientUser><clientRcatZone>{ZONE}</clientRcatZone>"
        f"<relVersion>rods4.3.4</relVersion><apiVersion>d</apiVersion>"
        f"<option>bad-input-test</option></StartupPack_PI>"
    ).encode()


def _connect(zone) -> socket.socket:
    sock = socket.create_connection((zone.host, zone.port), timeout=REPLY_TIMEOUT)
    sock.settimeout(REPLY_TIMEOUT)
    return sock


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Exactly `size` bytes, or None if the peer closed (or reset) first."""
    data = bytearray()
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _read_message(sock: socket.socket) -> tuple[str, int, bytes] | None:
    """(type, intInfo, msg) of the next message, or None if the connection was closed."""
    prefix = _recv_exact(sock, 4)
    if prefix is None:
        return None
    header = _recv_exact(sock, struct.unpack(">I", prefix)[0])
    assert header is not None, "connection closed inside a reply header"
    fields = dict(re.findall(rb"<(\w+)>([^<]*)</\1>", header))
    lengths = [int(fields.get(k, b"0")) for k in (b"msgLen", b"errorLen", b"bsLen")]
    body = _recv_exact(sock, sum(lengths)) if sum(lengths) else b""
    assert body is not None, "connection closed inside a reply body"
    return fields[b"type"].decode().strip(), int(fields[b"intInfo"]), body[: lengths[0]]


def _outcome(sock: socket.socket) -> str | int:
    """ "closed", or the intInfo of the reply the server sent to what we sent."""
    try:
        message = _read_message(sock)
    except TimeoutError:
        pytest.fail(f"server neither replied nor closed within {REPLY_TIMEOUT}s")
    return "closed" if message is None else message[1]


def _assert_refused(sock: socket.socket) -> None:
    outcome = _outcome(sock)
    assert outcome == "closed" or outcome < 0, f"bad input was accepted: intInfo {outcome}"


def _send(sock: socket.socket, data: bytes) -> None:
    """Sends, tolerating a server that already hung up on us."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _start(sock: socket.socket, user: str = "rods") -> None:
    sock.sendall(_frame("RODS_CONNECT", _startup_pack(user)))
    message = _read_message(sock)
    assert message is not None and message[0] == "RODS_VERSION", message
    assert b"<relVersion>rods4.3" in message[2]


def _call_json(sock: socket.socket, api: int, payload: dict) -> tuple[int, dict | None]:
    text = json.dumps(payload).encode()
    body = (
        f"<BinBytesBuf_PI><buflen>{len(text)}</buflen>"
        f"<buf>{base64.b64encode(text).decode()}</buf></BinBytesBuf_PI>"
    ).encode()
    sock.sendall(_frame("RODS_API_REQ", body, info=api))
    message = _read_message(sock)
    assert message is not None, "connection closed during a JSON API call"
    found = re.search(rb"<buf>([^<]*)</buf>", message[2])
    reply = json.loads(base64.b64decode(found.group(1)).rstrip(b"\0")) if found else None
    return message[1], reply


def _login(sock: socket.socket, user: str = "rods", password: str = "rods") -> None:
    """Startup plus native authentication through the 4.3 API (110000), as PRC does it."""
    _start(sock, user)
    request = {
        "user_name": user,
        "zone_name": ZONE,
        "scheme": "native",
        "next_operation": "auth_agent_auth_request",
    }
    status, reply = _call_json(sock, 110000, request)
    assert status >= 0 and reply is not None
    challenge = reply["request_result"].encode()
    digest = hashlib.md5(challenge + password.encode().ljust(50, b"\0")).digest()
    reply.update(
        next_operation="auth_agent_auth_response",
        digest=base64.b64encode(digest.replace(b"\0", b"\1")).decode(),
    )
    status, _ = _call_json(sock, 110000, reply)
    assert status >= 0, f"raw login failed: {status}"


def _open_for_write(sock: socket.socket, path: str) -> int:
    body = (
        f"<DataObjInp_PI><objPath>{path}</objPath><createMode>0</createMode>"
        f"<openFlags>577</openFlags><offset>0</offset><dataSize>-1</dataSize>"
        f"<numThreads>0</numThreads><oprType>0</oprType>"
        f"<KeyValPair_PI><ssLen>0</ssLen></KeyValPair_PI></DataObjInp_PI>"
    ).encode()
    sock.sendall(_frame("RODS_API_REQ", body, info=602))
    message = _read_message(sock)
    assert message is not None and message[1] >= 0, message
    return message[1]


def _write_request(fd: int, length: int) -> bytes:
    return (
        f"<OpenedDataObjInp_PI><l1descInx>{fd}</l1descInx><len>{length}</len><whence>0</whence>"
        f"<oprType>0</oprType><offset>0</offset><bytesWritten>0</bytesWritten>"
        f"<KeyValPair_PI><ssLen>0</ssLen></KeyValPair_PI></OpenedDataObjInp_PI>"
    ).encode()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canary(irods_zone):
    """A collection whose listing must look the same after every bad input."""
    with irods_zone.session() as session:
        session.collections.create(CANARY)
        for name in CANARY_NAMES:
            with session.data_objects.open(f"{CANARY}/{name}", "w") as f:
                f.write(name.encode())
    return CANARY


@pytest.fixture
def serving(irods_zone, canary):
    """Call after the bad input: a new PRC session works and the catalog still lists the canary."""

    def check() -> None:
        with irods_zone.session() as session:
            coll = session.collections.get(canary)
            assert [o.name for o in coll.data_objects] == CANARY_NAMES
            path = f"{HOME}/alive-{uuid.uuid4().hex[:8]}"
            with session.data_objects.open(path, "w") as f:
                f.write(b"alive")
            with session.data_objects.open(path, "r") as f:
                assert f.read() == b"alive"
            session.data_objects.unlink(path, force=True)

    return check


# --- malformed frames -------------------------------------------------------------------------


def test_malformed_xml_header_is_refused(irods_zone, serving):
    broken = b"<MsgHeader_PI><type>RODS_CONNECT</type><msgLen>12</msg"
    with _connect(irods_zone) as sock:
        _send(sock, struct.pack(">I", len(broken)) + broken)
        _assert_refused(sock)
    serving()


def test_header_with_non_numeric_length_is_refused(irods_zone, serving):
    header = (
        b"<MsgHeader_PI><type>RODS_CONNECT</type><msgLen>lots</msgLen><errorLen>0</errorLen>"
        b"<bsLen>0</bsLen><intInfo>0</intInfo></MsgHeader_PI>"
    )
    with _connect(irods_zone) as sock:
        _send(sock, struct.pack(">I", len(header)) + header)
        _assert_refused(sock)
    serving()


def test_negative_length_in_header_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, _header("RODS_CONNECT", msg_len=-5))
        _assert_refused(sock)
    serving()


def test_huge_header_length_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, struct.pack(">I", 0x7FFFFFFF) + b"<MsgHeader_PI>")
        _assert_refused(sock)
    serving()


def test_huge_message_length_is_refused_without_waiting_for_the_body(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, _header("RODS_CONNECT", msg_len=2_000_000_000))
        _assert_refused(sock)
    serving()


def test_huge_message_length_then_close_leaves_zone_serving(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, _header("RODS_CONNECT", msg_len=2_000_000_000) + b"<StartupPack_PI>")
    serving()


def test_huge_byte_stream_length_after_login_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _login(sock)
        fd = _open_for_write(sock, f"{HOME}/huge-bs-{uuid.uuid4().hex[:8]}")
        request = _write_request(fd, 2_000_000_000)
        _send(sock, _header("RODS_API_REQ", len(request), 0, 2_000_000_000, 676) + request)
        _assert_refused(sock)
    serving()


def test_garbage_bytes_are_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, random.Random(1).randbytes(4096))
        _assert_refused(sock)
    serving()


def test_garbage_with_small_length_prefix_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, struct.pack(">I", 64) + random.Random(2).randbytes(64))
        _assert_refused(sock)
    serving()


def test_http_request_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        _assert_refused(sock)
    serving()


def test_startup_pack_with_native_protocol_is_refused(irods_zone, serving):
    pack = _startup_pack().replace(b"<irodsProt>1</irodsProt>", b"<irodsProt>0</irodsProt>")
    with _connect(irods_zone) as sock:
        _send(sock, _frame("RODS_CONNECT", pack))
        _assert_refused(sock)
    serving()


def test_startup_pack_that_is_not_xml_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, _frame("RODS_CONNECT", b"\x00\x01\x02 not a startup pack \xff\xfe"))
        _assert_refused(sock)
    serving()


def test_api_request_before_startup_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _send(sock, _frame("RODS_API_REQ", b"", info=702))
        _assert_refused(sock)
    serving()


# --- APIs the zone does not know, or may not serve yet ----------------------------------------


def test_unknown_api_number_before_login_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _start(sock)
        _send(sock, _frame("RODS_API_REQ", b"", info=UNKNOWN_API))
        _assert_refused(sock)
    serving()


def test_query_before_login_returns_no_data(irods_zone, serving):
    query = (
        b"<GenQueryInp_PI><maxRows>500</maxRows><continueInx>0</continueInx>"
        b"<partialStartIndex>0</partialStartIndex><options>0</options>"
        b"<KeyValPair_PI><ssLen>0</ssLen></KeyValPair_PI>"
        b"<InxIvalPair_PI><iiLen>1</iiLen><inx>501</inx><ivalue>1</ivalue></InxIvalPair_PI>"
        b"<InxValPair_PI><isLen>0</isLen></InxValPair_PI></GenQueryInp_PI>"
    )
    with _connect(irods_zone) as sock:
        _start(sock)
        _send(sock, _frame("RODS_API_REQ", query, info=702))
        _assert_refused(sock)
    serving()


def test_wrong_digest_in_raw_login_is_refused(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _start(sock)
        request = {
            "user_name": "rods",
            "zone_name": ZONE,
            "scheme": "native",
            "next_operation": "auth_agent_auth_request",
        }
        _, reply = _call_json(sock, 110000, request)
        assert reply is not None
        reply.update(next_operation="auth_agent_auth_response", digest="AAAAAAAAAAAAAAAAAAAAAA==")
        status, _ = _call_json(sock, 110000, reply)
        assert status == -826000  # CAT_INVALID_AUTHENTICATION
    serving()


def test_unknown_api_number_after_login_answers_unmatched_api_num(rods, serving):
    conn = rods.pool.get_connection()
    try:
        conn.send(iRODSMessage("RODS_API_REQ", int_info=UNKNOWN_API))
        with pytest.raises(SYS_UNMATCHED_API_NUM):
            conn.recv()
    finally:
        conn.release()
    # The same pooled, authenticated connection goes on serving.
    assert rods.collections.get(HOME).path == HOME
    serving()


def test_unknown_api_number_after_raw_login_keeps_connection(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _login(sock)
        sock.sendall(_frame("RODS_API_REQ", b"", info=UNKNOWN_API))
        assert _outcome(sock) == -12000  # SYS_UNMATCHED_API_NUM
        _open_for_write(sock, f"{HOME}/after-unknown-{uuid.uuid4().hex[:8]}")
    serving()


# --- clients that vanish ----------------------------------------------------------------------


def test_client_vanishing_inside_length_prefix(irods_zone, serving):
    with _connect(irods_zone) as sock:
        sock.sendall(b"\x00\x00")
    serving()


def test_client_vanishing_inside_header(irods_zone, serving):
    with _connect(irods_zone) as sock:
        sock.sendall(_header("RODS_CONNECT", msg_len=100)[:40])
    serving()


def test_client_vanishing_inside_startup_pack(irods_zone, serving):
    pack = _startup_pack()
    with _connect(irods_zone) as sock:
        sock.sendall(_header("RODS_CONNECT", msg_len=len(pack)) + pack[:50])
    serving()


def test_client_vanishing_after_login_without_disconnect(irods_zone, serving):
    with _connect(irods_zone) as sock:
        _login(sock)
    serving()


def test_client_vanishing_mid_write_leaves_object_usable(irods_zone, rods, serving):
    path = f"{HOME}/vanished-{uuid.uuid4().hex[:8]}"
    with _connect(irods_zone) as sock:
        _login(sock)
        fd = _open_for_write(sock, path)
        request = _write_request(fd, 1024 * 1024)
        sock.sendall(_header("RODS_API_REQ", len(request), 0, 1024 * 1024, 676) + request)
        sock.sendall(b"x" * 1000)  # then hang up with the rest of the megabyte unsent

    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:  # the server notices the hang-up asynchronously
        try:
            with rods.data_objects.open(path, "w") as f:
                f.write(b"second writer")
            break
        except (iRODSException, NetworkException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with rods.data_objects.open(path, "r") as f:
        assert f.read() == b"second writer"
    assert rods.data_objects.get(path).size == len(b"second writer")
    rods.data_objects.unlink(path, force=True)
    assert not rods.data_objects.exists(path)
    serving()


def test_client_vanishing_with_open_object_leaves_object_usable(irods_zone, rods, serving):
    path = f"{HOME}/abandoned-{uuid.uuid4().hex[:8]}"
    with _connect(irods_zone) as sock:
        _login(sock)
        fd = _open_for_write(sock, path)
        request = _write_request(fd, 5)
        sock.sendall(_frame("RODS_API_REQ", request, bs=b"hello", info=676))
        assert _outcome(sock) == 5

    assert rods.data_objects.exists(path)
    with rods.data_objects.open(path, "w") as f:
        f.write(b"replaced")
    with rods.data_objects.open(path, "r") as f:
        assert f.read() == b"replaced"
    serving()


# --- clients that stay but say nothing -------------------------------------------------------


def test_idle_connections_do_not_block_other_clients(irods_zone, serving):
    idle = [_connect(irods_zone) for _ in range(30)]
    half_sent = _connect(irods_zone)
    try:
        half_sent.sendall(_header("RODS_CONNECT", msg_len=500)[:20])
        started = time.monotonic()
        serving()
        assert time.monotonic() - started < REPLY_TIMEOUT
    finally:
        for sock in [*idle, half_sent]:
            sock.close()
    serving()


def test_many_connect_and_close_cycles(irods_zone, serving):
    for _ in range(100):
        socket.create_connection((irods_zone.host, irods_zone.port), timeout=5).close()
    serving()
