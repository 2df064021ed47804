"""``davprovider serve | check-config | version``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import socket
import sys
import threading
from functools import partial
from importlib import metadata
from types import FrameType

from davprovider.schema import ConfigError
from davprovider.server.context import check_tls
from davprovider.settings import Settings, load_settings

log = logging.getLogger("davprovider")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="davprovider", description="WebDAV gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", default="wsgidav.yaml", help="config file (YAML)")
    serve.add_argument("--host", help="override server.host")
    serve.add_argument("--port", type=int, help="override server.port")
    serve.add_argument("--workers", type=int, default=1, help="processes sharing the port")
    check = commands.add_parser("check-config", help="validate a config file")
    check.add_argument("config", help="config file (YAML)")
    commands.add_parser("version", help="print versions")
    return parser


def setup_logging(settings: Settings) -> None:
    """Log to stderr at the configured level; WsgiDAV's own chatter at WARNING.

    No line names its source file or thread, so records skip looking them up (the
    logging HOWTO's "Optimization": the caller's frame, the thread, the
    multiprocessing name); the process id stays (``--workers`` tags lines with it)."""
    level = getattr(logging, settings.logging.level.upper())
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("wsgidav").setLevel(max(level, logging.WARNING))


def _with_overrides(settings: Settings, host: str | None, port: int | None) -> Settings:
    server = settings.server
    if host is not None:
        server = dataclasses.replace(server, host=host)
    if port is not None:
        server = dataclasses.replace(server, port=port)
    return dataclasses.replace(settings, server=server)


def _announce(settings: Settings, address: tuple[str, int]) -> None:
    scheme = "https" if settings.tls is not None else "http"
    for share in settings.shares:
        log.info(
            "serving %s (%s) on %s://%s:%d%s/",
            share.path,
            share.backend,
            scheme,
            *address,
            share.path,
        )


def serve(settings: Settings, sock: socket.socket | None = None) -> int:
    """Run until SIGINT/SIGTERM; on ``sock`` when given (a worker of ``serve_workers``)."""
    from davprovider.server.app import build_app
    from davprovider.server.http import GatewayServer

    if sock is None:
        setup_logging(settings)
    gateway = GatewayServer(settings, build_app(settings), sock)
    gateway.prepare()
    if sock is None:
        _announce(settings, gateway.address)

    stopper: list[threading.Thread] = []

    def _stop() -> None:
        log.info("stopping")
        gateway.stop()

    def _terminate(signum: int, frame: FrameType | None) -> None:
        # Only the first signal stops us; a second (a process-group kill after our
        # parent's own SIGTERM, Ctrl-C twice) must not break the stop half-way. The stop
        # runs in a thread: an exception raised into cheroot's loop at an arbitrary point
        # could leave a worker without its shutdown request, and the process hanging.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if not stopper:
            stopper.append(threading.Thread(target=_stop, name="stop"))
            stopper[0].start()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        gateway.serve_forever()  # returns once the stop thread has begun the stop
    finally:
        if stopper:
            stopper[0].join()
        else:
            gateway.stop()
    return 0


def serve_workers(settings: Settings, workers: int) -> int:
    """``serve --workers N``: N processes on one port (``server/workers.py``)."""
    from davprovider.server.workers import supervise, unshared_state

    problem = unshared_state(settings)
    if problem is not None:
        print(f"davprovider: {settings.source}: {problem}", file=sys.stderr)
        return 2
    setup_logging(settings)
    return supervise(
        settings, workers, lambda sock: serve(settings, sock), partial(_announce, settings)
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``davprovider`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"davprovider {_version('davprovider')}")
        print(f"wsgidav {_version('wsgidav')}, cheroot {_version('cheroot')}")
        return 0
    try:
        settings = load_settings(args.config)
        check_tls(settings)
    except ConfigError as exc:
        print(f"davprovider: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(f"{args.config}: ok ({len(settings.shares)} share(s))")
        return 0
    settings = _with_overrides(settings, args.host, args.port)
    if args.workers < 1:
        print("davprovider: --workers must be at least 1", file=sys.stderr)
        return 2
    return serve(settings) if args.workers == 1 else serve_workers(settings, args.workers)
