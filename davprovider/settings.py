"""The config file's sections as frozen dataclasses, validated once at startup.

``load_settings(path)`` reads a YAML file and checks every key (``schema.py``): an
unknown key, a missing required key or a bad value raises ``ConfigError`` whose message
names the file and the key path, e.g. ``site.yaml: shares[0].backend: unknown backend
type 'irod' (known: irods, memory, swift)``.

Sections owned by plugins are validated against the plugin's own ``Options``
(``plugins.py``): ``shares[].options`` by the backend type's, ``x509:`` and
``ipallow:`` by those authenticators'. After the sections, each authenticator used in a
chain may check the whole (``check_settings``): an x509 chain needs client
certificates, for instance. TLS files are loaded by the server at startup
(``server/tls.py``), also for ``check-config``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from davprovider import plugins, schema
from davprovider.digests import DIGEST_ALGORITHMS
from davprovider.schema import ConfigError, build, not_negative, port, positive, seconds

__all__ = [
    "ChecksumSettings",
    "ClientSettings",
    "ConfigError",
    "Settings",
    "ShareSettings",
    "TLSSettings",
    "chain_for",
    "load_settings",
    "settings_from_mapping",
]

Convert = Callable[[Any, str, str, Mapping[str, Any]], Any]


def _block_size(value: int) -> str | None:
    return None if 4096 <= value <= 64 << 20 else "must be between 4096 and 67108864 bytes"


def _share_path(value: str) -> str | None:
    if not re.fullmatch(r"(/[^/\s?#]+)+", value):
        return "must look like /name (leading slash, no trailing slash, no spaces)"
    if value.split("/")[1].lower() in ("metrics", ".well-known"):
        return "is reserved (/metrics and /.well-known/davprovider/health are the server's)"
    return None


def _algorithms(value: tuple[str, ...]) -> str | None:
    unknown = [name for name in value if name not in DIGEST_ALGORITHMS]
    if unknown:
        known = ", ".join(sorted(DIGEST_ALGORITHMS))
        return f"unknown digest algorithm {unknown[0]!r} (known: {known})"
    return None


def _backend_options(raw: Any, keypath: str, source: str, siblings: Mapping[str, Any]) -> Any:
    try:
        module = plugins.load_backend(siblings["backend"])
    except LookupError as exc:
        raise ConfigError(source, keypath.rsplit(".", 1)[0] + ".backend", str(exc)) from None
    return build(module.Options, {} if raw is None else raw, keypath, source)


def _authenticator_options(name: str) -> Convert:
    """The section ``name:`` as authenticator ``name``'s own ``Options``."""

    def convert(raw: Any, keypath: str, source: str, siblings: Mapping[str, Any]) -> Any:
        module = plugins.load_authenticator(name)
        return build(module.Options, {} if raw is None else raw, keypath, source)

    return convert


@dataclass(frozen=True)
class ServerSettings:
    """``server:``: where and how cheroot listens (HTTPS when ``tls:`` is set).

    ``timeout``: seconds a silent client is given, and the bound on each body read;
    ``header_timeout``: seconds from a request head's first byte to its last;
    ``connections_per_client``: open connections one address may hold (0: no bound;
    behind a load balancer every client has its address)."""

    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata={"check": port})
    threads: int = field(default=20, metadata={"check": positive})
    timeout: int = field(default=30, metadata={"check": positive})
    shutdown_timeout: int = field(default=5, metadata={"check": positive})
    max_header_size: int = field(default=64 * 1024, metadata={"check": positive})
    header_timeout: float = field(default=10.0, metadata={"check": seconds})
    connections_per_client: int = field(default=256, metadata={"check": not_negative})


