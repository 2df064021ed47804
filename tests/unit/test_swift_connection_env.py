"""The Swift connection reads the environment's proxies and CA bundle once, for its
URL, as requests would on every request (``swift/pool.py``)."""

from __future__ import annotations

import pytest

from davprovider.swift.pool import Connection


def args_for(url: str, **options: object) -> dict[str, object]:
    conn = Connection(preauthurl=url, preauthtoken="t", retries=0, **options)  # type: ignore[arg-type]
    _, http = conn.http_connection(url)
    assert http.request_session.trust_env is False
    return dict(http.requests_args)


def test_a_proxy_from_the_environment_is_used_unless_no_proxy_names_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxies = args_for("http://swift.invalid:8080/v1/AUTH_a")["proxies"]
    assert proxies == {"http": "http://proxy.invalid:3128"}
    monkeypatch.setenv("NO_PROXY", "swift.invalid")
    assert not args_for("http://swift.invalid:8080/v1/AUTH_a")["proxies"]


def test_the_environments_ca_bundle_is_used_unless_one_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/site-ca.pem")
    assert args_for("https://swift.invalid/v1/AUTH_a")["verify"] == "/etc/site-ca.pem"
    configured = args_for("https://swift.invalid/v1/AUTH_a", cacert="/etc/swift-ca.pem")
    assert configured["verify"] == "/etc/swift-ca.pem"
    assert args_for("https://swift.invalid/v1/AUTH_a", insecure=True)["verify"] is False
