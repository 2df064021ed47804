"""The third-party copy's pieces without a network: marker blocks and streams, forwarded
headers, the source checksum picked for verification, URL checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from davprovider.dav.remote import RemoteError, check_url, headers_to_forward
from davprovider.dav.tpc import markers, perf_marker, source_expectations

BLOCK = re.compile(
    r"Perf Marker\n\tTimestamp: \d+\n\tStripe Index: 0\n\tStripe Bytes Transferred: 42\n"
    r"\tTotal Stripe Count: 1\nEnd\n"
)


def test_a_marker_block_is_what_davix_reads():
    assert BLOCK.fullmatch(perf_marker(42).decode())


def test_a_stream_starts_with_a_marker_and_ends_with_success():
    body = b"".join(markers(iter([10, 42]), 0.0, "test")).decode()
    assert body.startswith("Perf Marker\n") and body.endswith("End\nsuccess: Created\n")
    assert "Stripe Bytes Transferred: 42" in body


def test_a_failure_is_the_last_line_never_a_traceback():
    def failing() -> Iterator[int]:
        yield 5
        raise RemoteError("source answered 500 Internal Server Error")

    lines = b"".join(markers(failing(), 60.0, "test")).decode().splitlines()
    assert lines[-1] == "failure: source answered 500 Internal Server Error"

    def buggy() -> Iterator[int]:
        raise KeyError("secret internals")
        yield 0

    broken = b"".join(markers(buggy(), 60.0, "test")).decode()
    assert broken.splitlines()[-1] == "failure: internal error"


def test_transfer_headers_lose_their_prefix():
    environ = {
        "HTTP_TRANSFERHEADERAUTHORIZATION": "Bearer abc",
        "HTTP_TRANSFERHEADERX_TRACE_ID": "7",
        "HTTP_AUTHORIZATION": "Basic xyz",
    }
    assert headers_to_forward(environ) == {"Authorization": "Bearer abc", "X-Trace-Id": "7"}


def test_the_cheapest_offered_checksum_is_verified():
    offered = "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=,adler32=00000001"
    assert source_expectations(offered) == [("source Digest", "adler32", "00000001")]
    assert source_expectations("md5=1B2M2Y8AsgTpgAmY7PhCfg==") == [
        ("source Digest", "md5", "d41d8cd98f00b204e9800998ecf8427e")
    ]
    assert source_expectations("adler32=nothex!") == []
    assert source_expectations(None) == []


@pytest.mark.parametrize("url", ["ftp://h/x", "http:///x", "file:///etc/passwd", "x"])
def test_only_http_urls_with_a_host(url):
    with pytest.raises(ValueError):
        check_url(url)
    check_url("https://example.org:8443/a?b=c")
