"""Desktop clients' request sequences, replayed against any share (memory or iRODS).

From ../shared/reference/anchors-and-clients.md §2 (and the traces it cites):

- Windows Explorer (Mini-Redirector) copying a file in: PROPFIND (404), PUT (create,
  0 bytes), LOCK, PROPPATCH of the Win32 properties (with the lock token), HEAD, PUT
  (the data, with the lock token), PROPPATCH again, UNLOCK.
- macOS Finder copying a file in: PROPFIND of the file and of its ``._`` AppleDouble
  twin (404), PUT of an empty file, LOCK, PUT of the data with ``Transfer-Encoding:
  chunked`` and ``X-Expected-Entity-Length`` (with the lock token), the same for the
  ``._`` file, UNLOCK, a Depth 1 PROPFIND of the folder; and a ``.DS_Store`` in the
  folder.

Each replay returns the statuses it saw, by step, for the tests to check. Also here:
the request bodies of sync clients (rclone's PROPPATCH of the mtime, a checksum
PROPFIND), shared by the memory and the iRODS tests.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

WINDOWS_AGENT = "Microsoft-WebDAV-MiniRedir/10.0.19045"
FINDER_AGENT = "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (arm64)"

LOCKINFO = b"""<?xml version="1.0" encoding="utf-8" ?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>
<D:locktype><D:write/></D:locktype><D:owner><D:href>%s</D:href></D:owner></D:lockinfo>"""

PROPFIND_FILE = b"""<?xml version="1.0" encoding="utf-8" ?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/>
<D:resourcetype/><D:getetag/></D:prop></D:propfind>"""

WIN32_PROPPATCH = """<?xml version="1.0" encoding="utf-8" ?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>
<Z:Win32CreationTime>{created}</Z:Win32CreationTime>
<Z:Win32LastAccessTime>{accessed}</Z:Win32LastAccessTime>
<Z:Win32LastModifiedTime>{modified}</Z:Win32LastModifiedTime>
<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>
</D:prop></D:set></D:propertyupdate>"""

#: The 82-byte AppleDouble header Finder writes for a file without resource fork.
APPLE_DOUBLE = bytes.fromhex("00051607000200004d6163204f5320582020202020202020") + bytes(58)


def win32_proppatch(created: str, modified: str, accessed: str) -> bytes:
    return WIN32_PROPPATCH.format(created=created, modified=modified, accessed=accessed).encode()


def lock_token(reply: Any) -> str:
    token = reply.header("Lock-Token")
    assert token and token.startswith("<"), (reply.status, reply.headers)
    return str(token)


def windows_copy(gw: Any, folder: str, name: str, data: bytes, modified: str) -> dict[str, int]:
    """Explorer copies ``data`` to ``folder + name``, stamping ``modified`` (RFC 1123)."""
    path, seen = folder + name, {}
    agent = {"User-Agent": WINDOWS_AGENT}
    seen["propfind"] = gw.request("PROPFIND", path, PROPFIND_FILE, {**agent, "Depth": "0"}).status
    seen["create"] = gw.put(path, b"", headers=agent).status
    lock = gw.request(
        "LOCK", path, LOCKINFO % b"alice", {**agent, "Depth": "0", "Timeout": "Second-3600"}
    )
    seen["lock"] = lock.status
    token = lock_token(lock)
    locked = {**agent, "If": f"({token})"}
    props = win32_proppatch(modified, modified, "Sat, 21 Jun 2025 08:59:13 GMT")
    seen["proppatch"] = gw.request("PROPPATCH", path, props, locked).status
    seen["head"] = gw.request("HEAD", path, headers=agent).status
    seen["put"] = gw.put(path, data, headers=locked).status
    seen["proppatch2"] = gw.request("PROPPATCH", path, props, locked).status
    seen["unlock"] = gw.request("UNLOCK", path, headers={**agent, "Lock-Token": token}).status
    return seen


def chunked_put(gw: Any, path: str, data: bytes, headers: dict[str, str]) -> int:
    """A Finder-style PUT: chunked body, ``X-Expected-Entity-Length``, no Content-Length."""
    conn = http.client.HTTPConnection(gw.host, gw.port, timeout=30)
    sent = {
        **gw.auth_header(gw.user),
        **headers,
        "User-Agent": FINDER_AGENT,
        "Transfer-Encoding": "chunked",
        "X-Expected-Entity-Length": str(len(data)),
    }
    try:
        try:
            conn.request("PUT", path, body=_pieces(data), headers=sent, encode_chunked=True)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the body was read: the answer is already there
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def _pieces(data: bytes, size: int = 16384) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def finder_copy(gw: Any, folder: str, name: str, data: bytes) -> dict[str, int]:
    """Finder copies ``data`` to ``folder + name`` (with its ``._`` twin)."""
    path, twin, seen = folder + name, folder + "._" + name, {}
    agent = {"User-Agent": FINDER_AGENT}
    seen["propfind"] = gw.request("PROPFIND", path, PROPFIND_FILE, {**agent, "Depth": "0"}).status
    seen["propfind_twin"] = gw.request(
        "PROPFIND", twin, PROPFIND_FILE, {**agent, "Depth": "0"}
    ).status
    seen["create"] = gw.put(path, b"", headers=agent).status
    lock = gw.request(
        "LOCK", path, LOCKINFO % b"http://www.apple.com/webdav_fs/", {**agent, "Depth": "0"}
    )
    seen["lock"] = lock.status
    token = lock_token(lock)
    seen["put"] = chunked_put(gw, path, data, {"If": f"({token})"})
    seen["put_twin"] = chunked_put(gw, twin, APPLE_DOUBLE, {})
    seen["unlock"] = gw.request("UNLOCK", path, headers={**agent, "Lock-Token": token}).status
    seen["ds_store"] = chunked_put(gw, folder + ".DS_Store", b"\0\0\0\1Bud1" + bytes(100), {})
    seen["listing"] = gw.request("PROPFIND", folder, PROPFIND_FILE, {**agent, "Depth": "1"}).status
    return seen


# --- sync clients' request bodies -------------------------------------------------------

OC = "{http://owncloud.org/ns}"

CHECKSUMS = b"""<?xml version="1.0"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"
 xmlns:dc="http://www.dcache.org/2013/webdav"><d:prop>
