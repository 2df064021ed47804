"""``dir_browser: false``: a browser's GET of a folder is a short 403 (no library internals);
WebDAV clients are unaffected."""

from tests.helpers.gateway import memory_config, running_gateway


def test_folder_pages_turned_off_answer_a_short_403():
    with running_gateway(memory_config(dir_browser=False)) as gw:
        reply = gw.get("/memory/")
        assert reply.status == 403
        assert reply.body == b"403 Forbidden: folder pages are turned off on this server\n"
        assert gw.request("PROPFIND", "/memory/", headers={"Depth": "1"}).status == 207
        assert gw.request("POST", "/memory/", b"x").status == 405
