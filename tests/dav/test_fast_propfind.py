"""The fast PROPFIND (davprovider/dav/propfind.py) answers exactly as WsgiDAV's own handler.

Each request is sent twice to the same gateway: once as it runs (the fast path must
answer it) and once with the fast path switched off (WsgiDAV's handler); both multistatus
bodies, parsed into {href: [(property, status, text, children)]}, must be equal. Folders
and files have awkward names; memory, the local iRODS zone and a real Swift are covered,
with the DAV: live properties and with rclone's listing (``oc:checksums``).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import uuid
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

import davprovider.dav.provider as provider_module
from davprovider.backend import Entry
from davprovider.dav import propfind as fastpropfind
from davprovider.digests import pick
from davprovider.memory import MemoryBackend, MemoryFactory, Options
from tests.helpers.swift_gateway import ALICE, fresh_container, swift_config
from tests.helpers.swift_helpers import local_swift

ALL = [
    "getcontentlength", "getlastmodified", "getetag", "resourcetype",
    "getcontenttype", "displayname", "creationdate",
]  # fmt: skip
SUBSETS = [
    ALL,
    ["getcontentlength", "getlastmodified", "getetag", "resourcetype"],
    ["getcontentlength"],  # a folder's only property is a 404
    ["displayname", "getcontenttype", "creationdate"],
    ["resourcetype", "getetag", "getetag"],  # asked twice, answered twice
]
FILES = [
    "plain.txt", "with space.txt", "hash#tag.txt", "100% sure.txt", "ünïcödé €.txt",
    "a&b.txt", "less<than>.txt", "quote's (1).txt", "no-extension", "page.html", "日本語.pdf",
]  # fmt: skip
FOLDERS = ["sub folder", "a&b #dir", "ünï 100%"]
Parsed = dict[str, list[tuple[str, str, str, tuple[tuple[str, str], ...]]]]


def propfind_body(props: list[str], extra: str = "") -> bytes:
    inner = "".join(f"<D:{p}/>" for p in props) + extra
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
        f'xmlns:oc="http://owncloud.org/ns"><D:prop>{inner}</D:prop></D:propfind>'
    ).encode()


#: rclone 1.60's only PROPFIND (vendor owncloud), byte for byte: Depth 1 for a folder's
#: listing and for a file's stat alike (captured with ``rclone --dump bodies``).
RCLONE = b"""<?xml version="1.0"?>
<d:propfind  xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">
 <d:prop>
  <d:displayname />
  <d:getlastmodified />
  <d:getcontentlength />
  <d:resourcetype />
  <d:getcontenttype />
  <oc:checksums />
 </d:prop>
