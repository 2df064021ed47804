"""Running litmus (Debian package ``litmus``) and judging its output, for every share's test."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

SUITES = ("basic", "copymove", "props", "locks", "http")


def assert_litmus_passes(
    argv: list[str], cwd: Path, allowed_skips: tuple[tuple[str, str], ...] = ()
) -> None:
    """Run ``litmus`` with ``argv`` (options, URL, credentials) over every suite and
    require 100% in each, no warnings, and no skipped test beyond ``allowed_skips``
    (pairs of test name and litmus's reason)."""
    run = subprocess.run(
        ["litmus", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TESTS": " ".join(SUITES)},
        cwd=cwd,  # litmus writes debug.log and child.log here
    )
    output = run.stdout + run.stderr
    summaries = dict(re.findall(r"summary for `(\w+)': of \d+ tests run: (.*)", output))
    assert set(summaries) == set(SUITES), output
    for suite, summary in summaries.items():
        assert summary.endswith("0 failed. 100.0%"), f"{suite}: {summary}\n{output}"
    assert "warning" not in output.lower(), output
    skipped = re.findall(r"^\s*\d+\. (\w+)\.+ SKIPPED(.*)$", output, re.MULTILINE)
    assert tuple(skipped) == allowed_skips, output
    assert run.returncode == 0, output
