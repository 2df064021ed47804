"""The shared WebDAV suites (tests/contract/) on the Swift share; ``dav_target`` is in
the conftest of this folder."""

from tests.contract.dav_sync import DavSyncSuite
from tests.contract.dav_verbs import DavVerbSuite


class TestSwiftDavVerbs(DavVerbSuite):
    pass


class TestSwiftDavSync(DavSyncSuite):
    lists_folder_mtime = False  # pseudo-folders are listed without their marker's metadata
