"""The VOMS map file: parsing, FQAN normalisation, first match, wildcards; config checks."""

from __future__ import annotations

import pytest

from auth.voms import mapped_user, normal_fqan, parse_map
from davprovider.schema import ConfigError
from davprovider.settings import settings_from_mapping

MAP = """# VO roles
"/atlas/Role=production" atlasprod
/atlas/higgs atlashiggs
"/atlas/*" atlasuser
"""


def test_fqans_lose_null_role_and_capability():
    assert normal_fqan("/atlas/higgs/Role=NULL/Capability=NULL") == "/atlas/higgs"
    assert normal_fqan("/atlas/Role=production/Capability=NULL") == "/atlas/Role=production"


def test_the_first_fqan_an_entry_matches_gives_the_user():
    entries = parse_map(MAP, "map")
    assert mapped_user(entries, ("/atlas/Role=production", "/atlas")) == "atlasprod"
    assert mapped_user(entries, ("/atlas/higgs/Role=NULL/Capability=NULL",)) == "atlashiggs"
    assert mapped_user(entries, ("/atlas/top/Role=lcgadmin",)) == "atlasuser"
    assert mapped_user(entries, ("/atlas",)) == "atlasuser"
    assert mapped_user(entries, ("/cms/Role=production", "/atlasx")) is None


@pytest.mark.parametrize("line", ['"/atlas" bad user!', "atlas user", '"/atlas"', '"/a b" x y'])
def test_a_bad_line_is_named(line):
    with pytest.raises(ValueError, match="map:1"):
        parse_map(line + "\n", "map")


def test_a_voms_chain_needs_client_certificates_and_a_map_file(tmp_path):
    shares = [{"path": "/m", "backend": "memory"}]
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({"shares": shares, "auth": {"chain": ["voms"]}}, source="s.yaml")
    assert caught.value.keypath == "tls.client_certificates"