</d:propfind>
"""
OC = "{http://owncloud.org/ns}"
DCACHE = "http://www.dcache.org/2013/webdav"
#: Plain PUTs get no digests: only those with a client checksum (and empty ones) do.
SPARSE_SUMS = {"checksums": {"small_limit": 0}}
#: Other bodies with the ownCloud properties (later rclones add oc:permissions).
OWNCLOUD_BODIES = [
    RCLONE,
    propfind_body(["getcontentlength"], "<oc:checksums/><oc:permissions/>"),
    propfind_body([], "<oc:permissions/><oc:checksums/><D:displayname/>"),  # 404 first
]
#: The first two are sent with ``OC-Checksum``; with ``SPARSE_SUMS`` the others (but the
#: empty one) get no digests from their upload.
SUMS = {"sha1 header.txt": b"one", "sha1 & space.bin": b"two" * 100, "no header.txt": b"3"}
SUMS |= {"no header either": b"four", "empty no header": b""}


def parse(body: bytes) -> tuple[list[str], Parsed]:
    """Hrefs in order, and href -> sorted (property, status, text, children's tag and text)."""
    order: list[str] = []
    result: Parsed = {}
    for response in ElementTree.fromstring(body).iter("{DAV:}response"):
        href = response.findtext("{DAV:}href") or ""
        order.append(href)
        props = []
        for propstat in response.iter("{DAV:}propstat"):
            status = propstat.findtext("{DAV:}status") or ""
            for prop in propstat.find("{DAV:}prop") or []:
                children = tuple((c.tag, c.text or "") for c in prop)
                props.append((prop.tag, status, prop.text or "", children))
        result[href] = sorted(props)
    return order, result


class Paths:
    """Switches the provider's fast path on (with a record of what it answered) or off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.answered: list[bool] = []

    def fast(self) -> None:
        def spy(*args: Any) -> Any:
            result = fastpropfind.fast_propfind(*args)
            self.answered.append(result is not None)
            return result

        self.monkeypatch.setattr(provider_module, "fast_propfind", spy)

    def slow(self) -> None:
        self.monkeypatch.setattr(provider_module, "fast_propfind", lambda *args: None)

    def both(self, gw: Any, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        """The fast and the slow reply to one request; whether the fast path answered."""
        self.fast()
        self.answered.clear()
        fast = gw.request("PROPFIND", path, body, headers=headers)
        answered = self.answered == [True]
        self.slow()
        slow = gw.request("PROPFIND", path, body, headers=headers)
        return fast, slow, answered


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> Paths:
    return Paths(monkeypatch)


def assert_same(fast: Any, slow: Any) -> None:
    assert fast.status == slow.status, (fast.body, slow.body)
    assert fast.header("content-type") == slow.header("content-type")
    assert int(fast.header("content-length")) == len(fast.body)
    assert fast.header("connection") != "close"
    if slow.status == 207:
        assert parse(fast.body) == parse(slow.body)


def assert_equivalent(gw: Any, paths: Paths, targets: list[str]) -> None:
    """Every subset of properties, Depth 0 and 1, on each target: same answer."""
    for target in targets:
        for depth in ("0", "1"):
            for props in SUBSETS:
                body = propfind_body(props)
                fast, slow, answered = paths.both(gw, target, body, {"Depth": depth})
                assert answered, (target, depth, props, fast.status)
                assert fast.status == 207
                assert_same(fast, slow)


def fill(gw: Any, folder: str) -> None:
    """``folder`` (a share path ending in /, made if new) gets FILES and FOLDERS, with one
    file inside each folder."""
    assert gw.request("MKCOL", quote(folder)).status in (201, 405)
    for name in FILES:
        reply = gw.put(quote(folder + name), name.encode())
        assert reply.status in (201, 204), (name, reply.status)
    assert gw.put(quote(folder + "empty"), b"").status in (201, 204)
    typed = gw.put(quote(folder + "typed.bin"), b"x", headers={"Content-Type": "image/png"})
    assert typed.status in (201, 204)
    for name in FOLDERS:
        assert gw.request("MKCOL", quote(folder + name + "/")).status == 201, name
        assert gw.put(quote(f"{folder}{name}/inner & file.txt"), b"inner").status in (201, 204)


def targets(folder: str) -> list[str]:
    return [quote(folder), quote(folder + "a&b.txt"), quote(folder + FOLDERS[1] + "/")]


def fill_sums(gw: Any, folder: str) -> None:
    """``folder`` (made) gets ``SUMS`` (the first two sent with ``OC-Checksum: SHA1``),
    a folder, and a file with a checksum inside it."""
    assert gw.request("MKCOL", quote(folder)).status == 201
    for i, (name, data) in enumerate(SUMS.items()):
        headers = {"OC-Checksum": f"SHA1:{hashlib.sha1(data).hexdigest()}"} if i < 2 else {}
        assert gw.put(quote(folder + name), data, headers=headers).status == 201, name
    assert gw.request("MKCOL", quote(folder + FOLDERS[1] + "/")).status == 201
    inner = quote(folder + FOLDERS[1] + "/x.txt")
    sha1 = hashlib.sha1(b"x").hexdigest()
    assert gw.put(inner, b"x", headers={"OC-Checksum": f"SHA1:{sha1}"}).status == 201


def owncloud(data: bytes) -> str:
    """The oc:checksum text of ``data`` with every digest the gateway computes."""
    sha1, md5, sha256 = (hashlib.new(a, data).hexdigest() for a in ("sha1", "md5", "sha256"))
    return f"SHA1:{sha1} MD5:{md5} ADLER32:{zlib.adler32(data):08x} SHA256:{sha256}"


def checksum_texts(body: bytes) -> dict[str, str]:
    """href -> its oc:checksum text, for the hrefs that have one."""
    found = {}
    for href, props in parse(body)[1].items():
        for tag, status, _, children in props:
            if tag == OC + "checksums" and " 200 " in status:
                found[href] = dict(children)[OC + "checksum"]
    return found


def assert_rclone_equivalent(gw: Any, paths: Paths, folder: str) -> dict[str, str]:
    """The ownCloud bodies at Depth 1 and 0 on ``folder`` (filled by ``fill_sums``),
    then on its files: the fast path answers each as WsgiDAV does. The listing comes
    first (asking a file alone may compute and store its digests). Returns the
    listing's checksum texts."""
    fast, slow, answered = paths.both(gw, quote(folder), RCLONE, {"Depth": "1"})
    assert answered and fast.status == 207
    assert_same(fast, slow)
    listed = checksum_texts(fast.body)
    assert len(parse(fast.body)[0]) == 2 + len(SUMS)
    files = [quote(folder + name) for name in SUMS]
    for target in [quote(folder), *files]:
        for body in OWNCLOUD_BODIES:
            for depth in ("1", "0"):
                fast, slow, answered = paths.both(gw, target, body, {"Depth": depth})
                assert answered, (target, depth, body, fast.status)
                assert_same(fast, slow)
    return listed


# --- memory ------------------------------------------------------------------------


def new_folder(share: str) -> str:
    return f"{share}/fp-{uuid.uuid4().hex[:8]}/"


def test_memory_listing_answers_as_wsgidav_does(gateway, paths):
    folder = new_folder("/memory")
    fill(gateway, folder)
    assert_equivalent(gateway, paths, [*targets(folder), "/memory/", "/memory"])


def test_fast_answer_keeps_the_connection_and_the_body_is_well_formed(gateway, paths):
    folder = new_folder("/memory")
    fill(gateway, folder)
    paths.fast()
    reply = gateway.request("PROPFIND", folder, propfind_body(ALL), {"Depth": "1"})
    assert paths.answered == [True] and reply.status == 207
    assert reply.header("content-type") == "application/xml; charset=utf-8"
    order, parsed = parse(reply.body)
    assert len(order) == 1 + len(FILES) + 2 + len(FOLDERS)
    assert f"{folder}a%26b%20%23dir/" in parsed and f"{folder}hash%23tag.txt" in parsed


class ForgetfulBackend(MemoryBackend):
    """A memory share that, like iRODS and Swift, knows the digests of a file only when
    they came with its upload ("sha1 ..." and empty files, ``small_limit: 0``) or
    were stored after the gateway read it (``store_digests``)."""

    def __init__(self, tree: Any, stored: dict[str, dict[str, str]]) -> None:
        super().__init__(tree)
        self.stored = stored

    def digests(self, path: str, entry: Entry, algorithms: Any, *, compute: bool = False) -> Any:
        found = super().digests(path, entry, algorithms, compute=compute)
        return self._known(entry, found, algorithms)

    def list_digests(self, path: str, entries: Any, algorithms: Any) -> Any:
        found = super().list_digests(path, entries, algorithms)
        return {e.name: self._known(e, found.get(e.name, {}), algorithms) for e in entries}

    def store_digests(self, path: str, digests: Any) -> None:
        self.stored[path.rsplit("/", 1)[-1]] = dict(digests)

    def _known(self, entry: Entry, found: dict[str, str], algorithms: Any) -> dict[str, str]:
        if entry.name.startswith("sha1") or not entry.size:
            return found
        return pick(self.stored.get(entry.name, {}), algorithms)


class ForgetfulFactory(MemoryFactory):
    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.stored: dict[str, dict[str, str]] = {}

    def __call__(self, identity: Any) -> Any:
        return ForgetfulBackend(self.tree, self.stored)


@pytest.mark.parametrize("compute_limit", [64 << 20, 0])
def test_memory_rclone_listing_answers_as_wsgidav_does(start_gateway, config, paths, compute_limit):
    factory = ForgetfulFactory(Options(users={"alice": "alice-pw"}))
    gw = start_gateway(config(checksums={"compute_limit": compute_limit}), {"/memory": factory})
    folder = new_folder("/memory")
    fill_sums(gw, folder)
    listed = assert_rclone_equivalent(gw, paths, folder)
    assert listed[quote(folder + "sha1 header.txt")] == owncloud(SUMS["sha1 header.txt"])
    assert quote(folder + "empty no header") in listed
    assert quote(folder + "no header.txt") not in listed  # a listing computes nothing
    # each file's own PROPFIND read it for its digests (within compute_limit) and kept them
    fast, slow, answered = paths.both(gw, quote(folder), RCLONE, {"Depth": "1"})
    assert answered
    assert_same(fast, slow)
    relisted = checksum_texts(fast.body)
    alone = quote(folder + "no header.txt")
    assert relisted.get(alone) == (owncloud(SUMS["no header.txt"]) if compute_limit else None)


class BrokenSumsBackend(MemoryBackend):
    def list_digests(self, path: str, entries: Any, algorithms: Any) -> Any:
        raise OSError(errno.EIO, "the digest store is down")


class BrokenSumsFactory(MemoryFactory):
    def __call__(self, identity: Any) -> Any:
        return BrokenSumsBackend(self.tree)


def test_a_failing_list_digests_is_left_to_wsgidav(start_gateway, config, paths):
    factory = BrokenSumsFactory(Options(users={"alice": "alice-pw"}))
    gw = start_gateway(config(), {"/memory": factory})
    fill_sums(gw, "/memory/d/")
    fast, slow, answered = paths.both(gw, "/memory/d/", RCLONE, {"Depth": "1"})
    assert not answered and fast.status == 207
    assert_same(fast, slow)
    fast, slow, answered = paths.both(gw, "/memory/d/", propfind_body(ALL), {"Depth": "1"})
    assert answered  # only asked when oc:checksums is
    assert_same(fast, slow)


class SparseBackend(MemoryBackend):
    """Entries with what the contract lets a backend leave out: folders without etag or
    creation time; "bare" ones without times, content type, size or etag (an empty one
    for a folder)."""

    def stat(self, path: str) -> Entry:
        return self._sparse(super().stat(path))

    def list(self, path: str) -> list[Entry]:
        return [self._sparse(e) for e in super().list(path)]

    @staticmethod
    def _sparse(entry: Entry) -> Entry:
        if entry.name.startswith("bare"):
            kept = {"etag": "" if entry.is_dir else None, "content_type": None, "size": None}
            return dataclasses.replace(entry, modified=None, created=None, **kept)
        if entry.is_dir and entry.name:
            return dataclasses.replace(entry, etag=None, created=None)
        return entry


class SparseFactory(MemoryFactory):
    def __call__(self, identity: Any) -> Any:
        return SparseBackend(self.tree)


def test_missing_values_are_the_same_404s(start_gateway, config, paths):
    factory = SparseFactory(Options(users={"alice": "alice-pw"}))
    direct = MemoryBackend(factory.tree)
    for folder in ("/d", "/d/sub", "/d/bare dir"):
        direct.mkdir(folder)
    for name in ("/d/bare", "/d/bare.txt", "/d/kept.txt"):
        upload = direct.open_write(name)
        upload.write(b"data")
        upload.commit()
    gw = start_gateway(config(), {"/memory": factory})
    assert_equivalent(gw, paths, ["/memory/d/", "/memory/d/bare.txt", "/memory/d/sub/"])


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (propfind_body(["getetag"], f'<dc:Checksums xmlns:dc="{DCACHE}"/>'), {}, 207),
        (propfind_body(["getetag"], "<oc:checksum/>"), {}, 207),
        (propfind_body(["getetag"], "<D:lockdiscovery/>"), {}, 207),
        (propfind_body(["getetag"], "<D:quota-used-bytes/>"), {}, 207),
        (propfind_body(["getetag"], "<oc:colour/>"), {}, 207),
        (propfind_body(["getetag"], "<!-- a comment -->"), {}, 500),  # WsgiDAV 4.4's answer
        (propfind_body([]), {}, 207),
        (b"", {}, 207),  # allprop
        (b'<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>', {}, 207),
        (b'<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>', {}, 207),
        (propfind_body(["getetag"]), {"If-None-Match": '"nope"'}, 207),
        (propfind_body(["getetag"]), {"If": "(<urn:uuid:nope>)"}, 412),
        (b"<D:propfind", {}, 400),
    ],
)
def test_requests_outside_the_fast_path_get_wsgidav_s_answer(gateway, paths, body, headers, status):
    folder = new_folder("/memory")
    fill(gateway, folder)
    fast, slow, answered = paths.both(gateway, folder, body, {"Depth": "1", **headers})
    assert not answered
    assert fast.status == status
    assert_same(fast, slow)


