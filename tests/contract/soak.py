"""A short soak every share joins (the long one is ``bench/soak.py``): clients with their
own folders run mixed verbs for ``SECONDS``; then every acknowledged file is read back.
Zero errors and zero mismatches, or the test fails."""

from __future__ import annotations

from tests.helpers.soak import Share, percentiles, soak

CLIENTS = 8
SECONDS = 15.0


class SoakSuite:
    """``dav_target`` as for ``DavVerbSuite``."""

    def test_mixed_verbs_lose_nothing_and_answer_no_error(self, dav_target):
        gw = dav_target.client
        user, password = gw.user
        share = Share(gw.host, gw.port, dav_target.base, user, password)
        report = soak([share], CLIENTS, SECONDS)
        print("soak:", report.files, "files;", percentiles(report))
        assert report.errors == []
        assert report.mismatches == []
        assert sum(len(v) for v in report.latencies.values()) > 10 * CLIENTS