@dataclass(frozen=True)
class LoggingSettings:
    """``logging:``: level of the ``davprovider`` loggers and the access log."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    access_format: Literal["text", "json"] = "text"
    access_file: str = ""


@dataclass(frozen=True)
class MetricsSettings:
    """``metrics:``: Prometheus metrics at ``/metrics``, answered only to clients in
    ``allow`` (CIDRs; empty: ``/metrics`` is off)."""

    allow: tuple[str, ...] = field(
        default=("127.0.0.1/32", "::1/128"), metadata={"check": schema.networks}
    )


@dataclass(frozen=True)
class HealthSettings:
    """``health:``: ``/.well-known/davprovider/health`` asks every share's backend,
    each within ``timeout`` seconds, and reuses an answer for ``cache`` seconds."""

    timeout: float = field(default=3.0, metadata={"check": seconds})
    cache: float = field(default=1.0, metadata={"check": seconds})


@dataclass(frozen=True)
class TLSSettings:
    """``tls:``: HTTPS on the server's port.

    ``certificate`` (PEM, the server's certificate, optionally followed by its
    intermediates) and ``key`` (``key_password`` if it is encrypted); ``chain``: more
    intermediates to send. ``client_ca``: the CAs trusted to issue client
    certificates, kept apart from the server chain.
    ``crls``: PEM files with a current CRL for every CA in ``client_ca`` (the whole
    chain is checked, so a CA without a CRL fails every client it issued).
    ``bad_certificates`` (with ``optional``): ``forbid`` finishes the handshake with a
    revoked, expired or untrusted certificate and answers its every request 403 with
    the reason; ``handshake`` refuses it in the handshake, as ``required`` always does.
    """

    certificate: str = field(metadata={"check": schema.readable})
    key: str = field(metadata={"check": schema.readable})
    key_password: str = field(default="", repr=False)
    chain: str = field(default="", metadata={"check": schema.readable})
    client_ca: str = field(default="", metadata={"check": schema.readable})
    client_certificates: Literal["none", "optional", "required"] = "none"
    crls: tuple[str, ...] = field(default=(), metadata={"check": schema.readable_all})
    allow_proxies: bool = True
    min_version: Literal["1.2", "1.3"] = "1.2"
    session_cache: int = field(default=10000, metadata={"check": positive})
    bad_certificates: Literal["forbid", "handshake"] = "forbid"

    def __post_init__(self) -> None:
        if self.client_certificates != "none" and not self.client_ca:
            raise ValueError("client_ca is required when client_certificates is not none")
        if self.client_certificates != "none" and not self.crls:
            raise ValueError("crls are required when client certificates are checked")


@dataclass(frozen=True)
class ChecksumSettings:
    """``checksums:``: digests the gateway computes while a PUT streams, kept with the
    object where the backend can (iRODS: AVUs bound to the catalog checksum; Swift:
    metadata sent with the object's own PUT, MD5 being a single object's ETag), so that
    ``Want-Digest`` and listings (``oc:checksums``) report them without reading it.

    ``upload`` is computed for every PUT. ``upload_sync`` too for the PUTs whose digests
    someone will compare: those that carry a client checksum (sync clients such as
    rclone and ownCloud send one, and later compare listings) and those of at most
    ``small_limit`` bytes (cheap). A large PUT from any other client (curl, a mounted
    drive) pays for ``upload`` only: MD5 alone costs a core at about 600 MB/s, SHA-256
    one at about 1.4 GB/s. A checksum the client sends is computed and verified
    whatever these lists say. ``compute_limit`` is the largest object (bytes) the
    gateway reads back to compute a digest it does not know, for a single object's
    ``Want-Digest`` or Depth 0 PROPFIND (0: never; listings never read), and only when
    none of the digests asked for is known. ADLER32 (the grid's checksum) is in ``upload``
    by default: it costs little and is kept with every object."""

    upload: tuple[str, ...] = field(default=("adler32",), metadata={"check": _algorithms})
    upload_sync: tuple[str, ...] = field(
        default=("md5", "sha1", "sha-256", "adler32"), metadata={"check": _algorithms}
    )
    small_limit: int = field(default=16 << 20, metadata={"check": not_negative})
    compute_limit: int = field(default=64 << 20, metadata={"check": not_negative})

    def for_upload(self, size: int | None, client_checksum: bool) -> tuple[str, ...]:
        """The digests to compute for a PUT announcing ``size`` bytes (None: unknown),
        carrying a checksum of its own or not."""
        if client_checksum or (size is not None and size <= self.small_limit):
            return tuple(dict.fromkeys((*self.upload, *self.upload_sync)))
        return self.upload


@dataclass(frozen=True)
class ClientSettings:
    """``clients:``: desktop-client files. ``apple_files: refuse`` answers 403 to
    creating macOS Finder's ``._*`` (AppleDouble) and ``.DS_Store`` files, so they
    never reach the backend; ``store`` keeps them like any file."""

    apple_files: Literal["store", "refuse"] = "store"


@dataclass(frozen=True)
class BrowserSettings:
    """``browser:``: the web interface's folder downloads. ``?download=zip`` on a
    folder is refused (413) when the folder holds more than ``zip_max_bytes`` bytes in
    all or more than ``zip_max_entries`` files and folders."""

    zip_max_bytes: int = field(default=16 << 30, metadata={"check": positive})
    zip_max_entries: int = field(default=10000, metadata={"check": positive})


@dataclass(frozen=True)
class TpcSettings:
    """``tpc:``: HTTP third-party copy as WLCG does it (``COPY`` with ``Source:``, pull;
    ``COPY`` with a remote ``Destination:``, push). ``ca_file``/``ca_dir`` verify remote
    HTTPS endpoints (empty: the system's CAs); ``connect_timeout`` and ``timeout`` (seconds
    without progress) bound each remote request; a performance marker is sent every
    ``marker_interval`` seconds."""

    enabled: bool = True
    ca_file: str = ""
    ca_dir: str = ""
    connect_timeout: float = field(default=30.0, metadata={"check": seconds})
    timeout: float = field(default=300.0, metadata={"check": seconds})
    marker_interval: float = field(default=5.0, metadata={"check": seconds})


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
class RedisSettings:
    """``redis:``: the fleet's shared state (WebDAV locks, listing-cache invalidations,
    failed-login counts) in Redis, so that several gateway processes or hosts behave as
    one. ``url`` (``redis://[:password@]host:port/db``, or ``rediss://`` for TLS; kept
    out of logs as it may hold the password) or ``password_file`` (its first line);
    every key starts with ``key_prefix``; ``timeout`` bounds each command and
    ``connect_timeout`` each connection attempt, in seconds."""

    url: str = field(default="redis://127.0.0.1:6379/0", repr=False)
    password_file: str = field(default="", metadata={"check": schema.readable})
    key_prefix: str = "davprovider:"
    timeout: float = field(default=2.0, metadata={"check": seconds})
    connect_timeout: float = field(default=2.0, metadata={"check": seconds})

    def __post_init__(self) -> None:
        if not re.match(r"(rediss?|unix)://", self.url):
            raise ValueError("url must start with redis://, rediss:// or unix://")
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ValueError("timeout and connect_timeout must be more than 0")
        if self.password_file and urlsplit(self.url).password:
            raise ValueError("give the password in url or in password_file, not both")


@dataclass(frozen=True)
class LoginLimitSettings:
    """``login_limit:``: after ``failures`` failed logins from one client address within
    ``window`` seconds, that address gets 429 (``Retry-After``) for ``block`` seconds;
    counted across the fleet with ``redis:``, in this process without (0: off). Behind
    a load balancer in ``trusted_proxies``, the address is taken from
    ``forwarded_header``."""

    failures: int = field(default=0, metadata={"check": not_negative})
    window: float = field(default=60.0, metadata={"check": seconds})
    block: float = field(default=60.0, metadata={"check": seconds})
    trusted_proxies: tuple[str, ...] = field(default=(), metadata={"check": schema.networks})
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"


@dataclass(frozen=True)
class Settings:
    """The whole config file. ``source`` names the file (not a config key).
    ``x509``, ``ipallow`` and ``ticket`` are those authenticators' ``Options``."""

    shares: tuple[ShareSettings, ...]
    server: ServerSettings = ServerSettings()
    logging: LoggingSettings = LoggingSettings()
    auth: AuthSettings = AuthSettings()
    tls: TLSSettings | None = None
    x509: Any = field(default=None, metadata={"convert": _authenticator_options("x509")})
    ipallow: Any = field(default=None, metadata={"convert": _authenticator_options("ipallow")})
    ticket: Any = field(default=None, metadata={"convert": _authenticator_options("ticket")})
    block_size: int = field(default=256 * 1024, metadata={"check": _block_size})
    propfind_infinity: bool = False
    max_xml_body: int = field(default=1 << 20, metadata={"check": positive})
    lock_storage: Literal["memory", "none"] = "memory"
    lock_max_timeout: int = field(default=3600, metadata={"check": positive})
    dir_browser: bool = True
    browser: BrowserSettings = BrowserSettings()
    listing_cache: float = field(default=5.0, metadata={"check": seconds})
    checksums: ChecksumSettings = ChecksumSettings()
    clients: ClientSettings = ClientSettings()
    tpc: TpcSettings = TpcSettings()
    source: str = field(default="<settings>", metadata={"internal": True})
    bearer: Any = field(default=None, metadata={"convert": _authenticator_options("bearer")})
    token: Any = field(default=None, metadata={"convert": _authenticator_options("token")})
    redis: RedisSettings | None = None
    login_limit: LoginLimitSettings = LoginLimitSettings()
    metrics: MetricsSettings = MetricsSettings()
    health: HealthSettings = HealthSettings()


