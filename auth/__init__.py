"""Who is calling: one authenticator per module, named as in the config.

``auth: {chain: [basic]}`` runs ``auth/basic.py``; the domain controller in
``auth/controller.py`` runs the configured chain (first match wins, an empty
chain denies). An authenticator module exposes ``Authenticator``, a class
built from the settings with ``authenticate(environ, share)`` returning an
``Identity`` or ``None`` (see ``controller.py``).
"""

#: Authenticator names usable in ``auth.chain`` and the modules implementing them.
AUTHENTICATORS: dict[str, str] = {
    "basic": "auth.basic",
}
