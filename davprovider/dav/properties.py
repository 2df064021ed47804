"""Dead properties over backend metadata.

A dead property is stored with ``Backend.set_meta`` under its name in Clark
notation (``"{http://example.com/ns}colour"``, or just ``"colour"`` for the
empty namespace). Its value is stored as text so that other clients of the
backend (``imeta ls``, ``swift stat``) can read it:

- an element with plain text only (no attributes, no children) is stored as
  that text, unless the text starts with ``"<"``;
- anything else is stored as its XML serialisation, which starts with ``"<"``.

``decode_value`` reverses this; the rule is unambiguous because text that
starts with ``"<"`` is always stored serialised (and escaped there).

Not dead, hence never stored: everything in ``DAV:``, and the properties the gateway
computes (``COMPUTED``: checksums, Windows' modification time, RFC 4331 quota; see
``liveprops.py``). Windows' other Win32 properties are dead: they are stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

from davprovider.dav.clients import WIN32_MTIME

XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)

#: Live properties that belong to WsgiDAV's lock manager.
LOCK_PROPERTIES = frozenset({"{DAV:}lockdiscovery", "{DAV:}supportedlock"})

OC_CHECKSUMS = "{http://owncloud.org/ns}checksums"
OC_CHECKSUM = "{http://owncloud.org/ns}checksum"
#: Asked for by rclone in every listing; never stored, so answered 404 without a
#: metadata lookup (ownCloud's share permissions have no meaning here).
OC_PERMISSIONS = "{http://owncloud.org/ns}permissions"
DCACHE_CHECKSUMS = "{http://www.dcache.org/2013/webdav}Checksums"
QUOTA_USED = "{DAV:}quota-used-bytes"
QUOTA_AVAILABLE = "{DAV:}quota-available-bytes"
#: Properties the gateway computes when (and only when) a PROPFIND names them.
COMPUTED = frozenset(
    {OC_CHECKSUMS, OC_PERMISSIONS, DCACHE_CHECKSUMS, QUOTA_USED, QUOTA_AVAILABLE, WIN32_MTIME}
)


def is_dead(name: str) -> bool:
    """True for names stored as backend metadata: anything outside ``DAV:`` that
    the gateway does not compute (``COMPUTED``)."""
    return not name.startswith("{DAV:}") and name not in COMPUTED


#: Bounds checked before any backend call (a backend may have tighter ones of its own,
#: which its ``set_meta`` checks before writing anything).
MAX_NAME = 512
MAX_VALUE = 64 * 1024
MAX_PER_REQUEST = 1000


def property_problem(name: str, stored: str | None) -> tuple[int, str] | None:
    """Why dead property ``name`` (with its encoded value) cannot be stored, as an HTTP
    status (403 for a name we refuse, 507 for what exceeds our bounds) and a reason;
    ``None`` when it can."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return 403, "control character in a property name"
    if name.startswith("{}"):
        return 403, "empty namespace given in braces"
    if len(name.encode()) > MAX_NAME:
        return 507, f"property name longer than {MAX_NAME} bytes"
    if stored is not None and len(stored.encode()) > MAX_VALUE:
        return 507, f"property value longer than {MAX_VALUE} bytes"
    return None


def encode_value(element: Any) -> str:
    """Serialise a property element (lxml) for ``Backend.set_meta``."""
    text = element.text or ""
    simple = len(element) == 0 and not element.attrib and not text.startswith("<")
    if simple:
        return text
    return str(etree.tostring(element, encoding="unicode", with_tail=False))


def decode_value(name: str, stored: str) -> Any:
    """Rebuild the property element ``name`` from a stored value."""
    if stored.startswith("<"):
        try:
            element = etree.fromstring(stored, parser=XML_PARSER)
        except etree.XMLSyntaxError:
            element = None
        if element is not None and element.tag == name:
            return element
    element = etree.Element(name)
    element.text = stored or None
    return element


MetaLoader = Callable[[], dict[str, str]]


class SiblingMeta:
    """Dead properties of all members of one collection, fetched on first need.

    Members built from one ``Backend.list`` share one instance, so a
    PROPFIND Depth:1 asking for dead properties makes one ``list_meta`` call
    for the whole collection instead of one ``get_meta`` per member.
    """

    def __init__(self, fetch: Callable[[Sequence[str]], dict[str, dict[str, str]]]) -> None:
        self._fetch = fetch
        self._names: list[str] = []
        self._loaded: dict[str, dict[str, str]] | None = None

    def loader(self, name: str) -> MetaLoader:
        """Register member ``name`` and return its lazy loader."""
        self._names.append(name)
        return lambda: self._get(name)

    def _get(self, name: str) -> dict[str, str]:
        if self._loaded is None:
            self._loaded = self._fetch(self._names)
        return dict(self._loaded.get(name, {}))
