"""A local fleet: Redis, N gateways and HAProxy in front of them (``make demo GATEWAYS=N``).

``Fleet(data, config, gateways, port)`` starts, every process on 127.0.0.1 and stopped
by PID:

- Debian's ``redis-server`` on a free port (``localgrid.redis.LocalRedis``, its config,
  log and PID file under ``DATA/fleet/redis``; no persistence: the demo's locks and
  counters start empty);
- N ``davprovider serve`` processes on free ports, each with ``config`` plus a
  ``redis:`` section naming that Redis (shared locks, listing-cache invalidations and
  failed-login counts) and no per-client connection bound (every client reaches them
  from HAProxy's address);
- Debian's ``haproxy`` on ``port``: round-robin over the gateways, each checked every
  two seconds at its health URL (a gateway whose backends do not answer is taken out);

and writes ``DATA/fleet.json``::

    {"balancer": PORT, "redis": PORT,
     "gateways": [{"port": P, "pid": PID, "health": PATH, "metrics": PATH}, ...]}

``python -m localgrid.fleet --config X --gateways N --port P --data D`` runs one for any
gateway config (the tests use a memory share); ``python -m localgrid demo --gateways N``
puts one in front of the demo's iRODS zone and Swift. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from localgrid.redis import NO_KEYS, LocalRedis
from localgrid.swift import _die_with_parent, free_base_port
from localgrid.tools import debian_tool, stop_process

HEALTH = "/.well-known/davprovider/health"
METRICS = "/metrics"

HAPROXY_CONF = """\
global
    maxconn 4096
defaults
    mode http
    option forwardfor
    option redispatch
    retries 3
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-request 30s
    timeout queue 10s
frontend webdav
    bind 127.0.0.1:{port}
    http-request deny if {{ path /metrics }}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk
    http-check send meth GET uri {health} ver HTTP/1.1 hdr Host fleet
    http-check expect status 200
    default-server inter {check_ms} fall 2 rise 1
{servers}
"""


def haproxy_config(port: int, gateways: list[int], check_ms: int = 2000) -> str:
    """haproxy.cfg: round-robin on ``port`` over the gateways on ``gateways`` (ports of
    127.0.0.1), each checked at its health URL every ``check_ms`` ms (out after two
    failures, back after one success); /metrics is not served through it."""
    servers = "\n".join(f"    server gw{i} 127.0.0.1:{p} check" for i, p in enumerate(gateways, 1))
    return HAPROXY_CONF.format(port=port, health=HEALTH, check_ms=check_ms, servers=servers)


def tool(name: str) -> str:
    """The path of a Debian tool (``haproxy``); exit when missing."""
    found = debian_tool(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (Debian: apt-get install {name})")
    return found


def free_port() -> int:
    """A free port on 127.0.0.1 (below the ephemeral range)."""
    return free_base_port(1)


def wait_until(check: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll ``check()`` until it returns something true (bounded in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH}", timeout=5) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def gateway_config(config: Path, redis_url: str, folder: Path) -> Path:
    """``config`` for a fleet member: Redis shared state, no per-client bound, loopback."""
    raw: dict[str, Any] = yaml.safe_load(config.read_text()) or {}
    server = raw.setdefault("server", {})
    server.update(host="127.0.0.1", connections_per_client=0)
    raw["redis"] = {"url": redis_url}  # the fleet's own Redis, whatever config named
    path = folder / "gateway.yaml"
    path.write_text(f"# {config} as a fleet member (localgrid.fleet)\n" + yaml.safe_dump(raw))
    return path


def spawn(log_path: Path, cmd: list[str]) -> subprocess.Popen[bytes]:
    """``cmd`` as a child with its output in ``log_path``, in a session of its own (Ctrl-C
    reaches it through us) and ended when we die."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )


def start_gateway(
    log_path: Path, config: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], int]:
    """``davprovider serve`` for ``config`` on a free port: the process and its port, once
    its health URL answers 200."""
    port = free_port()
    cmd = [sys.executable, "-m", "davprovider", "serve", "--config", str(config)]
    cmd += ["--port", str(port), "--workers", str(workers)]
    process = spawn(log_path, cmd)

    def ready() -> bool:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{log_path.stem} exited:\n{tail}")
        return healthy(port)

    try:
        wait_until(ready, log_path.stem)
    except BaseException:
        process.kill()
        process.wait(10)
        raise
    return process, port


