"""GenQuery as PRC writes it: conditions, limit/first/one, offset, ordering, aggregates, paging."""

from __future__ import annotations

import pytest
from irods import client_configuration
from irods.column import Criterion, In, Like
from irods.exception import MultipleResultsFound, NoResultFound
from irods.models import Collection, DataObject

BASE = "/tempZone/home/rods/queries"
# name -> size; the sizes are chosen so that comparing them as text would give other answers.
TOP = {"f01": 5, "f02": 50, "f03": 500, "f04": 1000, "f05": 9}
X1 = {"a.txt": 3, "b.txt": 30}
X2 = {"c.txt": 300}
Y = {"d.txt": 7}


@pytest.fixture(scope="module")
def tree(irods_zone):
    """BASE holds five objects; BASE/x1, BASE/x2 and BASE/y hold a few more."""
    with irods_zone.session() as session:
        for coll, objects in (
            (BASE, TOP),
            (f"{BASE}/x1", X1),
            (f"{BASE}/x2", X2),
            (f"{BASE}/y", Y),
        ):
            session.collections.create(coll)
            for name, size in objects.items():
                with session.data_objects.open(f"{coll}/{name}", "w") as f:
                    f.write(b"z" * size)
    return BASE


def _names(rows) -> list[str]:
    return [r[DataObject.name] for r in rows]


def test_equal_condition_on_collection(rods, tree):
    rows = rods.query(DataObject.name, DataObject.size).filter(Collection.name == tree)

    assert {r[DataObject.name]: r[DataObject.size] for r in rows} == TOP


def test_not_equal_condition(rods, tree):
    rows = rods.query(DataObject.name).filter(Collection.name == tree, DataObject.name != "f01")

    assert sorted(_names(rows)) == ["f02", "f03", "f04", "f05"]


def test_like_condition_on_collection_name(rods, tree):
    rows = rods.query(DataObject.name, DataObject.size).filter(
        Criterion("like", Collection.name, f"{tree}/x%")
    )

    assert sorted(_names(rows)) == ["a.txt", "b.txt", "c.txt"]


def test_like_helper_with_underscore_wildcard(rods, tree):
    rows = rods.query(DataObject.name).filter(Like(Collection.name, f"{tree}/x_"))

    assert sorted(_names(rows)) == ["a.txt", "b.txt", "c.txt"]


def test_in_condition(rods, tree):
    rows = rods.query(DataObject.name).filter(
        Collection.name == tree, In(DataObject.name, ["f01", "f03", "nope"])
    )

    assert sorted(_names(rows)) == ["f01", "f03"]


def test_greater_than_on_size_compares_numbers(rods, tree):
    rows = rods.query(DataObject.name).filter(Collection.name == tree, DataObject.size > 60)

    assert sorted(_names(rows)) == ["f03", "f04"]


def test_less_than_on_size_compares_numbers(rods, tree):
    rows = rods.query(DataObject.name).filter(Collection.name == tree, DataObject.size < 10)

    assert sorted(_names(rows)) == ["f01", "f05"]


def test_range_with_two_conditions_on_one_column(rods, tree):
    rows = rods.query(DataObject.name).filter(
        Collection.name == tree, DataObject.size >= 9, DataObject.size <= 500
    )

    assert sorted(_names(rows)) == ["f02", "f03", "f05"]


def test_condition_matching_nothing_gives_empty_result(rods, tree):
    rows = rods.query(DataObject.name).filter(Collection.name == f"{tree}/no-such")

    assert list(rows) == []
    assert rods.query(DataObject.name).filter(Collection.name == f"{tree}/no-such").first() is None


def test_limit_returns_that_many_rows(rods, tree):
    rows = rods.query(DataObject.name).filter(Collection.name == tree).limit(3).all()

    assert len(rows) == 3


def test_first_returns_one_row(rods, tree):
    row = (
        rods.query(DataObject.name)
        .filter(Collection.name == tree)
        .order_by(DataObject.name)
        .first()
    )

    assert row[DataObject.name] == "f01"


def test_one_returns_the_single_row(rods, tree):
    row = (
        rods.query(DataObject.size).filter(Collection.name == tree, DataObject.name == "f04").one()
    )

    assert row[DataObject.size] == 1000


