"""The short soak against the irods share."""

from tests.contract.soak import SoakSuite


class TestIrodsSoak(SoakSuite):
    pass
