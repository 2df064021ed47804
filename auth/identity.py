"""Who is calling: the result of authentication, handed to backend factories."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Environ key under which the domain controller stores the caller's Identity.
ENVIRON_KEY = "davprovider.identity"

#: Methods an anonymous (read-only) identity may use.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND"})


@dataclass(frozen=True)
class Identity:
    """An authenticated caller.

    ``user`` is the backend account name; ``method`` names the authenticator
    that matched (``"basic"``, ``"anonymous"``, later ``"x509"``, ``"ipallow"``);
    ``dn`` is the certificate subject for X.509 identities; ``password`` is
    kept only for backends that need it to open a session (Basic
    passthrough) and never appears in ``repr()`` or logs.
    """

    user: str
    method: str
    dn: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def is_anonymous(self) -> bool:
        """True for the fixed read-only account of an anonymous share."""
        return self.method == "anonymous"
