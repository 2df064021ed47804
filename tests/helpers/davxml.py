"""WebDAV request bodies and multistatus parsing shared by the gateway tests."""

from __future__ import annotations

from urllib.parse import unquote, urlparse
from xml.etree import ElementTree

NAMED = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:getcontentlength/><D:getlastmodified/><D:getetag/><D:resourcetype/>
<D:creationdate/><D:getcontenttype/>
</D:prop></D:propfind>"""

PROPPATCH = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:example">
<D:set><D:prop><Z:colour>blue</Z:colour><Z:doc><Z:a x="1">t</Z:a></Z:doc></D:prop></D:set>
</D:propertyupdate>"""

GET_DEAD = b"""<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:Z="urn:example">
<D:prop><Z:colour/><Z:doc/></D:prop></D:propfind>"""

LOCKINFO = b"""<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>
<D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>"""


def propstats(body: bytes) -> dict[str, dict[str, str]]:
    """href -> {property tag: text} for the 200 propstat of each response."""
    result: dict[str, dict[str, str]] = {}
    for response in ElementTree.fromstring(body).iter("{DAV:}response"):
        href = response.findtext("{DAV:}href") or ""
        props: dict[str, str] = {}
        for propstat in response.iter("{DAV:}propstat"):
            if "200" not in (propstat.findtext("{DAV:}status") or ""):
                continue
            for prop in propstat.find("{DAV:}prop") or []:
                props[prop.tag] = (prop.text or "") + "".join(c.tag for c in prop)
        result[href] = props
    return result


def hrefs(multistatus: bytes) -> dict[str, dict[str, str]]:
    """``propstats`` of a 207 body, keyed by the decoded path of each href."""
    return {unquote(urlparse(h).path): props for h, props in propstats(multistatus).items()}
