"""How many iRODS requests a small file costs through the gateway, verb by verb.

Same in-process gateway and wire count as test_irods_backend_calls.py
(tests/irods/conftest.py). The figures are the floor of each operation: a PUT is one
lookup of the target (object; collection with its parent; an overwrite under way),
the open, the bytes, the close, the temporary object's row, its digests and the
rename; rows already read in the request are not asked again (``irods/memo.py``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tests.helpers.irods_gateway import GENQUERY

OPEN, CLOSE, READ, WRITE, SEEK = 602, 673, 675, 676, 674
RENAME, UNLINK, COLL_CREATE, ATOMIC_AVUS = 627, 615, 681, 20002
LOGIN = 110000  # a new pooled connection's authentication: not the operation's cost
FRESH = {"Cache-Control": "no-cache"}  # past the listing cache: the backend's own cost


def spent(calls: Counter[int]) -> Counter[int]:
    return Counter({api: n for api, n in calls.items() if api != LOGIN})


@pytest.fixture
def folder(counted_gw: Any) -> str:
    path = f"/irods/alice/small-{uuid.uuid4().hex[:8]}/"
    assert counted_gw.request("MKCOL", path).status == 201
    return path


def test_mkcol_costs_three_lookups_and_the_create(counted_gw: Any, api_calls: Counter[int]) -> None:
    reply = counted_gw.request("MKCOL", f"/irods/alice/small-{uuid.uuid4().hex[:8]}/")

    assert reply.status == 201
    assert spent(api_calls) == {GENQUERY: 3, COLL_CREATE: 1}, api_calls


def test_new_small_put_costs_nine_requests(
    counted_gw: Any, api_calls: Counter[int], folder: str
) -> None:
    api_calls.clear()
    reply = counted_gw.put(folder + "new.bin", b"n" * 4096)

    assert reply.status == 201
    # target: object, collection + parent, overwrite under way; commit: the temp's row
    assert spent(api_calls) == {
        GENQUERY: 4, OPEN: 1, WRITE: 1, CLOSE: 1, ATOMIC_AVUS: 1, RENAME: 1,
    }, api_calls  # fmt: skip
    assert OPEN in api_calls and SEEK not in api_calls  # no 403-vs-404 probe, no seeks


def test_small_overwrite_costs_ten_requests(
    counted_gw: Any, api_calls: Counter[int], folder: str
) -> None:
    assert counted_gw.put(folder + "old.bin", b"o" * 4096).status == 201
    api_calls.clear()

    reply = counted_gw.put(folder + "old.bin", b"p" * 4096)

    assert reply.status == 204
    # target row (with its parent's), the temp's row, the old object's dead properties;
    # aside, in, old one removed
    assert spent(api_calls) == {
        GENQUERY: 3, OPEN: 1, WRITE: 1, CLOSE: 1, ATOMIC_AVUS: 1, RENAME: 2, UNLINK: 1,
    }, api_calls  # fmt: skip


def test_small_get_costs_one_lookup_and_one_read(
    counted_gw: Any, api_calls: Counter[int], folder: str
) -> None:
    assert counted_gw.put(folder + "g.bin", b"g" * 4096).status == 201
    api_calls.clear()

    reply = counted_gw.get(folder + "g.bin", headers=FRESH)

    assert reply.status == 200 and reply.body == b"g" * 4096
    assert spent(api_calls) == {GENQUERY: 1, OPEN: 1, READ: 1, CLOSE: 1}, api_calls


def test_get_miss_still_tells_403_from_404(
    counted_gw: Any, api_calls: Counter[int], folder: str
) -> None:
    reply = counted_gw.get(folder + "absent.bin")

    assert reply.status == 404
    assert api_calls[OPEN] == 1, api_calls  # the probe for an object GenQuery hides


def test_propfind_depth_0_of_a_file_costs_two_genqueries(
    counted_gw: Any, api_calls: Counter[int], folder: str
) -> None:
    assert counted_gw.put(folder + "p.bin", b"p" * 4096).status == 201
    api_calls.clear()

    reply = counted_gw.request("PROPFIND", folder + "p.bin", headers={"Depth": "0", **FRESH})

    assert reply.status == 207
    assert spent(api_calls) == {GENQUERY: 2}, api_calls  # its row, its dead properties


def test_put_over_an_object_the_caller_cannot_see_is_refused_and_changes_nothing(
    counted_gw: Any, listed_zone: Any
) -> None:
    """The target lookup of a PUT does not probe for hidden objects: the rename at
    commit meets it, and the upload is refused and removed."""
    from irods.access import iRODSAccess

    folder = f"/tempZone/home/bob/drop-{uuid.uuid4().hex[:8]}"
    with listed_zone.session("bob", "bob") as bob:
        bob.collections.create(folder)
        bob.acls.set(iRODSAccess("own", folder, "alice"))
        with bob.data_objects.open(f"{folder}/hidden.txt", "w") as handle:
            handle.write(b"bob's")
        bob.acls.set(iRODSAccess("null", f"{folder}/hidden.txt", "alice"))

    path = "/irods" + folder.removeprefix("/tempZone/home") + "/hidden.txt"
    assert counted_gw.get(path).status == 403  # hidden from GenQuery, found by the probe

    reply = counted_gw.put(path, b"x")

    assert reply.status == 403
    with listed_zone.session("bob", "bob") as bob:
        names = [o.name for o in bob.collections.get(folder).data_objects]
        with bob.data_objects.open(f"{folder}/hidden.txt", "r") as handle:
            assert handle.read() == b"bob's"
    assert names == ["hidden.txt"]


def test_new_small_puts_one_after_another_cost_six_requests(
    counted_gw: Any, api_calls: Counter[int], folder: str
) -> None:
    """The second new name lists the folder (``dav/cache.py``); from then on a name
    the listing lacks is written with no lookup of the target or its parent: the
    open, the bytes, the close, the temporary object's row, its digests, the rename."""
    costs = []
    for index in range(4):
        api_calls.clear()
        assert counted_gw.put(folder + f"n{index}.bin", b"n" * 4096).status == 201
        costs.append(spent(api_calls))
    alone = {GENQUERY: 1, OPEN: 1, WRITE: 1, CLOSE: 1, ATOMIC_AVUS: 1, RENAME: 1}
    assert costs[2:] == [alone, alone], costs
