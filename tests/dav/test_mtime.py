"""Modification times on the memory share beyond the shared sync suite
(tests/contract/dav_sync.py): sub-second times, and a backend that cannot set them."""

from __future__ import annotations

from davprovider.backend import Backend, Upload
from davprovider.memory import MemoryBackend, MemoryFactory, Options
from tests.helpers.client_sequences import WIN32_PATCH, rclone_proppatch


def test_x_oc_mtime_keeps_subsecond_precision_where_the_backend_does(gateway):
    gateway.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": "1500000000.25"})
    assert gateway.factories["/memory"].tree.find("/a.txt").modified == 1500000000.25


class NoMtimeBackend(MemoryBackend):
    """A backend that keeps the contract's defaults: set_mtime (NotImplementedError),
    and uploads that pin no mtime."""

    set_mtime = Backend.set_mtime

    def open_write(self, path, **options):
        upload = super().open_write(path, **options)
        upload.pin_mtime = Upload.pin_mtime.__get__(upload)
        return upload


class NoMtimeFactory(MemoryFactory):
    def __call__(self, identity):
        return NoMtimeBackend(self.tree)


def test_without_backend_mtime_put_still_works_and_proppatch_is_403(start_gateway, config):
    gw = start_gateway(config(), {"/memory": NoMtimeFactory(Options(users={"alice": "alice-pw"}))})
    reply = gw.put("/memory/a.txt", b"abc", headers={"X-OC-Mtime": "1500000000"})
    assert reply.status == 201 and reply.header("X-OC-Mtime") is None
    assert gw.get("/memory/a.txt").body == b"abc"
    patch = gw.request("PROPPATCH", "/memory/a.txt", rclone_proppatch(1600000000))
    assert patch.status == 207 and b"403 Forbidden" in patch.body
    win32 = WIN32_PATCH.replace(b"Mon, 01 Jan 2001 00:00:00 GMT", b"Wed, 27 Sep 2017 14:28:34 GMT")
    reply = gw.request("PROPPATCH", "/memory/a.txt", win32)
    assert reply.status == 207 and b"200 OK" in reply.body
    stored = gw.factories["/memory"].tree.find("/a.txt").meta
    assert stored["{urn:schemas-microsoft-com:}Win32LastModifiedTime"].startswith("Wed, 27 Sep")
