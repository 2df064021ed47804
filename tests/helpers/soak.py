"""A mixed-verb workload for soak tests: clients with their own folders on one share.

Each client loops until its time is up, choosing among PUT (with ``Content-MD5``), GET
(and verify), PROPFIND, MOVE, COPY, DELETE, MKCOL and LOCK/UNLOCK, and remembers every
file the gateway acknowledged. At the end every acknowledged file is read back. The
report counts errors (an unexpected status, a 5xx, a failed connection) and mismatches
(content other than acknowledged), with latencies per verb. Bounded in time and count;
it talks only to the gateway it is given (127.0.0.1).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

LOCKINFO = (
    b'<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
    b"</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>soak</D:owner></D:lockinfo>"
)
EXPECTED = {
    "PUT": {201, 204}, "GET": {200}, "PROPFIND": {207}, "MOVE": {201, 204},
    "COPY": {201, 204}, "DELETE": {204}, "MKCOL": {201}, "LOCK": {200}, "UNLOCK": {204},
}  # fmt: skip
MAX_REQUESTS = 100_000  # per client, whatever the time


@dataclass
class Share:
    """Where a client works: ``folder`` (share path ending in ``/``) and a Basic login."""

    host: str
    port: int
    folder: str
    user: str
    password: str = field(repr=False)

    @property
    def auth(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()


@dataclass
class Report:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    files: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, verb: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies.setdefault(verb, []).append(seconds)
            if error is not None:
                self.errors.append(error)


class Client:
    """One soak client in its own folder ``<share.folder>soak-<n>/``."""

    def __init__(self, share: Share, number: int, report: Report, seed: int) -> None:
        self.share = share
        self.folder = f"{share.folder}soak-{number}/"
        self.report = report
        self.rng = random.Random(seed)
        self.files: dict[str, str] = {}  # path -> md5 hex of what was acknowledged
        self.conn: http.client.HTTPConnection | None = None

    def request(self, verb: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, bytes]:
        sent = {"Authorization": self.share.auth, **headers}
        started = time.monotonic()
        for attempt in range(2):  # a kept-alive connection the gateway closed: once more
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        self.share.host, self.share.port, timeout=30
                    )
                self.conn.request(verb, path, body=body or None, headers=sent)
                reply = self.conn.getresponse()
                data = reply.read()
                if reply.getheader("Connection", "").lower() == "close":
                    self.close()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 1:
                    self.report.add(verb, time.monotonic() - started, f"{verb} {path}: {exc!r}")
                    return 0, b""
        ok = reply.status in EXPECTED[verb]
        error = None if ok else f"{verb} {path}: {reply.status} {data[:120]!r}"
        self.report.add(verb, time.monotonic() - started, error)
        return reply.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self, until: float) -> None:
        self.request("MKCOL", self.folder)
        steps = [self.put, self.put, self.get, self.get, self.propfind, self.move, self.copy,
                 self.delete, self.mkcol, self.lock]  # fmt: skip
        for _ in range(MAX_REQUESTS):
            if time.monotonic() >= until:
                break
            self.rng.choice(steps)()
        self.verify()
        self.close()

    def _name(self) -> str:
        return f"{self.folder}f{self.rng.randrange(1 << 30):x}.bin"

    def _known(self) -> str | None:
        return self.rng.choice(sorted(self.files)) if self.files else None

    def put(self) -> None:
        path = self._known() if self.files and self.rng.random() < 0.3 else self._name()
        assert path is not None
        data = self.rng.randbytes(self.rng.randrange(1, 64 * 1024))
        digest = hashlib.md5(data)
        md5 = base64.b64encode(digest.digest()).decode()
        status, _ = self.request("PUT", path, data, **{"Content-MD5": md5})
        if status in EXPECTED["PUT"]:
            self.files[path] = digest.hexdigest()

    def get(self) -> None:
        path = self._known()
        if path is None:
            return
        status, data = self.request("GET", path)
        if status == 200 and hashlib.md5(data).hexdigest() != self.files[path]:
            self.report.mismatches.append(path)

    def propfind(self) -> None:
        self.request("PROPFIND", self.folder, Depth="1")

    def move(self) -> None:
        self._transfer("MOVE")

    def copy(self) -> None:
        self._transfer("COPY")

    def _transfer(self, verb: str) -> None:
        source = self._known()
        if source is None:
            return
        target = self._name()
        status, _ = self.request(verb, source, Destination=target, Overwrite="T")
        if status in EXPECTED[verb]:
            self.files[target] = self.files[source]
            if verb == "MOVE":
                del self.files[source]

    def delete(self) -> None:
        path = self._known()
        if path is not None and self.request("DELETE", path)[0] == 204:
            del self.files[path]

    def mkcol(self) -> None:
        self.request("MKCOL", f"{self.folder}d{self.rng.randrange(1 << 30):x}/")

    def lock(self) -> None:
        path = self._known()
        if path is None:
            return
        status, body = self.request("LOCK", path, LOCKINFO, Timeout="Second-60")
        token = body.split(b"<D:href>", 1)[-1].split(b"</D:href>", 1)[0].decode()
        if status == 200 and token.startswith("opaquelocktoken:"):
            self.request("UNLOCK", path, **{"Lock-Token": f"<{token}>"})

    def verify(self) -> None:
        for path, md5 in sorted(self.files.items()):
            status, data = self.request("GET", path)
            if status != 200 or hashlib.md5(data).hexdigest() != md5:
                self.report.mismatches.append(path)
        with self.report.lock:
            self.report.files += len(self.files)


def soak(shares: list[Share], clients: int, seconds: float, seed: int = 1) -> Report:
    """``clients`` clients spread over ``shares`` for ``seconds``, then the read-back."""
    report = Report()
    until = time.monotonic() + seconds
    workers = [Client(shares[n % len(shares)], n, report, seed * 1000 + n) for n in range(clients)]
    threads = [threading.Thread(target=w.run, args=(until,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 300)
    return report


def percentiles(report: Report) -> dict[str, Any]:
    """Per verb: count, p50 and p99 in milliseconds."""
    table: dict[str, Any] = {}
    for verb, values in sorted(report.latencies.items()):
        ordered = sorted(values)
        p50, p99 = (_quantile(ordered, q) * 1000 for q in (0.5, 0.99))
        table[verb] = {"count": len(ordered), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1)}
    return table


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
