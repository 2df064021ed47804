"""``options:`` of a Swift share, validated by settings.py at startup."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

GiB = 1 << 30
_AUTH_VERSIONS = {"1": "1.0", "1.0": "1.0", "2": "2.0", "2.0": "2.0", "3": "3", "3.0": "3"}


@dataclass(frozen=True)
class Profile:
    """Service credentials a certificate or IP identity acts with (``profiles:``).

    ``user``/``key`` as for a password login (tempauth ``account:user`` and key,
    or a Keystone user and password); ``project_name`` overrides the share's.
    """

    user: str
    key: str = field(default="", repr=False)
    project_name: str = ""


@dataclass(frozen=True)
class Options:
    """Where Swift is, how callers authenticate, and how uploads are cut.

    - ``auth_version``: ``1.0`` (tempauth/swauth; ``auth_url`` ends in
      ``/auth/v1.0``) or ``3`` (Keystone v3, needs python-keystoneclient;
      ``2.0`` is accepted for old clouds).
    - ``user_template``: the Swift user for an HTTP Basic login name:
      ``"{user}"`` (Keystone), ``"{user}:{user}"`` or ``"research:{user}"``
      (tempauth ``account:user``). ``project_name`` may use ``{user}`` too.
    - ``container``: serve one container as the share root instead of the
      account's list of containers.
    - ``profiles``: mapped user name (from the x509/ipallow authenticators) ->
      service credentials; such a caller without a profile is refused (403).
    - ``segment_size``: larger uploads become Static Large Objects with their
      segments in ``<container><segment_suffix>``.
    - ``sweep_age``: segments of an upload whose newest is older than this many
      seconds and that no manifest lists are orphans of a crash and deleted
      (``sweep.py``); ``sweep_interval``: seconds between sweeps (0: once).
    - ``temp_url_redirect``: GET and PUT (``temp_url_methods``) of clients whose
      User-Agent matches ``temp_url_clients`` answered by a 307 to a Swift temp
      URL valid for ``temp_url_seconds``, bound to the client's address when
      ``temp_url_bind_ip`` (``temp_url_key``: empty = the account's
      ``X-Account-Meta-Temp-URL-Key``); see ``tempurl.py``.
    """

    auth_url: str = "http://127.0.0.1:8080/auth/v1.0"
    auth_version: Any = "1.0"
    user_template: str = "{user}"
    storage_url: str = ""
    container: str = ""
    # Keystone v3 (ignored by auth_version 1.0)
    project_name: str = ""
    project_id: str = ""
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str = ""
    interface: str = "public"
    insecure: bool = False
    cacert: str = ""
    # certificate and IP identities
    profiles: dict[str, Profile] = field(default_factory=dict)
    # uploads, listings, tree operations
    segment_size: int = GiB
    segment_suffix: str = "_segments"
    hide_segment_containers: bool = True
    concurrency: int = 8
    sweep_age: float = 3600.0
    sweep_interval: float = 600.0
    # connections
    timeout: float = 60.0
    pool_size: int = 64
    pool_ttl: float = 300.0
    # temp URLs for GET and PUT (off by default: davfs2 does not follow redirects)
    temp_url_redirect: bool = False
    temp_url_seconds: int = 10
    temp_url_key: str = field(default="", repr=False)
    temp_url_digest: str = "sha256"
    temp_url_clients: tuple[str, ...] = (r"^libdavix/", r"^davix", r"^gfal2/", r"^curl/")
    temp_url_methods: tuple[str, ...] = ("GET", "PUT")
    temp_url_bind_ip: bool = True

    def __post_init__(self) -> None:
        version = _AUTH_VERSIONS.get(str(self.auth_version))
        if version is None:
            raise ValueError(f"auth_version must be 1.0, 2.0 or 3, not {self.auth_version!r}")
        object.__setattr__(self, "auth_version", version)
        if not re.match(r"https?://", self.auth_url):
            raise ValueError("auth_url must be an http:// or https:// URL")
        for name in ("user_template", "project_name"):
            _check_template(name, getattr(self, name))
        if self.segment_size < 1 or self.concurrency < 1 or self.pool_size < 1:
            raise ValueError("segment_size, concurrency and pool_size must be positive")
        if self.sweep_age <= 0 or self.sweep_interval < 0:
            raise ValueError("sweep_age must be positive and sweep_interval not negative")
        if self.timeout <= 0 or self.pool_ttl <= 0 or self.temp_url_seconds <= 0:
            raise ValueError("timeout, pool_ttl and temp_url_seconds must be positive")
        if "/" in self.container:
            raise ValueError("container must be a container name (no '/')")
        if not self.segment_suffix or "/" in self.segment_suffix:
            raise ValueError("segment_suffix must be a non-empty name part without '/'")
        if self.temp_url_digest not in ("sha1", "sha256", "sha512"):
            raise ValueError("temp_url_digest must be sha1, sha256 or sha512")
        _check_temp_url_clients(self.temp_url_clients, self.temp_url_methods)
        if version != "1.0" and not (self.project_name or self.project_id):
            raise ValueError(f"auth_version {version} needs project_name or project_id")

    def swift_user(self, login: str) -> str:
        """The Swift user name for an HTTP Basic login name."""
        return self.user_template.format(user=login)

    def is_segment_container(self, name: str) -> bool:
        return name.endswith(self.segment_suffix) and len(name) > len(self.segment_suffix)


def _check_template(name: str, template: str) -> None:
    try:
        template.format(user="x")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"{name} may only use {{user}}: {exc}") from None


def _check_temp_url_clients(patterns: tuple[str, ...], methods: tuple[str, ...]) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"temp_url_clients: bad pattern {pattern!r}: {exc}") from None
    if not set(methods) <= {"GET", "PUT"}:
        raise ValueError("temp_url_methods may only name GET and PUT")
