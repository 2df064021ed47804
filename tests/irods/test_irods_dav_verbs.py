"""The shared WebDAV verb suite (tests/contract/dav_verbs.py) on the iRODS share."""

from tests.contract.dav_verbs import DavVerbSuite


class TestIrodsDavVerbs(DavVerbSuite):
    keeps_content_type = False  # iRODS stores none: the type is guessed from the name
