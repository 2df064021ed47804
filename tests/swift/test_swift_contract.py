"""The Swift backend passes the shared storage contract, against a real Swift."""

from __future__ import annotations

from tests.contract.backend_contract import BackendContract


class TestSwiftBackend(BackendContract):
    """Share root = one fresh container (``options.container``) per test."""
