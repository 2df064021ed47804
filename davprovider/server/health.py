"""``GET /.well-known/davprovider/health``: does every share's backend answer?

For load-balancer checks, so: no authentication, a JSON body, 200 when every share's
backend answered and 503 otherwise, and cheap. Each share is asked by the factory's
``ping()`` when it has one, else by a login with a made-up account and a random
password (``login`` returning either answer means the backend is there; raising
``ConnectionError``/``TimeoutError`` or anything else means it is not). The asks run in
threads bounded by ``health.timeout`` seconds, one at a time per share (an ask still
running is an answer: unhealthy), and one result serves every check for
``health.cache`` seconds.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from davprovider.backend import BackendFactory
from davprovider.settings import HealthSettings

PATH = "/.well-known/davprovider/health"
PROBE_USER = "davprovider-health-probe"

log = logging.getLogger("davprovider.health")


class Probe:
    """Asks one share's backend, in a thread of its own, at most one ask at a time."""

    def __init__(self, factory: BackendFactory) -> None:
        self.factory = factory
        self._running: threading.Thread | None = None
        self._result: str = "not asked"

    def ask(self) -> threading.Thread | None:
        """Start an ask unless one is still running; the thread, or None."""
        if self._running is not None and self._running.is_alive():
            return None
        self._running = threading.Thread(target=self._run, name="health", daemon=True)
        self._running.start()
        return self._running

    def _run(self) -> None:
        try:
            ping = getattr(self.factory, "ping", None)
            if callable(ping):
                ping()
            else:
                self.factory.login(PROBE_USER, secrets.token_urlsafe(16))
        except Exception as exc:  # noqa: BLE001 - any failure is an unhealthy answer
            log.warning("health: backend did not answer: %s", exc)
            self._result = type(exc).__name__  # the detail is for the log, not the caller
        else:
            self._result = "ok"

    def result(self) -> str:
        if self._running is not None and self._running.is_alive():
            return "no answer in time"
        return self._result


class HealthPage:
    """WSGI app answering the health URL (any client; GET or HEAD)."""

    def __init__(self, factories: Mapping[str, BackendFactory], settings: HealthSettings) -> None:
        self.probes = {path: Probe(factory) for path, factory in factories.items()}
        self.settings = settings
        self._lock = threading.Lock()
        self._answer: tuple[float, bool, dict[str, str]] | None = None

    def check(self) -> tuple[bool, dict[str, str]]:
        """(healthy, share -> ``ok`` or the problem), fresh or at most ``cache`` s old."""
        with self._lock:  # concurrent checks wait for one ask instead of asking too
            now = time.monotonic()
            if self._answer is not None and now - self._answer[0] < self.settings.cache:
                return self._answer[1], self._answer[2]
            threads = [t for t in (p.ask() for p in self.probes.values()) if t is not None]
            deadline = now + self.settings.timeout
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            shares = {path: probe.result() for path, probe in self.probes.items()}
            healthy = all(result == "ok" for result in shares.values())
            if not healthy:
                log.warning("health: %s", shares)
            self._answer = (time.monotonic(), healthy, shares)
            return healthy, shares

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        healthy, shares = self.check()
        status = "ok" if healthy else "unavailable"
        body = json.dumps({"status": status, "shares": shares}).encode() + b"\n"
        start_response(
            "200 OK" if healthy else "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
