"""The identity computed from a verified chain (davprovider/certchain.py): DN forms and
escaping, and the RFC 3820 rules checked by us as well as by OpenSSL."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from auth.certchain import (
    DNError,
    analyse_chain,
    name_parts,
    oneline_dn,
    parse_dn,
    slash_dn,
)
from localgrid import pki


@pytest.fixture(scope="module")
def ca():
    return pki.make_ca(pki.name(("O", "Test"), ("CN", "CA")))


@pytest.fixture(scope="module")
def alice(ca):
    return pki.issue_user(ca, pki.name(("O", "Test"), ("OU", "Lab"), ("CN", "Alice Smith")))


def der_chain(issued, ca):
    certs = [issued.cert, *issued.chain, ca.cert]
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]


# --- DN forms ------------------------------------------------------------------------------


def test_subject_in_rfc4514_and_slash_form(alice, ca):
    peer = analyse_chain(der_chain(alice, ca))
    assert peer.subject == "CN=Alice Smith,OU=Lab,O=Test"
    assert peer.subject_slash == "/O=Test/OU=Lab/CN=Alice Smith"
    assert peer.issuer == "CN=CA,O=Test"
    assert peer.serial == format(alice.cert.serial_number, "X")
    assert peer.not_after == alice.cert.not_valid_after_utc
    assert (peer.proxy, peer.proxy_depth, peer.problem) == (False, 0, None)


@pytest.mark.parametrize(
    ("cn", "slash", "rfc4514"),
    [
        ("Eve,O=Admin", "/O=Test/CN=Eve,O=Admin", "CN=Eve\\,O=Admin,O=Test"),
        ("Eve/O=Admin", "/O=Test/CN=Eve\\/O=Admin", "CN=Eve/O=Admin,O=Test"),
        ("back\\slash", "/O=Test/CN=back\\\\slash", "CN=back\\\\slash,O=Test"),
    ],
)
def test_special_characters_are_escaped_in_both_forms(ca, cn, slash, rfc4514):
    issued = pki.issue_user(ca, pki.name(("O", "Test"), ("CN", cn)))
    peer = analyse_chain(der_chain(issued, ca))
    assert peer.subject_slash == slash
    assert peer.subject == rfc4514
    assert parse_dn(peer.subject_slash) == peer.parts == parse_dn(peer.subject)


def test_cn_holding_rdns_never_equals_the_longer_name():
    tricky = (("O", "Test"), ("CN", "Eve/O=Admin"))
    assert oneline_dn(tricky) == "/O=Test/CN=Eve/O=Admin"  # textually the same ...
    assert parse_dn("/O=Test/CN=Eve/O=Admin") == (("O", "Test"), ("CN", "Eve"), ("O", "Admin"))
    assert parse_dn(oneline_dn(tricky)) != tricky  # ... but not as a name
    assert parse_dn(slash_dn(tricky)) == tricky


def test_globus_continuation_keeps_a_slash_inside_a_value():
    assert parse_dn("/O=Grid/CN=ldap/host.example.org") == (
        ("O", "Grid"),
        ("CN", "ldap/host.example.org"),
    )


def test_attribute_aliases_and_case_are_normalised():
    assert parse_dn("/o=Grid/Email=a@b.c/USERID=x") == (
        ("O", "Grid"),
        ("emailAddress", "a@b.c"),
        ("UID", "x"),
    )


def test_rfc4514_input_is_read_in_slash_order():
    assert parse_dn("CN=Alice,OU=Lab,O=Grid") == (("O", "Grid"), ("OU", "Lab"), ("CN", "Alice"))


@pytest.mark.parametrize("text", ["", "O=Grid,", "/noattr", "/O=Grid\\", "==="])
def test_unreadable_dns_raise(text):
    with pytest.raises(DNError):
        parse_dn(text)


def test_name_parts_keep_unknown_attributes_as_oids():
    oid = x509.ObjectIdentifier("1.2.3.4")
    name = x509.Name([x509.NameAttribute(oid, "v")])
    assert name_parts(name) == (("1.2.3.4", "v"),)
    assert parse_dn("/1.2.3.4=v") == (("1.2.3.4", "v"),)


# --- proxies ------------------------------------------------------------------------------


def test_proxy_identity_is_the_end_entity(alice, ca):
    proxy = pki.issue_proxy(alice)
    peer = analyse_chain(der_chain(proxy, ca))
    assert peer.subject == "CN=Alice Smith,OU=Lab,O=Test"
    assert (peer.proxy, peer.proxy_depth, peer.limited, peer.problem) == (True, 1, False, None)
    assert peer.expires == proxy.cert.not_valid_after_utc < peer.not_after


def test_proxy_of_proxy_counts_depth(alice, ca):
    chain = pki.issue_proxy(pki.issue_proxy(alice, pathlen=1))
    peer = analyse_chain(der_chain(chain, ca))
    assert (peer.proxy_depth, peer.problem) == (2, None)


def test_proxy_breaking_the_naming_rule_has_a_problem(alice, ca):
    bad = pki.issue_proxy(alice, subject=pki.name(("O", "Test"), ("CN", "Admin"), ("CN", "9")))
    assert "naming rule" in analyse_chain(der_chain(bad, ca)).problem


def test_proxy_adding_a_non_cn_rdn_has_a_problem(alice, ca):
    subject = x509.Name(
        [*alice.subject.rdns, x509.RelativeDistinguishedName([pki._attr("O", "X")])]
    )
    bad = pki.issue_proxy(alice, subject=subject)
    assert "naming rule" in analyse_chain(der_chain(bad, ca)).problem


def test_proxy_past_its_path_length_has_a_problem(alice, ca):
    chain = pki.issue_proxy(pki.issue_proxy(alice, pathlen=0))
    assert "path length exceeded" in analyse_chain(der_chain(chain, ca)).problem


def test_independent_proxy_has_a_problem(alice, ca):
    proxy = pki.issue_proxy(alice, policy=pki.INDEPENDENT)
    assert "independent" in analyse_chain(der_chain(proxy, ca)).problem


def test_limited_proxy_is_flagged_and_refusable(alice, ca):
    chain = der_chain(pki.issue_proxy(alice, policy=pki.LIMITED), ca)
    assert analyse_chain(chain).limited
    assert "limited" in analyse_chain(chain, accept_limited=False).problem


def test_a_ca_certificate_is_no_end_entity(ca):
    peer = analyse_chain([ca.cert.public_bytes(serialization.Encoding.DER)])
    assert "CA certificate" in peer.problem


def test_no_chain_is_no_peer():
    assert analyse_chain([]) is None


def test_proxy_cert_info_round_trips():
    from auth.certchain import _parse_proxy_cert_info

    info = _parse_proxy_cert_info(pki.proxy_cert_info(300, pki.LIMITED))
    assert (info.pathlen, info.policy) == (300, pki.LIMITED)
    assert _parse_proxy_cert_info(pki.proxy_cert_info(None, pki.INHERIT_ALL)).pathlen is None
    with pytest.raises(ValueError):
        _parse_proxy_cert_info(b"\x30\x05\x02")


def test_expiry_is_the_earliest_in_the_chain(ca):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    user = pki.issue_user(ca, pki.name(("CN", "Short")), not_after=soon.replace(microsecond=0))
    peer = analyse_chain(der_chain(user, ca))
    assert peer.expires == peer.not_after == soon.replace(microsecond=0)
