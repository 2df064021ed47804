"""Per-object metadata bounds, checked before any write (issue 18): Swift's limits are a
507 (``OSError(ENOSPC)``), a name no store can hold a 400 (``ValueError``); the test
Swift declares lower constraints where its filesystem holds less than production."""

from __future__ import annotations

import errno

import pytest
from swiftclient.exceptions import ClientException

from davprovider.irods.avus import check_dead
from davprovider.swift.errors import translate
from davprovider.swift.names import MetaLimits, check_limits, meta_headers
from localgrid.swift import PRODUCTION_METADATA, constraints_for

LIMITS = MetaLimits()  # Swift's defaults: 90 items, 4096 bytes, values of 256, names of 128


def test_swift_metadata_over_count_or_size_is_no_space() -> None:
    for meta in (
        {f"dav-p{i}": "v" for i in range(91)},
        {f"dav-p{i}": "v" * 250 for i in range(17)},
    ):
        with pytest.raises(OSError) as refused:
            check_limits(meta, LIMITS, "/o")
        assert refused.value.errno == errno.ENOSPC


def test_swift_metadata_within_limits_passes() -> None:
    check_limits(
        meta_headers({f"{{urn:z}}p{i}": "v" * 200 for i in range(15)}, LIMITS), LIMITS, "/o"
    )


def test_a_property_name_swift_cannot_hold_is_bad_input() -> None:
    with pytest.raises(ValueError):
        meta_headers({"{urn:z}" + "n" * 200: "x"}, LIMITS)


def test_irods_names_and_values_are_checked_before_writing() -> None:
    check_dead({"{urn:z}a": "v", "{urn:z}gone": None})
    with pytest.raises(ValueError):
        check_dead({"{urn:z}" + "n" * 3000: "v"})
    with pytest.raises(OSError) as refused:
        check_dead({"{urn:z}a": "v" * 3000})
    assert refused.value.errno == errno.ENOSPC


def test_swift_busy_and_full_are_503_and_507() -> None:
    busy = translate(ClientException("busy", http_status=503), "/x")
    full = translate(ClientException("full", http_status=507), "/x")
    assert isinstance(busy, OSError) and busy.errno == errno.EAGAIN
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC


def test_test_swift_lowers_constraints_only_below_production_capacity() -> None:
    assert constraints_for(PRODUCTION_METADATA) == {}
    ext4 = constraints_for(4028)  # what one ext4 xattr holds besides the checksum
    assert ext4["max_meta_count"] == 16 and ext4["max_meta_overall_size"] <= 2048
    pickled_worst = 1100 + ext4["max_meta_overall_size"] + 60 * ext4["max_meta_count"]
    assert pickled_worst <= 4028
