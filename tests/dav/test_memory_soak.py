"""The short soak against the memory share."""

from tests.contract.soak import SoakSuite


class TestMemorySoak(SoakSuite):
    pass
