"""The README's curl examples, run as written against the demo's layout.

The zone is seeded by the demo's own seeding (``python -m localgrid up``), and the gateway
runs with the demo's share layout; only the URL's port differs from the README's.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from localgrid.__main__ import seed_irods
from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import GatewayProcess, gateway_config, start_gateway

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- curl-examples:begin -->\s*```sh\n(.*?)```", re.S)


def readme_curl_lines() -> list[str]:
    match = BLOCK.search((ROOT / "README.md").read_text())
    assert match, "README.md lost its curl-examples block"
    return [line for line in match.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def demo_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[GatewayProcess]:
    with LocalZone(tmp_path_factory.mktemp("demo-zone")) as zone:
        seed_irods(zone)
        running = start_gateway(gateway_config(zone.port), tmp_path_factory.mktemp("demo-gw"))
        try:
            yield running
        finally:
            running.stop()


def test_readme_curl_examples_all_succeed(demo_gateway: GatewayProcess) -> None:
    lines = readme_curl_lines()
    assert lines[0].startswith("DAV=http://127.0.0.1:8080/irods")
    script = "\n".join(["set -e", f"DAV=http://127.0.0.1:{demo_gateway.port}/irods", *lines[1:]])
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr + demo_gateway.log_tail()
    assert "Welcome to the davprovider demo" in result.stdout
    assert "Readable by alice and bob" in result.stdout
