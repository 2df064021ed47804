"""The hostile request corpus against the swift share."""

from tests.contract.hostile import HostileSuite


class TestSwiftHostile(HostileSuite):
    pass
