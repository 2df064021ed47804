"""The web interface over plain HTTP: uploads stream and commit whole parts only,
cross-site POSTs are refused, writes keep WebDAV's rules (no browser needed)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from wsgidav.dav_error import DAVError

from davprovider.backend import Entry, Upload
from davprovider.dav import forms
from davprovider.dav.put import Writer
from tests.browser.conftest import seed, stored
from tests.helpers.gateway import USERS, Gateway, memory_config, running_gateway

BOUNDARY = "----form-boundary-7MA4YWxk"


def multipart(*files: tuple[str, bytes]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def origin(gateway: Gateway) -> dict[str, str]:
    return {"Origin": f"http://{gateway.host}:{gateway.port}", "Sec-Fetch-Site": "same-origin"}


def post_files(gateway: Gateway, path: str, body: bytes, **kw: Any) -> Any:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **origin(gateway)}
    return gateway.request("POST", path, body, headers, **kw)


def post_form(gateway: Gateway, path: str, fields: str, **kw: Any) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **origin(gateway)}
    return gateway.request("POST", path, fields.encode(), headers, **kw)


# --- the streaming parser, without a server -------------------------------------------


class Recorder(Upload):
    """An ``Upload`` noting how far the request body had been read at each write."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.positions: list[int] = []
        self.data = bytearray()
        self.committed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.positions.append(self.body.tell())
        self.data += data

    def commit(self) -> Entry:
        self.committed = True
        return Entry("x", False, len(self.data), None, None, None, None)

    def abort(self) -> None:
        self.aborted = True