def test_one_with_several_rows_raises_multiple_results(rods, tree):
    with pytest.raises(MultipleResultsFound):
        rods.query(DataObject.name).filter(Collection.name == tree).one()


def test_one_with_no_row_raises_no_result(rods, tree):
    with pytest.raises(NoResultFound):
        rods.query(DataObject.name).filter(Collection.name == tree, DataObject.name == "x").one()


def test_order_by_size_descending(rods, tree):
    rows = (
        rods.query(DataObject.name, DataObject.size)
        .filter(Collection.name == tree)
        .order_by(DataObject.size, order="desc")
    )

    assert [r[DataObject.size] for r in rows] == sorted(TOP.values(), reverse=True)


def test_order_by_size_ascending_is_numeric(rods, tree):
    rows = rods.query(DataObject.name, DataObject.size).filter(Collection.name == tree)

    ordered = rows.order_by(DataObject.size)
    assert [r[DataObject.size] for r in ordered] == sorted(TOP.values())


def test_default_order_is_by_collection_then_name(rods, tree):
    rows = rods.query(Collection.name, DataObject.name).filter(Like(Collection.name, f"{tree}/%"))

    assert [(r[Collection.name], r[DataObject.name]) for r in rows] == [
        (f"{tree}/x1", "a.txt"),
        (f"{tree}/x1", "b.txt"),
        (f"{tree}/x2", "c.txt"),
        (f"{tree}/y", "d.txt"),
    ]


def test_offset_skips_rows(rods, tree):
    rows = rods.query(DataObject.name).filter(Collection.name == tree).offset(2).all()

    assert _names(rows) == ["f03", "f04", "f05"]


def test_distinct_rows_by_default(rods, tree):
    rows = rods.query(Collection.name).filter(
        Like(Collection.name, f"{tree}/x%"), DataObject.id > 0
    )

    assert sorted(r[Collection.name] for r in rows) == [f"{tree}/x1", f"{tree}/x2"]


def test_count_aggregate(rods, tree):
    row = rods.query(DataObject.id).filter(Collection.name == tree).count(DataObject.id).one()

    assert row[DataObject.id] == len(TOP)


def test_sum_min_max_aggregates(rods, tree):
    total = rods.query(DataObject.size).filter(Collection.name == tree).sum(DataObject.size).one()
    low = rods.query(DataObject.size).filter(Collection.name == tree).min(DataObject.size).one()
    high = rods.query(DataObject.size).filter(Collection.name == tree).max(DataObject.size).one()

    assert total[DataObject.size] == sum(TOP.values())
    assert low[DataObject.size] == 5
    assert high[DataObject.size] == 1000


def test_count_grouped_by_collection(rods, tree):
    rows = (
        rods.query(Collection.name, DataObject.id)
        .filter(Like(Collection.name, f"{tree}/%"))
        .count(DataObject.id)
    )

    counts = {r[Collection.name]: r[DataObject.id] for r in rows}
    assert counts == {f"{tree}/x1": 2, f"{tree}/x2": 1, f"{tree}/y": 1}


def test_case_insensitive_query(rods, tree):
    rows = rods.query(DataObject.name, case_sensitive=False).filter(
        Collection.name == tree, DataObject.name == "F02"
    )

    assert _names(rows) == ["f02"]


def test_collection_query_by_parent(rods, tree):
    rows = rods.query(Collection.name).filter(Collection.parent_name == tree)

    assert sorted(r[Collection.name] for r in rows) == [f"{tree}/x1", f"{tree}/x2", f"{tree}/y"]


def test_paging_with_small_page_size_returns_every_row(rods, tree, scratch):
    for i in range(50):
        rods.data_objects.create(f"{scratch}/p{i:02d}")
    saved = client_configuration.genquery1.irods_query_limit
    client_configuration.genquery1.irods_query_limit = 7
    try:
        rows = list(rods.query(DataObject.name).filter(Collection.name == scratch))
        listed = [o.name for o in rods.collections.get(scratch).data_objects]
    finally:
        client_configuration.genquery1.irods_query_limit = saved

    assert sorted(r[DataObject.name] for r in rows) == [f"p{i:02d}" for i in range(50)]
    assert listed == [f"p{i:02d}" for i in range(50)]
