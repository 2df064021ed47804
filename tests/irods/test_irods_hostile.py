"""The hostile request corpus against the iRODS share (a ``davprovider serve`` process),
and its memory: the gateway's RSS stays flat across passes of the corpus."""

from tests.contract.hostile import CANARY, CASES, HostileSuite, exchange

MiB = 1 << 20


class TestIrodsHostile(HostileSuite):
    pass


def test_rss_grows_less_than_10_mib_across_three_passes_of_the_corpus(dav_target, gateway_process):
    dav_target.seed("canary.txt", CANARY)
    rss = []
    for _ in range(4):  # the first pass warms caches and pools up
        for case in CASES:
            exchange(dav_target, case)
        rss.append(gateway_process.rss())
    print("RSS after each pass (MiB):", [round(value / MiB, 1) for value in rss])
    assert rss[-1] - rss[0] < 10 * MiB, [value // MiB for value in rss]
