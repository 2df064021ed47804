"""The gateway's own tokens in the grid's copy workflow (gfal2's defaults), on a memory
share: a third-party copy is allowed as what it does to the request's path (pull: a
write; push: a read), and the folders above a token's path may be stat'ed, not listed
(gfal2 checks a copy's target folder with the target file's token)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.gateway import Gateway, memory_config, running_gateway
from tests.helpers.tokens import bearer, key_file, token


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    keys = [key_file(tmp_path_factory.mktemp("grid-copy-keys"))]
    config = memory_config(auth={"chain": ["bearer", "basic"]}, bearer={"keys": keys})
    config["tpc"] = {"marker_interval": 0.2}
    with running_gateway(config) as running:
        assert running.request("MKCOL", "/memory/data").status == 201
        assert running.request("MKCOL", "/memory/data/sub").status == 201
        assert running.put("/memory/data/a.txt", b"hello").status == 201
        assert running.request("MKCOL", "/memory/other").status == 201
        yield running


def stat(gw: Gateway, path: str, value: str, depth: str = "0") -> int:
    headers = {**bearer(value), "Depth": depth}
    return gw.request("PROPFIND", path, headers=headers, user=None).status


def test_folders_above_the_token_path_can_be_stated_not_listed(gw):
    value = token(gw, "/memory/data/sub/new.bin", "activity:UPLOAD,DOWNLOAD")
    assert stat(gw, "/memory/data/sub", value) == 207
    assert stat(gw, "/memory/data", value) == 207
    assert gw.request("HEAD", "/memory/data", headers=bearer(value), user=None).status == 200
    assert stat(gw, "/memory/data", value, depth="1") == 403
    assert stat(gw, "/memory/other", value) == 403
    assert stat(gw, "/memory/data/a.txt", value) == 403  # a sibling, not above
    assert gw.get("/memory/data/a.txt", headers=bearer(value), user=None).status == 403


def test_pull_needs_a_write_token_for_the_target(gw):
    source = token(gw, "/memory/data/a.txt", "activity:DOWNLOAD")
    target = token(gw, "/memory/data/sub/pulled.txt", "activity:UPLOAD")
    headers = {
        **bearer(target),
        "Source": f"http://{gw.host}:{gw.port}/memory/data/a.txt",
        "Credential": "none",
        "TransferHeaderAuthorization": f"Bearer {source}",
    }
    reply = gw.request("COPY", "/memory/data/sub/pulled.txt", headers=headers, user=None)
    assert reply.status == 202 and reply.body.endswith(b"success: Created\n"), reply.body
    assert gw.get("/memory/data/sub/pulled.txt").body == b"hello"
    headers |= bearer(source)  # a read token cannot write the target
    refused = gw.request("COPY", "/memory/data/a.txt", headers=headers, user=None)
    assert refused.status == 403 and b"COPY needs UPLOAD" in refused.body


def test_push_needs_a_read_token_for_the_source(gw):
    source = token(gw, "/memory/data/a.txt", "activity:DOWNLOAD")
    target = token(gw, "/memory/data/sub/pushed.txt", "activity:UPLOAD")
    headers = {
        **bearer(source),
        "Destination": f"http://localhost:{gw.port}/memory/data/sub/pushed.txt",
        "Credential": "none",
        "TransferHeaderAuthorization": f"Bearer {target}",
    }
    reply = gw.request("COPY", "/memory/data/a.txt", headers=headers, user=None)
    assert reply.status == 202 and reply.body.endswith(b"success: Created\n"), reply.body
    assert gw.get("/memory/data/sub/pushed.txt").body == b"hello"
    headers |= bearer(target)  # an upload token for another file cannot read this one
    assert gw.request("COPY", "/memory/data/a.txt", headers=headers, user=None).status == 403
