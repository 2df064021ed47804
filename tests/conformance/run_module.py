"""Run one module of python-irodsclient's installed test suite; write a JSON summary.

``python tests/conformance/run_module.py irods.test.meta_test OUT.json`` runs the module with
unittest (the suite is unittest-based) where pip installed it, and records each test's outcome.
The caller sets HOME and IRODS_ENVIRONMENT_FILE so the suite reaches the local zone.
"""

from __future__ import annotations

import json
import sys
import time
import unittest
from typing import Any


class _Recorder(unittest.TextTestResult):
    """A text result that also keeps every test id with its outcome."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, str] = {}
        self.details: dict[str, str] = {}

    def _record(self, test: unittest.TestCase, outcome: str, detail: str = "") -> None:
        self.outcomes[test.id()] = outcome
        if detail:
            self.details[test.id()] = detail[-1500:]

    def addSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802 (unittest's name)
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:  # noqa: N802
        super().addFailure(test, err)
        self._record(test, "failed", self.failures[-1][1])

    def addError(self, test: unittest.TestCase, err: Any) -> None:  # noqa: N802
        super().addError(test, err)
        self._record(test, "failed", self.errors[-1][1])

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:  # noqa: N802
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:  # noqa: N802
        super().addExpectedFailure(test, err)
        self._record(test, "passed")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802
        super().addUnexpectedSuccess(test)
        self._record(test, "failed", "unexpected success")


def main(module: str, out: str) -> int:
    started = time.monotonic()
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=_Recorder)
    result = runner.run(suite)
    assert isinstance(result, _Recorder)
    summary = {
        "module": module,
        "seconds": round(time.monotonic() - started, 1),
        "outcomes": result.outcomes,
        "details": result.details,
    }
    with open(out, "w") as fh:
        json.dump(summary, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
