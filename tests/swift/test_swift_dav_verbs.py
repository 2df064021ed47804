"""The shared WebDAV verb suite (tests/contract/dav_verbs.py) on the Swift share."""

from tests.contract.dav_verbs import DavVerbSuite


class TestSwiftDavVerbs(DavVerbSuite):
    pass
