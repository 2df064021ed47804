"""litmus (Debian package ``litmus``), every suite, against a memory share.

Skipped when litmus is not installed, except in CI (``CI=true``), where a
missing litmus is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

SUITES = ("basic", "copymove", "props", "locks", "http")


@pytest.fixture
def litmus() -> str:
    path = shutil.which("litmus")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("litmus is not installed (apt-get install litmus)")
        pytest.skip("litmus is not installed")
    return path


def test_litmus_passes_every_suite_without_warnings(litmus, gateway, tmp_path):
    url = f"http://{gateway.host}:{gateway.port}/memory/"
    env = {**os.environ, "TESTS": " ".join(SUITES)}
    run = subprocess.run(
        [litmus, "-k", url, "alice", "alice-pw"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,  # litmus writes debug.log and child.log here
    )
    output = run.stdout + run.stderr
    summaries = dict(re.findall(r"summary for `(\w+)': of \d+ tests run: (.*)", output))
    assert set(summaries) == set(SUITES), output
    for suite, summary in summaries.items():
        assert summary.endswith("0 failed. 100.0%"), f"{suite}: {summary}\n{output}"
    assert "warning" not in output.lower(), output
    assert "skipped" not in output.lower(), output
    assert run.returncode == 0, output
