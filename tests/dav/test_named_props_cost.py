"""A PROPFIND computes only the properties it names: counted backend calls."""

from __future__ import annotations

from collections import Counter

from tests.helpers.recording import RecordingFactory, fill


def propfind(*props: str) -> bytes:
    inner = "".join(props)
    return (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:oc="http://owncloud.org/ns"'
        ' xmlns:dc="http://www.dcache.org/2013/webdav" xmlns:Z="urn:schemas-microsoft-com:">'
        f"<D:prop>{inner}</D:prop></D:propfind>"
    ).encode()


ETAG = propfind("<D:getetag/>")
RCLONE = propfind(
    "<D:displayname/>", "<D:getlastmodified/>", "<D:getcontentlength/>",
    "<D:resourcetype/>", "<oc:checksums/>", "<oc:permissions/>",
)  # fmt: skip
QUOTA = propfind("<D:quota-available-bytes/>", "<D:quota-used-bytes/>")


def test_getetag_at_depth_1_computes_no_checksums(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 100)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("PROPFIND", "/memory/many/", ETAG, headers={"Depth": "1"})
    assert reply.status == 207
    assert factory.calls == Counter({"stat": 1, "list": 1})


def test_rclone_listing_costs_one_digest_call_for_the_whole_collection(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 100)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("PROPFIND", "/memory/many/", RCLONE, headers={"Depth": "1"})
    assert reply.status == 207
    assert reply.body.count(b"MD5:") == 100
    assert factory.calls == Counter({"stat": 1, "list": 1, "list_digests": 1})


def test_checksums_of_one_object_cost_one_digest_call(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 10)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("PROPFIND", "/memory/many/f001.txt", RCLONE, headers={"Depth": "0"})
    assert reply.status == 207 and b"MD5:" in reply.body
    assert factory.calls == Counter({"stat": 1, "digests": 1})


def test_want_digest_costs_one_digest_call(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 10)
    gw = start_gateway(config(), {"/memory": factory})
    reply = gw.request("HEAD", "/memory/many/f001.txt", headers={"Want-Digest": "md5"})
    assert reply.header("Digest")
    assert factory.calls == Counter({"stat": 1, "digests": 1})


def test_quota_costs_one_call_and_only_when_named(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 10)
    gw = start_gateway(config(), {"/memory": factory})
    gw.request("PROPFIND", "/memory/many/", QUOTA, headers={"Depth": "0"})
    assert factory.calls == Counter({"stat": 1, "quota": 1})
    factory.calls.clear()
    gw.request("PROPFIND", "/memory/many/", headers={"Depth": "1"})  # allprop
    assert "quota" not in factory.calls and "digests" not in factory.calls
    assert "list_digests" not in factory.calls


def test_win32_mtime_is_read_from_the_listing(start_gateway, config):
    factory = RecordingFactory()
    fill(factory, 10)
    gw = start_gateway(config(), {"/memory": factory})
    body = propfind("<Z:Win32LastModifiedTime/>")
    reply = gw.request("PROPFIND", "/memory/many/", body, headers={"Depth": "1"})
    assert reply.body.count(b"GMT</NS1:Win32LastModifiedTime>") == 11
    assert factory.calls == Counter({"stat": 1, "list": 1})
