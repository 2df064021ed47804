"""LocalZone: start the zone as a child process on a free port and stop it by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from .meta import Catalog

READY = re.compile(r"serving on (\S+):(\d+)")


class LocalZone:
    """A running local zone. ``with LocalZone(tmp_path) as zone: zone.session()``."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int = 0,
        zone: str = "tempZone",
        host: str = "127.0.0.1",
        admin_password: str = "rods",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host, self.port, self.zone = host, port, zone
        self.admin_password = admin_password
        self.process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "zone.log", "a")  # noqa: SIM115  (child keeps it)
        cmd = [
            sys.executable, "-m", "localgrid.irods", "--data", str(self.data_dir),
            "--port", str(self.port), "--host", self.host, "--zone", self.zone,
            "--admin-password", self.admin_password,
        ]  # fmt: skip
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = READY.search(line)
        if not match:
            self.stop()
            tail = (self.data_dir / "zone.log").read_text()[-2000:]
            raise RuntimeError(f"local zone did not start: {line!r}\n{tail}")
        self.port = int(match.group(2))

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def session(self, user: str = "rods", password: str | None = None, **kwargs: Any) -> Any:
        """An iRODSSession for this zone (rods's password by default)."""
        from irods.session import iRODSSession

        if password is None:
            password = self.admin_password if user == "rods" else ""
        return iRODSSession(
            host=self.host, port=self.port, zone=self.zone, user=user, password=password, **kwargs
        )

    def set_pam_password(self, user: str, password: str) -> None:
        """Put a password in the zone's PAM stand-in table (works while running)."""
        catalog = Catalog(self.data_dir, self.zone, self.admin_password)
        try:
            catalog.set_pam_password(user, password)
        finally:
            catalog.close()

    def __enter__(self) -> LocalZone:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
