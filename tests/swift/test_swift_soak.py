"""The short soak against the swift share."""

from tests.contract.soak import SoakSuite


class TestSwiftSoak(SoakSuite):
    pass
