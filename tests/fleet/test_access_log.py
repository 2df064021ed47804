"""The structured access log: JSON lines with the request id (the client's when sane,
else a new one, echoed), user, auth method, status, bytes, durations; no secrets."""

from __future__ import annotations

import json

from davprovider.server.requestlog import setup_access_log
from davprovider.settings import LoggingSettings
from tests.helpers.gateway import memory_config, running_gateway


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_lines_carry_the_request_and_no_secrets(tmp_path):
    log_file = tmp_path / "access.jsonl"
    config = memory_config(
        logging={"access_log": True, "access_format": "json", "access_file": str(log_file)}
    )
    try:
        with running_gateway(config) as gw:
            put = gw.put("/memory/a.txt?ticket=SECRET-T&authz=SECRET-Z", b"y" * 500)
            given = gw.get("/memory/a.txt", headers={"X-Request-ID": "lb-42.a:b"})
            refused = gw.get("/memory/a.txt", headers={"X-Request-ID": "bad id\x7f" * 3})
            wrong = gw.get("/memory/", user=("alice", "not-her-password"))
            gw.get("/.well-known/davprovider/health", user=None)
    finally:
        setup_access_log(LoggingSettings())  # back to text through the root logger
    assert put.status == 201 and given.status == 200 and wrong.status == 401
    assert given.header("x-request-id") == "lb-42.a:b"
    made = refused.header("x-request-id")
    assert made and made != "bad id" and len(made) == 16
    text = log_file.read_text()
    assert "SECRET" not in text and "alice-pw" not in text and "not-her-password" not in text
    assert "Basic " not in text and "health" not in text
    lines = read_lines(log_file)  # in the order the requests finished, which may differ
    assert sorted(line["status"] for line in lines) == ["200", "200", "201", "401"]
    by_id = {line["id"]: line for line in lines}
    first = next(line for line in lines if line["method"] == "PUT")
    assert first["path"] == "/memory/a.txt"
    assert first["user"] == "alice" and first["auth"] == "basic" and first["dn"] is None
    assert first["bytes_in"] == 500 and first["bytes_out"] >= 0
    assert first["duration_ms"] >= first["backend_ms"] > 0
    assert by_id["lb-42.a:b"]["bytes_out"] == 500 and by_id[made]["status"] == "200"
    unauthorized = next(line for line in lines if line["status"] == "401")
    assert unauthorized["user"] is None and unauthorized["auth"] is None
    assert {"time", "client", "id"} <= set(first)
