"""The shared WebDAV verb suite (tests/contract/dav_verbs.py) on the memory share."""

from tests.contract.dav_verbs import DavVerbSuite


class TestMemoryDavVerbs(DavVerbSuite):
    pass