def load_settings(path: str | Path) -> Settings:
    """Read and validate a YAML config file; raise ``ConfigError`` on any problem."""
    raw = schema.read_yaml(path)
    return settings_from_mapping({} if raw is None else raw, source=str(path))


def settings_from_mapping(raw: Any, *, source: str = "<settings>") -> Settings:
    """Validate an already-parsed config mapping (tests, embedding)."""
    settings: Settings = build(Settings, raw, "", source, internal={"source": source})
    _check_settings(settings)
    return settings


def chain_for(settings: Settings, share: ShareSettings) -> tuple[str, ...]:
    """The authenticator chain of ``share`` (its own, or ``auth.chain``)."""
    return settings.auth.chain if share.auth is None else share.auth


def shares_using(settings: Settings, name: str) -> list[tuple[int, ShareSettings]]:
    """``(index, share)`` of every share whose chain has authenticator ``name``."""
    return [(i, s) for i, s in enumerate(settings.shares) if name in chain_for(settings, s)]


def _check_settings(settings: Settings) -> None:
    if not settings.shares:
        raise ConfigError(settings.source, "shares", "at least one share is required")
    seen: set[str] = set()
    for index, share in enumerate(settings.shares):
        if share.path.lower() in seen:
            raise ConfigError(settings.source, f"shares[{index}].path", "duplicate share path")
        seen.add(share.path.lower())
    used = _check_chain(settings, settings.auth.chain, "auth.chain")
    for index, share in enumerate(settings.shares):
        if share.auth is not None:
            used.update(_check_chain(settings, share.auth, f"shares[{index}].auth"))
    for name, module in used.items():
        check = getattr(module, "check_settings", None)
        if check is not None and shares_using(settings, name):
            check(settings)
        if getattr(module, "PASSWORDLESS", False):
            _check_proxy_users(settings, name)


def _check_chain(settings: Settings, chain: tuple[str, ...], keypath: str) -> dict[str, Any]:
    """The modules of ``chain``'s authenticators, by name; errors name the entry."""
    modules: dict[str, Any] = {}
    for index, name in enumerate(chain):
        try:
            modules[name] = plugins.load_authenticator(name)
        except LookupError as exc:
            raise ConfigError(settings.source, f"{keypath}[{index}]", str(exc)) from None
        if name in chain[:index]:
            raise ConfigError(settings.source, f"{keypath}[{index}]", f"{name} is listed twice")
    return modules


def _check_proxy_users(settings: Settings, name: str) -> None:
    """A backend with a ``proxy_user`` option acts for password-less identities
    through it: it must be set on every share whose chain has one."""
    for index, share in shares_using(settings, name):
        if hasattr(share.options, "proxy_user") and not share.options.proxy_user:
            problem = f"a rodsadmin proxy_user is required for {name} identities"
            raise ConfigError(settings.source, f"shares[{index}].options.proxy_user", problem)
