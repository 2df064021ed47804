"""The HTTP server: the only code that imports cheroot.

``app`` assembles the WSGI application (WsgiDAV over our providers, the access log),
``http`` runs it on cheroot with bounded request bodies, ``tls`` adds HTTPS with client
certificates, ``sockfile`` replaces cheroot's socket files.
"""
