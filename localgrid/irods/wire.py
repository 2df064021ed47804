"""iRODS message framing and the XML flavour of the packing instructions.

A message is a 4-byte big-endian header length, a ``MsgHeader_PI`` XML header, then
the message body, the error body and the raw byte stream, back to back. Bodies from
python-irodsclient are parsed with a tolerant tag scanner (raw quotes and control
characters appear in object names); replies escape ``& < > " '``.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import struct
from dataclasses import dataclass, field

MAX_HEADER_LEN = 4096
MAX_MSG_LEN = 4 * 1024 * 1024
MAX_ERROR_LEN = 64 * 1024
MAX_BS_LEN = 80 * 1024 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed iRODS message."""


@dataclass
class Message:
    """One framed message: header type, intInfo and the three body parts."""

    type: str
    int_info: int = 0
    msg: bytes = b""
    error: bytes = b""
    bs: bytes | bytearray | memoryview = b""


# --- reading ---------------------------------------------------------------------------


def recv_exact(sock: socket.socket, n: int) -> bytearray:
    """Read exactly ``n`` bytes or raise ConnectionError at EOF."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise ConnectionError("peer closed the connection mid-message")
        got += k
    return buf


def _header_int(header: str, tag: str) -> int:
    m = re.search(rf"<{tag}>\s*(-?\d+)\s*</{tag}>", header)
    if not m:
        raise ProtocolError(f"header lacks <{tag}>")
    return int(m.group(1))


def read_message(sock: socket.socket) -> Message | None:
    """Read one message; None on a clean EOF before the first byte."""
    first = sock.recv(4, socket.MSG_WAITALL)
    if not first:
        return None
    if len(first) < 4:
        raise ConnectionError("peer closed the connection inside the length prefix")
    (hlen,) = struct.unpack(">I", first)
    if not 0 < hlen <= MAX_HEADER_LEN:
        raise ProtocolError(f"header length {hlen} out of range")
    header = recv_exact(sock, hlen).decode("utf-8", "replace")
    m = re.search(r"<type>(.*?)</type>", header, re.S)
    if not m or "<MsgHeader_PI>" not in header:
        raise ProtocolError("malformed MsgHeader_PI")
    msg_len = _header_int(header, "msgLen")
    err_len = _header_int(header, "errorLen")
    bs_len = _header_int(header, "bsLen")
    m_int = re.search(r"<intInfo>\s*(-?\d+)\s*</intInfo>", header)
    int_info = int(m_int.group(1)) if m_int else 0
    for name, value, cap in (
        ("msgLen", msg_len, MAX_MSG_LEN),
        ("errorLen", err_len, MAX_ERROR_LEN),
        ("bsLen", bs_len, MAX_BS_LEN),
    ):
        if not 0 <= value <= cap:
            raise ProtocolError(f"{name} {value} out of range (cap {cap})")
    msg = bytes(recv_exact(sock, msg_len)) if msg_len else b""
    error = bytes(recv_exact(sock, err_len)) if err_len else b""
    bs = recv_exact(sock, bs_len) if bs_len else b""
    return Message(m.group(1).strip(), int_info, msg, error, bs)


# --- writing ---------------------------------------------------------------------------


def send_message(sock: socket.socket, message: Message) -> None:
    """Frame and send one message; large byte streams are sent without copying."""
    header = (
        f"<MsgHeader_PI>\n<type>{message.type}</type>\n<msgLen>{len(message.msg)}</msgLen>\n"
        f"<errorLen>{len(message.error)}</errorLen>\n<bsLen>{len(message.bs)}</bsLen>\n"
        f"<intInfo>{message.int_info}</intInfo>\n</MsgHeader_PI>\n"
    ).encode()
    head = struct.pack(">I", len(header)) + header + message.msg + message.error
    if len(message.bs) <= 65536:
        sock.sendall(head + bytes(message.bs))
    else:
        sock.sendall(head)
        sock.sendall(message.bs)


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_ESCAPE_RE = re.compile("[&<>\"']")


def escape(text: str) -> str:
    """Escape a string for a reply body as iRODS 4.2.9+ does (backtick left alone)."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


