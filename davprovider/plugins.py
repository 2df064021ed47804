"""One loader for what the config names by kind: backend types and authenticators.

``shares[].backend: irods`` and ``auth.chain: [x509]`` name modules: a short name from
the tables below, or a dotted module path (``mysite.storage``) for one of your own. A
module of a kind must expose that kind's attributes:

- a backend type (``davprovider/irods``, ``swift``, ``memory``): ``Options`` (a frozen
  dataclass for its ``options:`` mapping) and ``create_factory(options)``;
- an authenticator (``auth/basic.py``, ``x509``, ``ipallow``): ``Authenticator``, a
  class built from the settings. It MAY expose ``Options`` (its own config section,
  ``x509:`` for ``auth/x509.py``), ``check_settings(settings)`` (cross-section checks,
  raising ``ConfigError``) and ``PASSWORDLESS = True`` (its identities carry no
  password, so a backend must act for them through a proxy account).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Kind:
    """A kind of plugin: its label in messages, short names, required attributes."""

    label: str
    names: dict[str, str]
    required: tuple[str, ...]


BACKENDS = Kind(
    "backend type",
    {"memory": "davprovider.memory", "irods": "davprovider.irods", "swift": "davprovider.swift"},
    ("Options", "create_factory"),
)
AUTHENTICATORS = Kind(
    "authenticator",
    {
        "basic": "auth.basic",
        "x509": "auth.x509",
        "ipallow": "auth.ipallow",
        "ticket": "auth.ticket",
    },
    ("Authenticator",),
)


def load(kind: Kind, name: str) -> ModuleType:
    """Import the module ``name`` names for ``kind`` (a short name or a dotted path).

    Raises ``LookupError`` with a readable message when it cannot be used.
    """
    if name not in kind.names and "." not in name:
        known = ", ".join(sorted(kind.names))
        raise LookupError(f"unknown {kind.label} {name!r} (known: {known})")
    try:
        module = importlib.import_module(kind.names.get(name, name))
    except ImportError as exc:
        raise LookupError(f"{kind.label} {name!r} cannot be imported: {exc}") from exc
    for attribute in kind.required:
        if not hasattr(module, attribute):
            raise LookupError(f"{kind.label} {name!r} is not usable (no {attribute})")
    return module


def load_backend(name: str) -> ModuleType:
    """The module of backend type ``name`` (see ``load``)."""
    return load(BACKENDS, name)


def load_authenticator(name: str) -> ModuleType:
    """The module of authenticator ``name`` (see ``load``)."""
    return load(AUTHENTICATORS, name)
