"""The shared WebDAV suites (tests/contract/) on the iRODS share; ``dav_target`` is in
the conftest of this folder."""

from tests.contract.dav_sync import DavSyncSuite
from tests.contract.dav_verbs import DavVerbSuite


class TestIrodsDavVerbs(DavVerbSuite):
    keeps_content_type = False  # iRODS stores none: the type is guessed from the name


class TestIrodsDavSync(DavSyncSuite):
    pass