@dataclass
class Pack:
    """A packed struct: ``<name>`` then its fields in order (lists repeat the tag)."""

    name: str
    fields: list[tuple[str, object]] = field(default_factory=list)

    def encode(self) -> bytes:
        return self.text().encode("utf-8")

    def text(self) -> str:
        out = [f"<{self.name}>"]
        for tag, value in self.fields:
            if isinstance(value, Pack):
                out.append(value.text())
            elif isinstance(value, list | tuple):
                out.extend(f"<{tag}>{escape(str(v))}</{tag}>\n" for v in value)
            else:
                out.append(f"<{tag}>{escape(str(value))}</{tag}>\n")
        out.append(f"</{self.name}>\n")
        return "".join(out)


def json_envelope(obj: object) -> bytes:
    """A BinBytesBuf_PI carrying JSON, as the 2xxxx and 110000 APIs use."""
    raw = json.dumps(obj).encode("utf-8")
    return Pack(
        "BinBytesBuf_PI", [("buflen", len(raw)), ("buf", base64.b64encode(raw).decode())]
    ).encode()


def rerror(status: int, text: str, more: list[tuple[int, str]] | None = None) -> bytes:
    """An RError_PI: this entry, then ``more`` (count 0 would crash PRC)."""
    entries: list[tuple[str, object]] = [
        ("RErrMsg_PI", Pack("RErrMsg_PI", [("status", code), ("msg", msg[:1000])]))
        for code, msg in [(status, text), *(more or [])]
    ]
    return Pack("RError_PI", [("count", len(entries)), *entries]).encode()


# --- parsing ---------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"<(/?)([A-Za-z_][\w.\-]*)\s*(/?)>")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def unescape(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        ent = m.group(1)
        if ent.startswith("#x"):
            return chr(int(ent[2:], 16))
        if ent.startswith("#"):
            return chr(int(ent[1:]))
        return _NAMED[ent]

    return _ENTITY_RE.sub(sub, text) if "&" in text else text


class Node:
    """A parsed element: tag, text (leaves) and children in document order."""

    __slots__ = ("tag", "text", "children")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.text = ""
        self.children: list[Node] = []

    def find(self, tag: str) -> Node | None:
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def string(self, tag: str, default: str = "") -> str:
        node = self.find(tag)
        return node.text if node is not None else default

    def number(self, tag: str, default: int = 0) -> int:
        node = self.find(tag)
        if node is None or not node.text.strip():
            return default
        try:
            return int(float(node.text.strip()))
        except ValueError as exc:
            raise ProtocolError(f"<{tag}> is not a number") from exc

    def strs(self, tag: str) -> list[str]:
        return [c.text for c in self.children if c.tag == tag]

    def kvp(self) -> dict[str, str]:
        """The KeyValPair_PI child as a dict (empty when absent)."""
        node = self.find("KeyValPair_PI")
        if node is None:
            return {}
        return dict(zip(node.strs("keyWord"), node.strs("svalue"), strict=False))


def parse(body: bytes) -> Node:
    """Parse one packed struct with a tolerant scanner (no XML validity required)."""
    text = body.decode("utf-8", "surrogateescape").rstrip("\x00")
    root = Node("#root")
    stack = [root]
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        closing, tag, selfclose = m.group(1), m.group(2), m.group(3)
        if closing:
            if len(stack) == 1 or stack[-1].tag != tag:
                raise ProtocolError(f"unbalanced </{tag}>")
            node = stack.pop()
            if not node.children:
                node.text = unescape(text[pos : m.start()])
        else:
            node = Node(tag)
            stack[-1].children.append(node)
            if not selfclose:
                stack.append(node)
        pos = m.end()
    if len(stack) != 1 or not root.children:
        raise ProtocolError("unterminated or empty body")
    return root.children[0]


def parse_json(body: bytes) -> dict[str, object]:
    """Decode a BinBytesBuf_PI (or BytesBuf_PI) JSON request."""
    node = parse(body)
    buf = node.string("buf")
    if node.tag == "BinBytesBuf_PI":
        raw = base64.b64decode(buf)
    else:
        raw = buf.encode("utf-8", "surrogateescape")
    try:
        value = json.loads(raw.rstrip(b"\x00").decode("utf-8"))
    except ValueError as exc:
        raise ProtocolError("JSON body does not parse") from exc
    if not isinstance(value, dict):
        raise ProtocolError("JSON body is not an object")
    return value
