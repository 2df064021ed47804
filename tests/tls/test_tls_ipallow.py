"""IP allow-lists through real connections from several loopback addresses
(``curl --interface 127.0.0.N``): chain [x509, ipallow, basic] over HTTPS."""

from __future__ import annotations

import logging

import pytest

from tests.helpers.tlsgw import curl, memory_tls_config

PROPFIND = ("-X", "PROPFIND", "-H", "Depth: 0")


@pytest.fixture(scope="module")
def gw(test_pki, module_gateways):
    config = memory_tls_config(
        test_pki,
        ["x509", "ipallow", "basic"],
        ipallow={
            "networks": [
                {"cidr": "127.0.0.2/32", "user": "portal"},
                {
                    "cidr": "127.0.0.4/32",
                    "user": "gwservice",
                    "on_behalf_header": "X-On-Behalf-Of",
                    "on_behalf_users": ["alice", "bob"],
                },
                {"cidr": "::1/128", "user": "portal6"},
            ],
            "trusted_proxies": ["127.0.0.3/32"],
        },
    )
    return module_gateways(config)


@pytest.fixture
def call(gw, test_pki, caplog):
    """``call(interface, *curl_args, case=None, path=...)`` -> CurlResult; logs in caplog."""
    caplog.set_level(logging.INFO, logger="auth.controller")

    def run(interface, *args, case=None, path="/memory/"):
        url = f"https://127.0.0.1:{gw.port}{path}"
        return curl(url, test_pki, case, *args, interface=interface)

    return run


def test_listed_address_acts_as_its_service_user(call, caplog):
    assert call("127.0.0.2", *PROPFIND).status == 207
    assert "127.0.0.2 PROPFIND /memory/ accepted as portal by ipallow" in caplog.text


def test_service_user_keeps_its_own_rights(call):
    put = call("127.0.0.2", "-X", "PUT", "--data-binary", "x", path="/memory/p.txt")
    assert put.status == 403  # portal is read-only on this share


def test_unlisted_address_falls_through_to_basic(call, caplog):
    assert call("127.0.0.1", *PROPFIND).status == 401
    assert call("127.0.0.1", *PROPFIND, "-u", "bob:bob-pw").status == 207
    assert "accepted as bob by basic" in caplog.text


def test_spoofed_forwarded_for_from_untrusted_peer_is_ignored(call, caplog):
    for header in ("X-Forwarded-For: 127.0.0.2", "Forwarded: for=127.0.0.2"):
        assert call("127.0.0.1", *PROPFIND, "-H", header).status == 401
    assert "accepted as portal" not in caplog.text


def test_trusted_proxy_forwarding_a_listed_client(call, caplog):
    result = call("127.0.0.3", *PROPFIND, "-H", "X-Forwarded-For: 127.0.0.2")
    assert result.status == 207
    assert "accepted as portal by ipallow" in caplog.text


def test_trusted_proxy_header_is_read_from_the_right(call, caplog):
    # the client wrote 127.0.0.2 itself; the proxy appended the real address
    result = call("127.0.0.3", *PROPFIND, "-H", "X-Forwarded-For: 127.0.0.2, 10.9.9.9")
    assert result.status == 401
    assert "accepted as portal" not in caplog.text


def test_gateway_names_the_end_user(call, caplog):
    put = call(
        "127.0.0.4", "-X", "PUT", "--data-binary", "x", "-H", "X-On-Behalf-Of: alice",
        path="/memory/for-alice.txt",
    )  # fmt: skip
    assert put.status in (201, 204)
    assert "127.0.0.4 PUT /memory/for-alice.txt accepted as alice by ipallow" in caplog.text


def test_gateway_without_the_header_acts_as_itself(call, caplog):
    assert call("127.0.0.4", *PROPFIND).status == 207
    assert "accepted as gwservice by ipallow" in caplog.text


def test_gateway_may_not_name_a_user_outside_its_list(call):
    result = call("127.0.0.4", *PROPFIND, "-H", "X-On-Behalf-Of: rods")
    assert result.status == 403
    assert b"may not act for rods" in result.body


def test_plain_listed_address_cannot_name_an_end_user(call, caplog):
    assert call("127.0.0.2", *PROPFIND, "-H", "X-On-Behalf-Of: alice").status == 207
    assert "accepted as portal by ipallow" in caplog.text
    assert "accepted as alice" not in caplog.text


def test_certificate_comes_first_in_the_chain(call, caplog):
    assert call("127.0.0.2", *PROPFIND, case="alice").status == 207
    assert "accepted as alice by x509" in caplog.text
