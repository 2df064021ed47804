"""The local services' tools: where Debian put a program they run (``redis-server``,
``haproxy``; some daemons are in /usr/sbin, which is not on every user's ``PATH``), and
how a process of theirs is stopped (by PID: SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess


def debian_tool(name: str) -> str | None:
    """The path of ``name`` on ``PATH``, in /usr/bin or /usr/sbin; None when missing."""
    return shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/usr/sbin/{name}") if os.path.exists(p)), None
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM ``process`` by its PID, SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
