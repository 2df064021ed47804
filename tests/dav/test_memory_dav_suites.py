"""The shared WebDAV suites (tests/contract/) on the memory share; ``dav_target`` is in
the conftest of this folder."""

from tests.contract.dav_sync import DavSyncSuite
from tests.contract.dav_verbs import DavVerbSuite


class TestMemoryDavVerbs(DavVerbSuite):
    pass


class TestMemoryDavSync(DavSyncSuite):
    pass
