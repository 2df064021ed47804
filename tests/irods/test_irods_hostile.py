"""The hostile request corpus against the irods share."""

from tests.contract.hostile import HostileSuite


class TestIrodsHostile(HostileSuite):
    pass
