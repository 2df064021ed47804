"""The README's "Clients" curl lines, run as written against the demo's layout."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from localgrid.__main__ import seed_irods
from localgrid.irods import LocalZone
from tests.helpers.irods_gateway import GatewayProcess, gateway_config, start_gateway

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- curl-clients:begin -->\s*```sh\n(.*?)```", re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalZone, GatewayProcess]]:
    with LocalZone(tmp_path_factory.mktemp("clients-zone")) as zone:
        seed_irods(zone)
        running = start_gateway(gateway_config(zone.port), tmp_path_factory.mktemp("clients-gw"))
        try:
            yield zone, running
        finally:
            running.stop()


def test_readme_client_examples_run_and_show_each_dialect(demo) -> None:
    zone, gateway = demo
    match = BLOCK.search((ROOT / "README.md").read_text())
    assert match, "README.md lost its curl-clients block"
    lines = match.group(1).splitlines()
    assert lines[0] == "DAV=http://127.0.0.1:8080/irods"
    script = "\n".join(["set -e", f"DAV=http://127.0.0.1:{gateway.port}/irods", *lines[1:]])

    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr + gateway.log_tail()
    readme = (ROOT / "README.md").read_bytes()
    sha256 = base64.b64encode(hashlib.sha256(readme).digest()).decode()
    out = result.stdout
    assert "wrong checksum: 400\n" in out
    assert f"Digest: sha-256={sha256}," in out
    assert f"Repr-Digest: sha-256=:{sha256}:" in out
    assert f"MD5:{hashlib.md5(readme).hexdigest()}" in out
    assert "Last-Modified: Sun, 13 Sep 2020 12:26:40 GMT" in out
    with zone.session("alice", "alice") as alice:
        obj = alice.data_objects.get(f"/{zone.zone}/home/alice/synced.md")
        assert obj.modify_time.replace(tzinfo=UTC).timestamp() == 1600000000
        assert not alice.data_objects.exists(f"/{zone.zone}/home/alice/refused.md")
