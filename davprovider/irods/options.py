"""``options:`` of an iRODS share, validated by settings.py at startup."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Options:
    """Where the zone is, what part of it the share exposes, and how to log in.

    ``root``: ``zone`` (``/<zone>``), ``home`` (``/<zone>/home``), ``user`` (the caller's
    home, as Davrods' ``DavrodsExposedRoot User``) or an absolute collection path.
    ``irods_environment``: an ``irods_environment.json`` whose host, port, zone and
    authentication scheme fill the fields left at their defaults.
    ``register_checksums``: uploads ask iRODS to register the catalog checksum on close
    (``regChksum``; iRODS reads the new object once more), which the gateway then
    compares with the SHA-256 it computed while the body streamed.
    ``sweep_age``: hidden temporary objects of uploads older than this many seconds are
    leftovers of a crash and removed (``sweep.py``); it must exceed the longest upload.
    ``sweep_interval``: seconds between sweeps (0: only at start and when a session opens).
    ``parallel_streams``: iRODS connections a transfer of ``parallel_threshold`` bytes or
    more uses (a PUT with a Content-Length, a GET; ``parallel.py``); 1: one stream.
    """

    host: str = "127.0.0.1"
    port: int = 1247
    zone: str = "tempZone"
    root: str = "user"
    auth_scheme: str = "native"
    proxy_user: str = ""
    proxy_password: str = field(default="", repr=False)
    trash: bool = False
    pool_size: int = 64
    pool_ttl: float = 300.0
    timeout: int = 120
    irods_environment: str = ""
    register_checksums: bool = True
    sweep_age: float = 3600.0
    sweep_interval: float = 600.0
    parallel_streams: int = 1
    parallel_threshold: int = 32 << 20

    def __post_init__(self) -> None:
        if self.auth_scheme not in ("native", "pam_password"):
            raise ValueError("auth_scheme must be native or pam_password")
        if self.root not in ("zone", "home", "user") and not self.root.startswith("/"):
            raise ValueError("root must be zone, home, user or an absolute collection path")
        if self.pool_size < 1 or self.pool_ttl <= 0 or self.timeout <= 0:
            raise ValueError("pool_size, pool_ttl and timeout must be positive")
        if self.sweep_age <= 0 or self.sweep_interval < 0:
            raise ValueError("sweep_age must be positive and sweep_interval not negative")
        if not 1 <= self.parallel_streams <= 16 or self.parallel_threshold < 1:
            raise ValueError("parallel_streams must be 1 to 16 and parallel_threshold positive")
        if self.irods_environment:
            self._apply_environment(Path(self.irods_environment))

    def _apply_environment(self, path: Path) -> None:
        try:
            env: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"irods_environment {path}: {exc}") from exc
        defaults = Options.__dataclass_fields__
        mapping = {
            "host": "irods_host", "port": "irods_port", "zone": "irods_zone_name",
            "auth_scheme": "irods_authentication_scheme",
        }  # fmt: skip
        for name, key in mapping.items():
            if key in env and getattr(self, name) == defaults[name].default:
                value = env[key]
                if name == "auth_scheme":
                    value = {"pam": "pam_password"}.get(str(value).lower(), str(value).lower())
                object.__setattr__(self, name, value)

    def collection_for(self, user: str) -> str:
        """The iRODS collection the share root maps to for ``user``."""
        return {
            "zone": f"/{self.zone}",
            "home": f"/{self.zone}/home",
            "user": f"/{self.zone}/home/{user}",
        }.get(self.root, self.root.rstrip("/") or "/")
