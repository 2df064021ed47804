"""State shared by a fleet of gateway processes and hosts, in Redis (``redis:``).

``connection`` makes the client from the settings and names the keys; ``invalidation``
carries listing-cache invalidations between gateways (pub/sub plus a change counter);
``attempts`` counts failed logins per client address. The WebDAV lock storage on Redis
is ``dav/redislocks.py`` (it speaks WsgiDAV's lock manager API). Without ``redis:``
nothing here runs and each process keeps its own state, as before.
"""
