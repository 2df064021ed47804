"""litmus (Debian package ``litmus``), every suite, against the iRODS share as alice.

Skipped when litmus is missing, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess

from dav.test_litmus import SUITES


def test_litmus_passes_every_suite_without_warnings_on_the_irods_share(
    gw, gateway_process, require_tool, tmp_path
):
    litmus = require_tool("litmus")
    assert gw.request("MKCOL", "/irods/alice/litmus/").status == 201
    url = gateway_process.url("/irods/alice/litmus/")
    run = subprocess.run(
        [litmus, "-k", url, "alice", "alice"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TESTS": " ".join(SUITES)},
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
