"""Our config sections as frozen dataclasses, validated once at startup.

A YAML file is read with ``load_settings(path)``; every key is checked
against the dataclass fields below, recursively. An unknown key, a missing
required key or a bad value raises ``ConfigError`` whose message names the
file and the key path, e.g. ``site.yaml: shares[0].backend: unknown backend
type 'irod' (known: irods, memory)``.

Backend options (``shares[].options``) are validated against the ``Options``
dataclass of the backend type's module (see ``backend.load_backend_type``), so
a new backend gets the same checks by declaring its options.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from auth import AUTHENTICATORS
from davprovider.backend import load_backend_type
from davprovider.client_settings import ChecksumSettings, ClientSettings
from davprovider.identity_settings import (
    AllowedNetwork,
    IPAllowSettings,
    IrodsRegistrySettings,
    TLSSettings,
    X509Settings,
)

__all__ = [
    "AllowedNetwork",
    "ChecksumSettings",
    "ClientSettings",
    "ConfigError",
    "IPAllowSettings",
    "IrodsRegistrySettings",
    "Settings",
    "ShareSettings",
    "TLSSettings",
    "X509Settings",
    "chain_for",
    "load_settings",
    "settings_from_mapping",
]

Check = Callable[[Any], str | None]


class ConfigError(ValueError):
    """A config problem; ``str()`` gives ``"<file>: <key path>: <problem>"``."""

    def __init__(self, source: str, keypath: str, problem: str) -> None:
        self.source = source
        self.keypath = keypath
        self.problem = problem
        where = f"{source}: {keypath}" if keypath else source
        super().__init__(f"{where}: {problem}")


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _seconds(value: float) -> str | None:
    return None if 0 <= value <= 3600 else "must be between 0 and 3600 seconds"


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port number (0-65535)"


def _block_size(value: int) -> str | None:
    return None if 4096 <= value <= 64 << 20 else "must be between 4096 and 67108864 bytes"


def _share_path(value: str) -> str | None:
    if not re.fullmatch(r"(/[^/\s?#]+)+", value):
        return "must look like /name (leading slash, no trailing slash, no spaces)"
    return None


def _backend_options(raw: Any, keypath: str, source: str, siblings: Mapping[str, Any]) -> Any:
    try:
        module = load_backend_type(siblings["backend"])
    except LookupError as exc:
        raise ConfigError(source, keypath.rsplit(".", 1)[0] + ".backend", str(exc)) from None
    return _build(module.Options, {} if raw is None else raw, keypath, source)


@dataclass(frozen=True)
class ServerSettings:
    """``server:``: where and how cheroot listens (HTTPS when ``tls:`` is set)."""

    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata={"check": _port})
    threads: int = field(default=20, metadata={"check": _positive})
    timeout: int = field(default=30, metadata={"check": _positive})
    shutdown_timeout: int = field(default=5, metadata={"check": _positive})


@dataclass(frozen=True)
class LoggingSettings:
    """``logging:``: level of the ``davprovider`` loggers and the access log."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True


@dataclass(frozen=True)
class AnonymousSettings:
    """``shares[].anonymous:``: read-only access without credentials, acting
    as this fixed backend account."""

    user: str
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class ShareSettings:
    """``shares[]``: one mount point served by one backend type; ``auth`` overrides
    ``auth.chain`` and ``apple_files`` overrides ``clients.apple_files`` for this share."""

    path: str = field(metadata={"check": _share_path})
    backend: str
    options: Any = field(default=None, metadata={"convert": _backend_options})
    read_only: bool = False
    anonymous: AnonymousSettings | None = None
    auth: tuple[str, ...] | None = None
    apple_files: Literal["store", "refuse"] | None = None


@dataclass(frozen=True)
class AuthSettings:
    """``auth:``: the authenticator chain; first match wins, empty denies."""

    chain: tuple[str, ...] = ("basic",)


@dataclass(frozen=True)
class Settings:
    """The whole config file. ``source`` names the file (not a config key)."""

    shares: tuple[ShareSettings, ...]
    server: ServerSettings = ServerSettings()
    logging: LoggingSettings = LoggingSettings()
    auth: AuthSettings = AuthSettings()
    tls: TLSSettings | None = None
    x509: X509Settings = X509Settings()
    ipallow: IPAllowSettings = IPAllowSettings()
    block_size: int = field(default=256 * 1024, metadata={"check": _block_size})
    propfind_infinity: bool = False
    max_xml_body: int = field(default=1 << 20, metadata={"check": _positive})
    lock_storage: Literal["memory", "none"] = "memory"
    dir_browser: bool = True
    listing_cache: float = field(default=5.0, metadata={"check": _seconds})
    checksums: ChecksumSettings = ChecksumSettings()
    clients: ClientSettings = ClientSettings()
    source: str = field(default="<settings>", metadata={"internal": True})


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML config file; raise ``ConfigError`` on any problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read config: {exc.strerror or exc}") from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, "", f"not valid YAML{line}: {problem}") from None
    return settings_from_mapping({} if raw is None else raw, source=source)


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


