"""litmus (Debian package ``litmus``), every suite, against a memory share.

Skipped when litmus is not installed, except in CI (``CI=true``), where a
missing litmus is a failure.
"""

from __future__ import annotations

from tests.helpers.external_tools import require_tool
from tests.helpers.litmus_run import SUITES, assert_litmus_passes

__all__ = ["SUITES"]


def test_litmus_passes_every_suite_without_warnings(gateway, tmp_path):
    require_tool("litmus")
    url = f"http://{gateway.host}:{gateway.port}/memory/"
    assert_litmus_passes(["-k", url, "alice", "alice-pw"], tmp_path)