class Reader(io.BytesIO):
    """A request body that records the size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


class Target:
    """Stands in for ``forms.Actions``: hands out a ``Writer`` over a ``Recorder``."""

    def __init__(self, body: Reader) -> None:
        self.body = body
        self.uploads: dict[str, Recorder] = {}

    def open_upload(self, name: str, content_type: str | None) -> Writer:
        self.uploads[name] = Recorder(self.body)
        return Writer(self.uploads[name], "/" + name, [], ["md5"])


def parse(body: bytes, block: int = 4096) -> tuple[Target, Reader, Any]:
    reader = Reader(body)
    target = Target(reader)
    environ = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": reader,
    }
    try:
        return target, reader, forms.upload(environ, target, block)  # type: ignore[arg-type]
    except DAVError as error:
        return target, reader, error


def test_upload_streams_block_by_block_and_commits_each_whole_part() -> None:
    first, second = bytes(range(256)) * 1024, b"second file"
    target, reader, result = parse(multipart(("a.bin", first), ("b.txt", second)))
    assert result == ["/a.bin", "/b.txt"]
    assert max(reader.sizes) <= 4096 and -1 not in reader.sizes  # never read whole
    a = target.uploads["a.bin"]
    assert bytes(a.data) == first and a.committed and not a.aborted
    assert a.positions[0] < 3 * 4096  # written while the body was still arriving
    assert bytes(target.uploads["b.txt"].data) == second


def test_a_part_cut_short_is_aborted_never_committed() -> None:
    body = multipart(("a.bin", b"x" * 100_000))
    target, _, result = parse(body[:60_000])
    assert isinstance(result, DAVError) and result.value == 400
    upload = target.uploads["a.bin"]
    assert upload.aborted and not upload.committed


def test_a_malformed_body_is_400_and_aborts() -> None:
    body = multipart(("a.bin", b"x" * 10_000)).replace(b"\r\n--" + BOUNDARY.encode() + b"--", b"")
    target, _, result = parse(body + b"garbage")
    assert isinstance(result, DAVError) and result.value == 400
    assert target.uploads["a.bin"].aborted


# --- over HTTP ----------------------------------------------------------------------------


def test_form_upload_over_http_and_a_short_one_keeps_the_old_content(
    gateway: Gateway, store: Any
) -> None:
    store.mkdir("/in")
    reply = post_files(gateway, "/memory/in/", multipart(("one.txt", b"1"), ("two.txt", b"22")))
    assert (reply.status, reply.header("Location")) == (303, "/memory/in/?done=upload")
    assert (stored(store, "/in/one.txt"), stored(store, "/in/two.txt")) == (b"1", b"22")
    body = multipart(("one.txt", b"new content" * 1000))
    assert post_files(gateway, "/memory/in/", body[:5000]).status == 400
    assert stored(store, "/in/one.txt") == b"1"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_cross_site_posts_are_refused(gateway: Gateway, store: Any, headers: Any) -> None:
    sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    reply = gateway.request("POST", "/memory/", b"action=mkdir&name=x", sent)
    assert reply.status == 403
    assert store.list("/") == []


def test_same_origin_by_origin_alone_is_accepted(gateway: Gateway, store: Any) -> None:
    sent = {"Content-Type": "application/x-www-form-urlencoded"}
    sent["Origin"] = f"http://{gateway.host}:{gateway.port}"
    assert gateway.request("POST", "/memory/", b"action=mkdir&name=x", sent).status == 303
    assert store.stat("/x").is_dir


def test_actions_need_the_same_credentials_as_webdav(gateway: Gateway, store: Any) -> None:
    assert post_form(gateway, "/memory/", "action=mkdir&name=x", user=None).status == 401
    reader = ("reader", USERS["reader"])
    assert post_form(gateway, "/memory/", "action=mkdir&name=x", user=reader).status == 403
    assert post_files(gateway, "/memory/", multipart(("f", b"1")), user=reader).status == 403
    assert store.list("/") == []


def test_a_read_only_share_offers_no_actions_and_refuses_them() -> None:
    with running_gateway(memory_config(share={"read_only": True})) as gw:
        assert b"<form" not in gw.get("/memory/").body
        assert post_form(gw, "/memory/", "action=mkdir&name=x").status == 403


def test_rename_delete_and_their_refusals(gateway: Gateway, store: Any) -> None:
    seed(store, "/a.txt", b"a")
    seed(store, "/b.txt", b"b")
    assert post_form(gateway, "/memory/", "action=rename&name=a.txt&to=b.txt").status == 409
    assert post_form(gateway, "/memory/", "action=mkdir&name=a%2Fb").status == 400
    assert post_form(gateway, "/memory/", "action=rename&name=a.txt&to=c.txt").status == 303
    assert stored(store, "/c.txt") == b"a"
    asked = post_form(gateway, "/memory/", "action=delete&name=c.txt")
    assert asked.status == 200 and b"Delete the file c.txt?" in asked.body
    assert stored(store, "/c.txt") == b"a"  # not without confirmation
    done = post_form(gateway, "/memory/", "action=delete&name=c.txt&confirmed=yes")
    assert done.status == 303 and stored(store, "/c.txt") is None
    assert post_form(gateway, "/memory/", "action=delete&name=gone&confirmed=yes").status == 404


def test_a_webdav_lock_holds_against_the_forms(gateway: Gateway, store: Any) -> None:
    seed(store, "/locked.txt", b"mine")
    lockinfo = (
        b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
        b"</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"
    )
    assert gateway.request("LOCK", "/memory/locked.txt", lockinfo).status == 200
    reply = post_form(gateway, "/memory/", "action=delete&name=locked.txt&confirmed=yes")
    assert reply.status == 423
    assert post_files(gateway, "/memory/", multipart(("locked.txt", b"x"))).status == 423
    assert stored(store, "/locked.txt") == b"mine"


def test_listing_escapes_names_and_files_a_browser_would_run_are_sandboxed(
    gateway: Gateway, store: Any
) -> None:
    seed(store, "/<b>x</b>&.html".replace("/b", "\\b"), b"<script>alert(1)</script>")
    page = gateway.get("/memory/", headers={"Accept": "text/html"})
    assert page.status == 200 and b"<b>" not in page.body and b"&lt;b&gt;x" in page.body
    assert "script-src 'nonce-" in (page.header("Content-Security-Policy") or "")
    assert b"WsgiDAV" not in page.body
    reply = gateway.get("/memory/%3Cb%3Ex%3C%5Cb%3E%26.html")
    assert reply.status == 200 and reply.header("Content-Security-Policy") == "sandbox"
    seed(store, "/plain.txt", b"text")
    reply = gateway.get("/memory/plain.txt")
    assert reply.header("Content-Security-Policy") is None
    assert reply.header("X-Content-Type-Options") == "nosniff"


def test_head_of_a_listing_has_no_body(gateway: Gateway) -> None:
    reply = gateway.request("HEAD", "/memory/")
    assert reply.status == 200 and reply.body == b""
    assert (reply.header("Content-Type") or "").startswith("text/html")


def test_zip_over_its_limits_is_413() -> None:
    with running_gateway(memory_config(browser={"zip_max_entries": 2})) as gw:
        gw.request("MKCOL", "/memory/d")
        for name in ("a", "b", "c"):
            gw.put(f"/memory/d/{name}", b"x")
        reply = gw.get("/memory/d/?download=zip", headers={"Accept": "text/html"})
        assert reply.status == 413 and b"too many files" in reply.body
    with running_gateway(memory_config(browser={"zip_max_bytes": 10})) as gw:
        gw.put("/memory/big", b"x" * 11)
        assert gw.get("/memory/?download=zip").status == 413
