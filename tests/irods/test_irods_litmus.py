"""litmus (Debian package ``litmus``), every suite, against the iRODS share as alice.

Skipped when litmus is missing, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

from tests.helpers.litmus_run import assert_litmus_passes


def test_litmus_passes_every_suite_without_warnings_on_the_irods_share(
    gw, gateway_process, require_tool, tmp_path
):
    require_tool("litmus")
    assert gw.request("MKCOL", "/irods/alice/litmus/").status == 201
    url = gateway_process.url("/irods/alice/litmus/")
    assert_litmus_passes(["-k", url, "alice", "alice"], tmp_path)