def test_missing_path_is_left_to_wsgidav(gateway, paths):
    fast, slow, answered = paths.both(
        gateway, "/memory/nothing/", propfind_body(ALL), {"Depth": "1"}
    )
    assert not answered and fast.status == slow.status == 404


# --- iRODS and Swift ---------------------------------------------------------------


@pytest.fixture(scope="module")
def irods_config(irods_zone: Any) -> dict[str, Any]:
    with irods_zone.session() as rods:
        rods.users.create("alice", "rodsuser")
        rods.users.modify("alice", "password", "alice")
    options = {"host": "127.0.0.1", "port": irods_zone.port, "zone": "tempZone", "root": "home"}
    return {
        "server": {"host": "127.0.0.1", "port": 0, "threads": 8, "timeout": 20},
        "logging": {"access_log": False},
        "auth": {"chain": ["basic"]},
        "shares": [{"path": "/irods", "backend": "irods", "options": options}],
    }


def test_irods_listing_answers_as_wsgidav_does(irods_config, start_gateway, paths):
    gw = start_gateway({**irods_config, **SPARSE_SUMS})
    gw.user = ("alice", "alice")
    folder = new_folder("/irods/alice")
    fill(gw, folder)
    assert_equivalent(gw, paths, [*targets(folder), "/irods/alice/"])
    sums = new_folder("/irods/alice")
    fill_sums(gw, sums)
    listed = assert_rclone_equivalent(gw, paths, sums)
    assert listed[quote(sums + "sha1 header.txt")] == owncloud(SUMS["sha1 header.txt"])


@pytest.fixture(scope="module")
def swift_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with local_swift(tmp_path_factory, "fastpropfind") as store:
        yield store


def test_swift_listing_answers_as_wsgidav_does(swift_store, start_gateway, paths):
    gw = start_gateway({**swift_config(swift_store), **SPARSE_SUMS})
    gw.user = ALICE
    with fresh_container(gw) as container:
        fill(gw, container)
        assert_equivalent(gw, paths, targets(container))
        sums = container + "sums/"
        fill_sums(gw, sums)
        listed = assert_rclone_equivalent(gw, paths, sums)
        md5 = hashlib.md5(SUMS["sha1 header.txt"]).hexdigest()
        assert listed[quote(sums + "sha1 header.txt")] == f"MD5:{md5}"  # Swift's ETag