<d:displayname/><d:getlastmodified/><d:getcontentlength/><d:resourcetype/>
<oc:checksums/><dc:Checksums/></d:prop></d:propfind>"""

WIN32_PATCH = b"""<?xml version="1.0" encoding="utf-8" ?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>
<Z:Win32LastModifiedTime>Mon, 01 Jan 2001 00:00:00 GMT</Z:Win32LastModifiedTime>
</D:prop></D:set></D:propertyupdate>"""


def rclone_proppatch(seconds: int, checksum: str = "") -> bytes:
    """rclone's owncloud vendor: DAV:lastmodified in Unix seconds, maybe its checksum."""
    extra = (
        f"<oc:checksums><oc:checksum>{checksum}</oc:checksum></oc:checksums>" if checksum else ""
    )
    return (
        '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" '
        'xmlns:oc="http://owncloud.org/ns"><D:set><D:prop>'
        f'<lastmodified xmlns="DAV:">{seconds}</lastmodified>{extra}'
        "</D:prop></D:set></D:propertyupdate>"
    ).encode()


def getlastmodified_proppatch(value: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:"><D:set>'
        f"<D:prop><D:getlastmodified>{value}</D:getlastmodified></D:prop>"
        "</D:set></D:propertyupdate>"
    ).encode()


def oc_checksum_text(body: bytes, href: str) -> str:
    """The ``oc:checksum`` text of ``href`` in a multistatus ("" when absent)."""
    for response in ElementTree.fromstring(body).iter("{DAV:}response"):
        if response.findtext("{DAV:}href") == href:
            return response.findtext(f".//{OC}checksums/{OC}checksum") or ""
    raise AssertionError(href)
