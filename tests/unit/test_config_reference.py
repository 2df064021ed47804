"""docs/configuration.md lists every key check-config accepts, read from the schema."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any

from davprovider import plugins, settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
#: Authenticators owning a config section (``x509:``...), as the plugin loader finds them.
SECTIONS = [
    name
    for name in plugins.AUTHENTICATORS.names
    if hasattr(plugins.load_authenticator(name), "Options")
]


def _inner(tp: Any) -> Any:
    """``X`` of ``X | None``; the element type of ``tuple[X, ...]``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            tp = args[0]
    if typing.get_origin(tp) is tuple and typing.get_args(tp):
        element = typing.get_args(tp)[0]
        if dataclasses.is_dataclass(element):
            return element, "[]"
    return tp, ""


def keys(cls: type[Any], prefix: str = "") -> list[str]:
    """Every leaf key path of config dataclass ``cls``."""
    found = []
    hints = typing.get_type_hints(cls)
    for spec in dataclasses.fields(cls):
        if spec.metadata.get("internal"):
            continue
        tp, suffix = _inner(hints[spec.name])
        path = f"{prefix}{spec.name}{suffix}"
        if dataclasses.is_dataclass(tp):
            found += keys(typing.cast(type, tp), path + ".")
        elif spec.name not in SECTIONS or prefix:
            found.append(path)
    return found


def documented(section: str | None = None) -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    if section is not None:
        text = text.split(f"## `shares[].options` for `backend: {section}`", 1)[1]
        text = text.split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE))


def test_every_core_and_authenticator_key_is_documented():
    wanted = keys(settings.Settings)
    for name in SECTIONS:
        wanted += keys(plugins.load_authenticator(name).Options, f"{name}.")
    assert sorted(set(wanted) - documented()) == []


def test_every_backend_option_is_documented_in_its_section():
    for name in ("irods", "swift", "memory"):
        options = keys(plugins.load_backend(name).Options)
        assert sorted(set(options) - documented(name)) == [], name


def test_the_reference_lists_no_key_the_schema_lacks():
    wanted = set(keys(settings.Settings))
    for name in SECTIONS:
        wanted |= set(keys(plugins.load_authenticator(name).Options, f"{name}."))
    everything = documented()
    for name in ("irods", "swift", "memory"):
        everything -= documented(name)
        assert documented(name) <= set(keys(plugins.load_backend(name).Options)), name
    assert sorted(everything - wanted) == []
