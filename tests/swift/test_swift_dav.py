"""The gateway (cheroot, WsgiDAV, our resources) serving a ``/swift`` share over the real
Swift, beyond the shared verb suite (tests/contract/dav_verbs.py, joined in
test_swift_dav_verbs.py): the account listing, logins, SLOs with ranges, and litmus."""

from __future__ import annotations

import os

from tests.helpers.davxml import hrefs
from tests.helpers.external_tools import require_tool
from tests.helpers.litmus_run import assert_litmus_passes
from tests.helpers.swift_gateway import ALICE, container_of
from tests.helpers.swift_helpers import MiB, names


def test_the_account_listing_shows_containers_and_hides_segment_containers(gw, box):
    assert gw.put(f"{box}big.bin", os.urandom(MiB + 1)).status == 201  # an SLO: segments
    top = gw.request("PROPFIND", "/swift/", headers={"Depth": "1"})
    assert top.status == 207
    assert box in hrefs(top.body)
    assert not any("_segments" in href for href in hrefs(top.body))


def test_a_wrong_password_or_no_credentials_is_a_401(gw):
    reply = gw.request("PROPFIND", "/swift/", headers={"Depth": "0"}, user=("alice", "wrong"))
    assert reply.status == 401
    assert gw.request("PROPFIND", "/swift/", headers={"Depth": "0"}, user=None).status == 401


def test_a_large_put_is_an_slo_with_ranges_across_segments(gw, box, alice):
    body = os.urandom(3 * MiB + MiB // 2)
    assert gw.put(f"{box}big.bin", body).status == 201
    start = MiB - 100
    reply = gw.get(f"{box}big.bin", headers={"Range": f"bytes={start}-{start + 2 * MiB}"})
    assert reply.status == 206 and reply.body == body[start : start + 2 * MiB + 1]
    segments = container_of(box) + "_segments"
    assert len(names(alice, segments)) == 4
    assert gw.request("DELETE", f"{box}big.bin").status == 204
    assert names(alice, segments) == []


def test_litmus_passes_every_suite_on_the_swift_share(gw, box, tmp_path):
    require_tool("litmus")
    url = f"http://{gw.host}:{gw.port}{box}"
    assert_litmus_passes(["-k", url, *ALICE], tmp_path)
