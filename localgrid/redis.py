"""Debian's ``redis-server`` on 127.0.0.1, with its own config, stopped by PID.

The fleet's shared state (locks, listing-cache invalidations, failed-login counts) lives
in Redis; the tests and the demo start one here::

    with LocalRedis(tmp_path) as redis:            # a free port, no persistence
        client = redis.client()
        url = redis.url                            # redis://127.0.0.1:PORT/0

    python -m localgrid.redis start var/redis      # stays up; ``stop`` ends it
    python -m localgrid.redis stop var/redis

``root`` holds ``redis.conf``, the log, the PID file and (with ``persist=True``: an
append-only file) the data. Without persistence a restart starts empty, which is what
the recovery tests want; the port is kept across ``stop()``/``start()``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from localgrid.swift import _die_with_parent, free_base_port
from localgrid.tools import debian_tool, stop_process

_CONF = """\
bind 127.0.0.1
port {port}
protected-mode yes
daemonize no
dir {root}
logfile {root}/redis.log
pidfile {root}/redis.pid
save ""
appendonly {appendonly}
databases 4
maxclients 1000
tcp-keepalive 30
"""

#: redis.conf lines that make ``KEYS`` an unknown command: the gateway never scans.
NO_KEYS = 'rename-command KEYS ""\n'


class RedisUnavailable(RuntimeError):
    """``redis-server`` is missing or did not start."""


def redis_server() -> str | None:
    """The path of ``redis-server`` (Debian puts it in /usr/bin), or None."""
    return debian_tool("redis-server")


class LocalRedis:
    """One ``redis-server`` under ``root``; ``start()``/``stop()`` or a ``with`` block."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        port: int | None = None,
        *,
        persist: bool = False,
        die_with_parent: bool = True,
        extra_config: str = "",
    ) -> None:
        self.root = Path(root).resolve()
        self.port = port
        self.persist = persist
        self.die_with_parent = die_with_parent
        self.extra_config = extra_config  # more redis.conf lines (``rename-command KEYS ""``)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("not started yet")
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def client(self, **options: Any) -> Any:
        """A ``redis.Redis`` connected to this server."""
        import redis

        return redis.Redis.from_url(self.url, **options)

    def start(self, timeout: float = 20.0) -> LocalRedis:
        """Write the config, start the server, wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            return self
        binary = redis_server()
        if binary is None:
            raise RedisUnavailable("redis-server is not installed (apt-get install redis-server)")
        self.root.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_base_port(1)
        conf = self.root / "redis.conf"
        appendonly = "yes" if self.persist else "no"
        text = _CONF.format(port=self.port, root=self.root, appendonly=appendonly)
        conf.write_text(text + self.extra_config)
        self.process = subprocess.Popen(
            [binary, str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if self.die_with_parent else os.setsid,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            if self.ping():
                return
            time.sleep(0.05)
        log = self.root / "redis.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise RedisUnavailable(f"redis-server did not start on port {self.port}:\n{tail}")

    def ping(self) -> bool:
        """True when the server answers ``PING`` (raw RESP, no client library needed;
        asking for a password is an answer too)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port or 0), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM by PID, SIGKILL if it does not exit in time."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, timeout)

    def restart(self, down: float = 0.0) -> None:
        """Stop, wait ``down`` seconds, start again on the same port (empty unless
        ``persist``)."""
        self.stop()
        time.sleep(down)
        self.start()

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localgrid.redis")
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("root")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--persist", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.action == "stop":
        pid_file = root / "redis.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        return 0
    server = LocalRedis(root, args.port, persist=args.persist, die_with_parent=False).start()
    print(f"redis on {server.url} (pid {server.pid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
