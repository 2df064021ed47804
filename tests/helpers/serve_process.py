"""``davprovider serve`` as a child process, for the tests that need a real one (the
iRODS, client and TLS tests).

``start_process(config, dir)`` writes the config, runs ``python -m davprovider serve
--config FILE`` on a free port of 127.0.0.1 (port 0; the real one and the scheme, http or
https, are read from its log) and returns a ``GatewayProcess``, stopped by PID.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from localgrid.tools import stop_process

SERVING = re.compile(r"serving \S+ \(\w+\) on (https?)://([\d.]+):(\d+)/")


@dataclass
class GatewayProcess:
    """A running ``davprovider serve``: its process, its port and its log."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    scheme: str = "http"

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, size: int = 4000) -> str:
        return self.log()[-size:]

    def memory(self, field: str) -> int:
        """A memory figure of the gateway process from /proc (VmRSS, VmHWM), in bytes."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        assert match, status
        return int(match.group(1)) * 1024

    def rss(self) -> int:
        return self.memory("VmRSS")

    def reset_peak_memory(self) -> bool:
        """Reset VmHWM (peak RSS) to the current RSS; False where the kernel refuses."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it does not exit in time."""
        stop_process(self.process)


P = TypeVar("P", bound=GatewayProcess)


def start_process(
    config: dict[str, Any],
    workdir: Path,
    timeout: float = 20.0,
    kind: type[P] = GatewayProcess,  # type: ignore[assignment]
    args: tuple[str, ...] = (),
) -> P:
    """Write ``config`` to ``workdir``, start the gateway (``args``: more ``serve``
    options, e.g. ``("--workers", "2")``), wait until it logs its port; a ``kind``
    (``GatewayProcess`` or a subclass) of it."""
    config_path = workdir / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log_path = workdir / "gateway.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "davprovider", "serve", "--config", str(config_path), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    deadline = time.monotonic() + timeout
    while True:
        match = SERVING.search(log_path.read_text(errors="replace"))
        if match:
            return kind(process, int(match.group(3)), log_path, match.group(1))
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"gateway did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.05)
