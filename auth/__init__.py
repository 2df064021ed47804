"""Who is calling: one authenticator per module, named as in the config.

``auth: {chain: [x509, ipallow, basic]}`` runs ``auth/x509.py``, ``auth/ipallow.py``
and ``auth/basic.py`` in that order (a share may have its own chain: ``shares[].auth``);
the domain controller in ``auth/controller.py`` runs it (first match wins, an empty
chain denies). ``davprovider/plugins.py`` loads them by name. An authenticator module
exposes ``Authenticator``, a class built from the settings with
``authenticate(environ, share)`` returning an ``Identity`` or ``None`` (see
``controller.py``), and may own a config section (``Options``). ``bearer`` (the
gateway's own tokens) and ``token`` (WLCG/SciTokens JWTs) share ``bearertoken`` (how a
token is presented and refused) and ``grant`` (what a token allows). ``certchain`` and
``gridmap`` are the X.509 helpers they share with the TLS layer; ``voms``, ``vomsac``
and ``vomsmap`` add VOMS attribute certificates to the x509 authenticator.
"""
