import time
def test_smoke(gw, gateway_process, require_tool):
    t = time.monotonic()
    print(gw.request("OPTIONS", "/irods/").headers)
    r = gw.request("GET", "/irods/alice/notes.txt"); print(r.status, r.body)
    r = gw.request("GET", "/irods/bob/secret.txt"); print(r.status, r.body[:300])
    r = gw.request("PROPFIND", "/irods/bob/", headers={"Depth": "1"}); print(r.status, r.body[:300])
    r = gw.request("GET", "/irods/shared/readme.txt"); print(r.status, r.body)
    print(time.monotonic() - t)
    print(require_tool("litmus"))
    print(gateway_process.log_tail())
