"""``davprovider check-config | version | serve``."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

from davprovider.cli import main


def test_check_config_accepts_a_valid_file(tmp_path, capsys):
    path = tmp_path / "ok.yaml"
    path.write_text("shares:\n  - {path: /memory, backend: memory}\n")
    assert main(["check-config", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_check_config_fails_naming_key_and_file(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("shares:\n  - {path: /memory, backend: memory, colour: red}\n")
    assert main(["check-config", str(path)]) != 0
    err = capsys.readouterr().err
    assert str(path) in err and "shares[0].colour" in err


def test_version_prints_versions(capsys):
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert "davprovider" in out and "wsgidav" in out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_logs_requests_without_passwords(tmp_path):
    config = tmp_path / "site.yaml"
    config.write_text(
        "shares:\n  - path: /memory\n    backend: memory\n"
        "    options: {users: {alice: sekrit-pw}}\n"
    )
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "davprovider",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        status = None
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request(
                    "GET", "/memory/", headers={"Authorization": "Basic YWxpY2U6c2Vrcml0LXB3"}
                )
                status = conn.getresponse().status
                conn.close()
                break
            except OSError:
                time.sleep(0.05)
        assert status == 200
    finally:
        process.terminate()
        try:
            _, log = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # a server that does not stop must not outlive the test
            process.communicate()
            raise
    assert process.returncode == 0
    assert '127.0.0.1 alice "GET /memory/" 200' in log
    assert "sekrit" not in log


def test_sigterm_right_after_a_request_always_stops_the_server(tmp_path):
    """The stop must not depend on where in cheroot's loop the signal lands (it used to
    hang about one time in five: a worker kept waiting for its shutdown request)."""
    config = tmp_path / "site.yaml"
    config.write_text("shares:\n  - path: /m\n    backend: memory\n    options: {users: {a: b}}\n")
    for _ in range(8):
        port = free_port()
        command = [sys.executable, "-m", "davprovider", "serve", "--config", str(config),
                   "--port", str(port)]  # fmt: skip
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/m/", headers={"Authorization": "Basic YTpi"})
                    assert conn.getresponse().status == 200
                    conn.close()
                    break
                except OSError:
                    time.sleep(0.05)
            process.terminate()
            assert process.wait(timeout=8) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
