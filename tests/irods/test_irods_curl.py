"""curl against the iRODS share, where curl's own behaviour matters: ``Expect:
100-continue`` on uploads above 1 MiB, byte ranges, and resumed downloads."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.helpers.irods_gateway import read_object

MiB = 1 << 20


@pytest.fixture
def curl(require_tool):
    """``curl(*args)`` -> CompletedProcess (text), curl's path from require_tool."""
    path = require_tool("curl")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [path, "-sS", *args], capture_output=True, text=True, timeout=60, check=False
        )

    return run


def test_curl_upload_above_1_mib_waits_for_continue_and_is_stored_whole(
    curl, gateway_process, workdir, rods, irods_path, tmp_path
):
    data = os.urandom(3 * MiB)
    (tmp_path / "up.bin").write_bytes(data)
    url = gateway_process.url(workdir + "up.bin")
    run = curl("-v", "-u", "alice:alice", "-T", str(tmp_path / "up.bin"), "-w", "%{http_code}", url)
    assert run.stdout.endswith("201"), run.stdout + run.stderr
    assert "> Expect: 100-continue" in run.stderr
    assert "< HTTP/1.1 100 Continue" in run.stderr
    assert read_object(rods, irods_path(workdir + "up.bin")) == data


def test_curl_unauthenticated_upload_gets_401_before_sending_the_body(
    curl, gateway_process, workdir, tmp_path
):
    (tmp_path / "big.bin").write_bytes(b"\0" * (64 * MiB))
    url = gateway_process.url(workdir + "big.bin")
    started = time.monotonic()
    run = curl("-T", str(tmp_path / "big.bin"), "-w", "%{http_code} %{size_upload}", "-o",
               os.devnull, url)  # fmt: skip
    code, uploaded = run.stdout.split()
    assert code == "401", run.stderr
    assert int(float(uploaded)) < MiB, f"curl sent {uploaded} bytes of a refused body"
    assert time.monotonic() - started < 5


def test_curl_range_and_resumed_download_match_the_object(
    curl, gw, gateway_process, workdir, tmp_path
):
    data = os.urandom(2 * MiB + 123)
    assert gw.put(workdir + "down.bin", data).status == 201
    url = gateway_process.url(workdir + "down.bin")
    part = curl("-u", "alice:alice", "-r", "1000-1999", "-o", str(tmp_path / "part"), url)
    assert part.returncode == 0, part.stderr
    assert (tmp_path / "part").read_bytes() == data[1000:2000]
    out = tmp_path / "down.bin"
    out.write_bytes(data[: MiB + 7])  # an interrupted earlier download
    resumed = curl("-u", "alice:alice", "-C", "-", "-o", str(out), "-w", "%{http_code}", url)
    assert resumed.stdout == "206", resumed.stderr
    assert out.read_bytes() == data


def test_curl_fail_reports_401_for_a_wrong_password(curl, gateway_process):
    run = curl("--fail", "-u", "alice:wrong", gateway_process.url("/irods/alice/notes.txt"))
    assert run.returncode == 22
    assert "401" in run.stderr
