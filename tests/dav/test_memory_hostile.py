"""The hostile request corpus against the memory share."""

from tests.contract.hostile import HostileSuite


class TestMemoryHostile(HostileSuite):
    pass