class Fleet:
    """Redis, ``gateways`` gateways and HAProxy on ``port``; ``start()``/``stop()``."""

    def __init__(
        self, data: Path, config: Path, gateways: int, port: int, workers: int = 1
    ) -> None:
        self.data = Path(data).resolve()
        self.folder = self.data / "fleet"
        self.config = Path(config)
        self.count = gateways
        self.port = port
        self.workers = workers
        self.redis = LocalRedis(self.folder / "redis", extra_config=NO_KEYS)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.gateway_ports: list[int] = []

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        self.processes[name] = spawn(self.folder / f"{name}.log", cmd)
        return self.processes[name]

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.redis.start()
        config = gateway_config(self.config, self.redis.url, self.folder)
        for index in range(1, self.count + 1):
            self.gateway_ports.append(self._start_gateway(index, config))
        self._start_haproxy()
        self.write_summary()

    def _start_gateway(self, index: int, config: Path) -> int:
        name = f"gateway-{index}"
        process, port = start_gateway(self.folder / f"{name}.log", config, self.workers)
        self.processes[name] = process
        return port

    def _start_haproxy(self) -> None:
        conf = self.folder / "haproxy.cfg"
        conf.write_text(haproxy_config(self.port, self.gateway_ports))
        haproxy = tool("haproxy")
        subprocess.run([haproxy, "-c", "-q", "-f", str(conf)], check=True)
        self._spawn("haproxy", [haproxy, "-db", "-f", str(conf)])
        wait_until(lambda: healthy(self.port), "haproxy")

    def summary(self) -> dict[str, Any]:
        gateways = [
            {"port": port, "pid": self.processes[f"gateway-{i}"].pid}
            | {"health": HEALTH, "metrics": METRICS}
            for i, port in enumerate(self.gateway_ports, 1)
        ]
        return {"balancer": self.port, "redis": self.redis.port, "gateways": gateways}

    def write_summary(self) -> Path:
        path = self.data / "fleet.json"
        path.write_text(json.dumps(self.summary(), indent=2) + "\n")
        return path

    def stop(self) -> None:
        """HAProxy, the gateways, then Redis: SIGTERM by PID, SIGKILL if one lingers."""
        for name in sorted(self.processes, key=lambda n: n != "haproxy"):
            stop_process(self.processes[name], 15)
        self.processes.clear()
        self.redis.stop()

    def instructions(self) -> str:
        lines = [
            f"  gateway {i}: http://127.0.0.1:{p}/" for i, p in enumerate(self.gateway_ports, 1)
        ]
        return (
            f"\ndavprovider fleet: HAProxy on http://127.0.0.1:{self.port}/ (round-robin, "
            f"health checks on {HEALTH})\n  redis: 127.0.0.1:{self.redis.port}\n"
            + "\n".join(lines)
            + f"\n  {self.data / 'fleet.json'}; logs in {self.folder}/ (Ctrl-C stops all)\n"
        )


def stop_once(signum: int, frame: object) -> None:
    """The first SIGTERM/SIGINT stops (KeyboardInterrupt); later ones must not break the
    clean-up (ignored)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def run(fleet: Fleet) -> int:
    """Start ``fleet``, print where it is, wait for Ctrl-C or SIGTERM, stop it."""
    signal.signal(signal.SIGTERM, stop_once)
    signal.signal(signal.SIGINT, stop_once)
    try:
        fleet.start()
        print(fleet.instructions(), flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return 0
    finally:
        fleet.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localgrid.fleet", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("wsgidav.yaml"))
    parser.add_argument("--data", type=Path, default=Path("var/demo"))
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port")
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="processes per gateway")
    args = parser.parse_args(argv)
    return run(Fleet(args.data, args.config, args.gateways, args.port, args.workers))


if __name__ == "__main__":
    sys.exit(main())
