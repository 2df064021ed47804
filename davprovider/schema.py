"""Config machinery: YAML read strictly, mappings checked against frozen dataclasses.

``read_yaml(path)`` reads a file (a key given twice is an error); ``build(cls, raw,
keypath, source)`` makes dataclass ``cls`` from a mapping, recursively, checking every
key against the fields. An unknown key, a missing required key or a bad value raises
``ConfigError`` naming the file and the key path (``site.yaml: shares[0].backend: ...``).

A field's ``metadata`` may carry ``check`` (value -> problem text or ``None``),
``convert`` (``(raw, keypath, source, values so far) -> value``, for values whose type
is decided elsewhere, such as a backend's options) or ``internal`` (not a config key).
A dataclass's ``__post_init__`` may raise ``ValueError``: it is reported at its key path.
The checks below are shared by every section (ours, backends' and authenticators').
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

Check = Callable[[Any], str | None]


class ConfigError(ValueError):
    """A config problem; ``str()`` gives ``"<file>: <key path>: <problem>"``."""

    def __init__(self, source: str, keypath: str, problem: str) -> None:
        self.source = source
        self.keypath = keypath
        self.problem = problem
        where = f"{source}: {keypath}" if keypath else source
        super().__init__(f"{where}: {problem}")


def positive(value: int) -> str | None:
    return None if value > 0 else "must be greater than 0"


def not_negative(value: int) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def seconds(value: float) -> str | None:
    return None if 0 <= value <= 3600 else "must be between 0 and 3600 seconds"


def port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port number (0-65535)"


def readable(value: str) -> str | None:
    if not value:
        return None
    return None if os.access(value, os.R_OK) else f"cannot read file {value!r}"


def readable_all(values: tuple[str, ...]) -> str | None:
    return next((p for p in map(readable, values) if p), None)


def network(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return f"not an IP network (CIDR): {exc}"
    return None


def networks(values: tuple[str, ...]) -> str | None:
    return next((p for p in map(network, values) if p), None)


def header_name(value: str) -> str | None:
    if value and not re.fullmatch(r"[A-Za-z0-9-]+", value):
        return "must be an HTTP header name (letters, digits, dashes)"
    return None


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML document of ``path``; ``ConfigError`` when it cannot be read."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read config: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, "", f"not valid YAML{line}: {problem}") from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def join(keypath: str, key: str) -> str:
    return f"{keypath}.{key}" if keypath else key


def build(
    cls: type[Any],
    raw: Any,
    keypath: str,
    source: str,
    internal: Mapping[str, Any] | None = None,
) -> Any:
    """Build dataclass ``cls`` from mapping ``raw``, checking every key."""
    if not isinstance(raw, Mapping):
        raise ConfigError(source, keypath or "(top level)", "must be a mapping")
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]
    known = {f.name for f in fields}
    for key in raw:
        if key not in known:
            listing = ", ".join(sorted(known))
            raise ConfigError(source, join(keypath, str(key)), f"unknown key (known: {listing})")
    values: dict[str, Any] = dict(internal or {})
    for spec in fields:
        path = join(keypath, spec.name)
        convert = spec.metadata.get("convert")
        if spec.name not in raw:
            if _is_required(spec):
                raise ConfigError(source, path, "required key is missing")
            if convert is not None:
                values[spec.name] = convert(None, path, source, values)
            continue
        if convert is not None:
            values[spec.name] = convert(raw[spec.name], path, source, values)
        else:
            values[spec.name] = _convert(hints[spec.name], raw[spec.name], path, source)
        check: Check | None = spec.metadata.get("check")
        problem = check(values[spec.name]) if check else None
        if problem:
            raise ConfigError(source, path, problem)
    try:
        return cls(**values)
    except ValueError as exc:  # checks in the dataclass's __post_init__
        raise ConfigError(source, keypath or "(top level)", str(exc)) from None


def _is_required(spec: dataclasses.Field[Any]) -> bool:
    no_default = spec.default is dataclasses.MISSING
    return no_default and spec.default_factory is dataclasses.MISSING


def _convert(tp: Any, value: Any, keypath: str, source: str) -> Any:
    """Convert one YAML value to annotation ``tp`` or raise ``ConfigError``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, keypath, source)
    if dataclasses.is_dataclass(tp):
        return build(typing.cast(type, tp), value, keypath, source)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(source, keypath, f"must be one of {choices}, not {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(source, keypath, "must be a list")
        return tuple(
            _convert(args[0], item, f"{keypath}[{i}]", source) for i, item in enumerate(value)
        )
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(source, keypath, "must be a mapping")
        return {
            _convert(args[0], k, keypath, source): _convert(
                args[1], v, join(keypath, str(k)), source
            )
            for k, v in value.items()
        }
    return _scalar(tp, value, keypath, source)


def _scalar(tp: Any, value: Any, keypath: str, source: str) -> Any:
    if tp is Any:
        return value
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, str):
        return value
    name = getattr(tp, "__name__", str(tp))
    raise ConfigError(source, keypath, f"must be {name}, not {type(value).__name__} {value!r}")
