"""Prometheus metrics (``prometheus_client``) and their ``/metrics`` page.

The metrics are made on first use, in the process that serves: with ``serve --workers
N`` the parent sets ``PROMETHEUS_MULTIPROC_DIR`` (``workers.py``) before any worker
starts, so every worker writes its figures to files there and ``/metrics``, whichever
worker answers, sums the whole gateway (``prometheus_client.multiprocess``).

What is counted (all names start with ``davprovider_``):

- ``requests_total{method,status}``, ``request_seconds{method}`` (histogram),
  ``received_bytes_total``, ``sent_bytes_total``: every request (``app.AccessLog``);
- ``backend_calls_total{backend,operation,outcome}``, ``backend_call_seconds{backend,
  operation}``: every call of the storage contract (``instrument.py``);
- ``active_transfers``: GETs and PUTs in progress (summed over live workers);
- ``listing_cache_total{kind,result}``: listing-cache lookups, hits and misses;
- ``logins_total{method,result}``: authentication decisions (``accepted``,
  ``rejected`` credentials, ``challenged`` without credentials, ``refused``, ``limited``);
- ``tls_handshakes_total{result}``: ``ok`` or ``failed``.

Label values are bounded: unknown methods count as ``OTHER``; outcomes are ``ok`` or
the name of a built-in exception (the contract raises no others).
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from davprovider.dav.cache import LOOKUP_OBSERVERS
from davprovider.server.requestlog import Record, login_outcome
from davprovider.settings import MetricsSettings

METHODS = frozenset(
    {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PROPFIND", "PROPPATCH", "MKCOL"}
    | {"COPY", "MOVE", "LOCK", "UNLOCK"}
)
TRANSFERS = frozenset({"GET", "PUT"})
PATH = "/metrics"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

_lock = threading.Lock()
_made: Metrics | None = None


class Metrics:
    """The gateway's metric objects (one set per process)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        def counter(name: str, doc: str, labels: Iterable[str] = ()) -> Any:
            return Counter(f"davprovider_{name}", doc, list(labels))

        self.requests = counter("requests", "HTTP requests answered", ("method", "status"))
        self.latency = Histogram(
            "davprovider_request_seconds", "request duration, body included", ["method"]
        )
        self.received = counter("received_bytes", "request body bytes read")
        self.sent = counter("sent_bytes", "response body bytes sent")
        self.backend_calls = counter(
            "backend_calls", "storage contract calls", ("backend", "operation", "outcome")
        )
        self.backend_latency = Histogram(
            "davprovider_backend_call_seconds",
            "storage contract call duration",
            ["backend", "operation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.transfers = Gauge(
            "davprovider_active_transfers",
            "GET and PUT requests in progress",
            multiprocess_mode="livesum",
        )
        self.cache = counter("listing_cache", "listing cache lookups", ("kind", "result"))
        self.logins = counter("logins", "authentication decisions", ("method", "result"))
        self.handshakes = counter("tls_handshakes", "TLS handshakes", ("result",))


_children: dict[tuple[Any, tuple[str, ...]], Any] = {}


def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once per label set (a dict read after
    that: prometheus_client's own lookup takes a lock and checks every label). Keyed by
    the metric itself, not its ``id()``, which a later metric could reuse."""
    key = (metric, labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def metrics() -> Metrics:
    """This process's metrics, made on first use."""
    global _made
    if _made is not None:
        return _made
    with _lock:
        if _made is None:
            _made = Metrics()
        return _made


def install() -> None:
    """Count the listing cache's lookups too (once per process)."""
    if cache_lookup not in LOOKUP_OBSERVERS:
        LOOKUP_OBSERVERS.append(cache_lookup)


def method_label(method: str) -> str:
    return method if method in METHODS else "OTHER"


_calls: dict[tuple[Metrics, str, str, str], tuple[Any, Any]] = {}


def backend_call(backend: str, operation: str, seconds: float, outcome: str) -> None:
    made = metrics()
    key = (made, backend, operation, outcome)
    pair = _calls.get(key)
    if pair is None:  # both children of the call, found with one lookup from now on
        pair = _calls[key] = (
            child(made.backend_calls, backend, operation, outcome),
            child(made.backend_latency, backend, operation),
        )
    pair[0].inc()
    pair[1].observe(seconds)


def cache_lookup(kind: str, hit: bool) -> None:
    child(metrics().cache, kind, "hit" if hit else "miss").inc()


def tls_handshake(ok: bool) -> None:
    metrics().handshakes.labels("ok" if ok else "failed").inc()


def observe_request(record: Record) -> None:
    """Count a finished request (``requestlog.Record``)."""
    made = metrics()
    method = method_label(record.method)
    child(made.requests, method, str(record.status)).inc()
    child(made.latency, method).observe(record.duration_ms / 1000)
    made.received.inc(record.bytes_in)
    made.sent.inc(record.bytes_out)
    outcome = login_outcome(record)
    if outcome is not None:
        child(made.logins, *outcome).inc()


class TransferCount:
    """``active_transfers`` up for a GET or PUT until ``done()`` (once)."""

    def __init__(self, method: str) -> None:
        self.counted = method in TRANSFERS
        if self.counted:
            metrics().transfers.inc()

    def done(self) -> None:
        if self.counted:
            self.counted = False
            metrics().transfers.dec()


def render() -> tuple[bytes, str]:
    """The metrics page and its content type: this process's figures, or every
    worker's when they share a ``PROMETHEUS_MULTIPROC_DIR``."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
    from prometheus_client.registry import CollectorRegistry

    metrics()
    registry: CollectorRegistry = REGISTRY
    if os.environ.get(MULTIPROCESS_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class MetricsPage:
    """WSGI app answering ``GET /metrics`` to the addresses in ``metrics.allow``, and
    never through a proxy (a request with a forwarding header: a balancer on an allowed
    address must not hand the page to anyone)."""

    def __init__(self, settings: MetricsSettings) -> None:
        self.allowed = [ipaddress.ip_network(cidr) for cidr in settings.allow]

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allowed)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self.allowed:
            return _answer(start_response, "404 Not Found", b"metrics are off\n")
        forwarded = "HTTP_X_FORWARDED_FOR" in environ or "HTTP_FORWARDED" in environ
        if forwarded or not self.allows(environ.get("REMOTE_ADDR", "")):
            return _answer(start_response, "403 Forbidden", b"metrics: address not allowed\n")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", b"GET only\n")
        body, content_type = render()
        answer = _answer(start_response, "200 OK", body, content_type)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else answer


def _answer(
    start_response: Callable[..., Any],
    status: str,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
) -> list[bytes]:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    start_response(status, headers)
    return [body]
