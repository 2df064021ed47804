"""The WebDAV layer: the only code that implements WsgiDAV resources and providers.

One file per method family: ``provider`` (one provider per share, request checks),
``resources`` (files and folders over the storage contract), ``propfind`` (PROPFIND
answered from one listing), ``put`` (streamed uploads), ``copymove`` (COPY, MOVE,
DELETE, MKCOL), ``liveprops`` (live property values), ``properties`` (dead properties),
``cache`` (the listing cache), ``clients`` (desktop and sync client quirks),
``errors`` (built-in exceptions to HTTP statuses).
"""
