"""Dead property values <-> backend metadata text."""

from __future__ import annotations

from lxml import etree

from davprovider.dav.properties import SiblingMeta, decode_value, encode_value, is_dead


def element(xml: str):
    return etree.fromstring(xml)


def test_plain_text_property_is_stored_as_readable_text():
    assert encode_value(element('<z:c xmlns:z="urn:z">blue</z:c>')) == "blue"


def test_structured_property_is_stored_as_xml_and_round_trips():
    original = element('<z:c xmlns:z="urn:z" a="1"><z:b>x</z:b></z:c>')
    stored = encode_value(original)
    assert stored.startswith("<")
    back = decode_value("{urn:z}c", stored)
    assert etree.tostring(back) == etree.tostring(original)


def test_text_starting_with_angle_bracket_round_trips():
    original = element('<z:c xmlns:z="urn:z">&lt;not xml</z:c>')
    back = decode_value("{urn:z}c", encode_value(original))
    assert back.text == "<not xml"


def test_foreign_metadata_that_is_not_our_xml_reads_as_text():
    assert decode_value("{urn:z}c", "<broken").text == "<broken"
    assert decode_value("{urn:z}c", "<other>1</other>").text == "<other>1</other>"
    assert decode_value("{urn:z}c", "").text is None


def test_high_unicode_survives():
    original = element('<z:c xmlns:z="urn:z">\U0001f600 é</z:c>')
    assert decode_value("{urn:z}c", encode_value(original)).text == "\U0001f600 é"


def test_dav_and_win32_names_are_not_dead():
    assert is_dead("{urn:z}c") and is_dead("nonamespace")
    assert not is_dead("{DAV:}getetag")
    assert not is_dead("{urn:schemas-microsoft-com:}Win32LastModifiedTime")


def test_sibling_meta_fetches_once_for_all_members():
    calls = []

    def fetch(names):
        calls.append(list(names))
        return {"a": {"k": "1"}}

    batch = SiblingMeta(fetch)
    load_a, load_b = batch.loader("a"), batch.loader("b")
    assert load_b() == {}
    assert load_a() == {"k": "1"}
    assert calls == [["a", "b"]]
