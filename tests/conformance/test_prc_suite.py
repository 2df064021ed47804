"""python-irodsclient's own test suite, run against fresh local zones, keeps its pass rate.

Every module of the installed ``irods.test`` package runs in its own interpreter against a
zone of its own (see prc_suite.py). The test prints the per-module table and fails when the
share of passing tests, over the tests that ran, falls below the bar the zone has reached.
"""

from __future__ import annotations

from pathlib import Path

from prc_suite import EXCLUDED, pass_rate, run_suite, suite_modules, table

PASS_RATE_BAR = 0.96


def test_prc_suite_pass_rate_stays_above_bar(tmp_path: Path) -> None:
    results = run_suite(suite_modules(), tmp_path)

    print("\n" + table(results))
    print("excluded: " + ", ".join(f"{name} ({why})" for name, why in EXCLUDED.items()))
    crashed = [f"{r.module}: {r.crashed}" for r in results if r.crashed]
    assert not crashed, crashed
    assert pass_rate(results) >= PASS_RATE_BAR