def settings_from_mapping(raw: Any, *, source: str = "<settings>") -> Settings:
    """Validate an already-parsed config mapping (tests, embedding)."""
    settings = _build(Settings, raw, "", source, internal={"source": source})
    _check_settings(settings)
    return settings


def _check_settings(settings: Settings) -> None:
    if not settings.shares:
        raise ConfigError(settings.source, "shares", "at least one share is required")
    seen: set[str] = set()
    for index, share in enumerate(settings.shares):
        if share.path.lower() in seen:
            raise ConfigError(settings.source, f"shares[{index}].path", "duplicate share path")
        seen.add(share.path.lower())
    _check_chain(settings, settings.auth.chain, "auth.chain")
    for index, share in enumerate(settings.shares):
        if share.auth is not None:
            _check_chain(settings, share.auth, f"shares[{index}].auth")
    _check_identity_sources(settings)


def chain_for(settings: Settings, share: ShareSettings) -> tuple[str, ...]:
    """The authenticator chain of ``share`` (its own, or ``auth.chain``)."""
    return settings.auth.chain if share.auth is None else share.auth


def _check_chain(settings: Settings, chain: tuple[str, ...], keypath: str) -> None:
    for index, name in enumerate(chain):
        if name not in AUTHENTICATORS:
            known = ", ".join(sorted(AUTHENTICATORS))
            problem = f"unknown authenticator {name!r} (known: {known})"
            raise ConfigError(settings.source, f"{keypath}[{index}]", problem)
        if name in chain[:index]:
            raise ConfigError(settings.source, f"{keypath}[{index}]", f"{name} is listed twice")


def _check_identity_sources(settings: Settings) -> None:
    """x509 and ipallow in a chain need their sections (and iRODS a proxy user)."""
    source = settings.source
    if settings.tls is not None:
        _check_tls(settings)
    used = {name for share in settings.shares for name in chain_for(settings, share)}
    if "x509" in used:
        tls = settings.tls
        if tls is None or tls.client_certificates == "none":
            problem = "must be optional or required for the x509 authenticator"
            raise ConfigError(source, "tls.client_certificates", problem)
        if settings.x509.mapping == "gridmap":
            _check_gridmap(settings)
    if "ipallow" in used and not settings.ipallow.networks:
        raise ConfigError(source, "ipallow.networks", "required by the ipallow authenticator")
    for index, share in enumerate(settings.shares):
        chain = chain_for(settings, share)
        proxied = share.backend == "irods" and {"x509", "ipallow"} & set(chain)
        if proxied and not getattr(share.options, "proxy_user", ""):
            problem = "a rodsadmin proxy_user is required for x509/ipallow identities"
            raise ConfigError(source, f"shares[{index}].options.proxy_user", problem)
        registry_needed = settings.x509.mapping == "irods" and settings.x509.irods is None
        if "x509" in chain and registry_needed and share.backend != "irods":
            problem = "x509.irods is required to map DNs for a share that is not iRODS"
            raise ConfigError(source, f"shares[{index}]", problem)


def _check_tls(settings: Settings) -> None:
    """Load certificate, key, client CAs and CRLs once, as the server will."""
    from davprovider.server.tls import build_context  # tls imports this module

    assert settings.tls is not None
    try:
        build_context(settings.tls)
    except (OSError, ValueError) as exc:
        raise ConfigError(settings.source, "tls", f"cannot be loaded: {exc}") from None


def _check_gridmap(settings: Settings) -> None:
    from auth.gridmap import GridMapError, load_gridmap  # auth imports this module

    if not settings.x509.gridmap:
        raise ConfigError(settings.source, "x509.gridmap", "required when x509.mapping is gridmap")
    try:
        load_gridmap(settings.x509.gridmap)
    except (OSError, UnicodeDecodeError, GridMapError) as exc:
        raise ConfigError(settings.source, "x509.gridmap", str(exc)) from None


def _join(keypath: str, key: str) -> str:
    return f"{keypath}.{key}" if keypath else key


def _build(
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
            raise ConfigError(source, _join(keypath, str(key)), f"unknown key (known: {listing})")
    values: dict[str, Any] = dict(internal or {})
    for spec in fields:
        path = _join(keypath, spec.name)
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
        return _build(typing.cast(type, tp), value, keypath, source)
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
                args[1], v, _join(keypath, str(k)), source
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
