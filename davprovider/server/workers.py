"""``davprovider serve --workers N``: N gateway processes on one listening socket.

The parent binds and listens once, then forks N workers before it starts any thread.
Every worker builds its own application (backend pools, sweeps) and serves the inherited
socket with cheroot (``GatewayServer(..., sock=...)``); the kernel hands each new
connection to one of them, and a connection waiting in the backlog survives the death of
the worker that would have taken it. The parent only supervises:

- a worker that dies is forked again (a worker that dies within ``QUICK_DEATH`` seconds of
  its start waits before its next start, doubling up to ``MAX_BACKOFF``, so a broken
  backend does not make the parent spin);
- SIGHUP is passed to every worker (each reloads what a single process reloads: TLS
  certificate, client CAs and CRLs);
- SIGTERM or SIGINT drains: the parent closes its copy of the socket and passes SIGTERM on;
  each worker stops accepting, finishes its in-flight requests within
  ``server.shutdown_timeout`` and exits. Once the last copy of the socket is closed, new
  connections are refused. A worker still alive ``KILL_GRACE`` seconds after the timeout
  is killed.

With more than one worker, each writes its metrics to files in
``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder unless the environment names one)
so that ``/metrics`` sums them all; a dead worker's live gauges are dropped.

Workers die with the parent (``PR_SET_PDEATHSIG``), so a killed parent leaves no orphans.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from davprovider.server.http import SHARED_BACKLOG
from davprovider.server.metrics import MULTIPROCESS_ENV
from davprovider.settings import Settings

log = logging.getLogger("davprovider.workers")

QUICK_DEATH = 5.0
MAX_BACKOFF = 30.0
KILL_GRACE = 5.0
POLL = 0.1
PR_SET_PDEATHSIG = 1


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``(host, port)`` and listening, to be shared by the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: a response's head and body are not held back by
    # Nagle's algorithm waiting for the client's delayed ACK (about 40 ms per request)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(SHARED_BACKLOG)
    sock.set_inheritable(True)
    return sock


@dataclass
class Slot:
    """One worker position: its current process and when it may be started again."""

    index: int
    pid: int = 0
    started: float = 0.0
    backoff: float = 0.0
    not_before: float = 0.0


@dataclass
class Signals:
    """What the parent's signal handlers noted, for its loop to act on."""

    stop: bool = False
    reload: bool = False

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._note)

    def _note(self, signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            self.reload = True
        else:
            self.stop = True


class Supervisor:
    """The parent: forks ``count`` workers running ``run(sock)``, restarts the dead,
    passes SIGHUP on, drains on SIGTERM."""

    def __init__(
        self,
        settings: Settings,
        count: int,
        run: Callable[[socket.socket], int],
        sock: socket.socket,
    ) -> None:
        self.settings = settings
        self.run = run
        self.sock: socket.socket | None = sock
        self.slots = [Slot(i) for i in range(count)]
        self.signals = Signals()
        self.on_exit: Callable[[int], None] = lambda pid: None  # metrics: a dead worker

    def supervise(self) -> int:
        """Run until stopped; 0 once every worker has exited."""
        self.signals.install()
        for slot in self.slots:
            self._start(slot)
        while not self.signals.stop:
            self._reap()
            if self.signals.reload:
                self.signals.reload = False
                log.info("reloading %d workers", len(self.slots))
                self._send(signal.SIGHUP)
            self._restart_due()
            time.sleep(POLL)
        return self._drain()

    def _start(self, slot: Slot) -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(self._child(slot))
        slot.pid, slot.started = pid, time.monotonic()

    def _child(self, slot: Slot) -> int:
        code = 1
        try:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the server takes it
            _die_with_parent()
            _tag_log_lines()
            assert self.sock is not None
            log.info("worker %d started (pid %d)", slot.index + 1, os.getpid())
            code = self.run(self.sock)
        except BaseException:  # noqa: BLE001 - a worker reports and exits, never returns
            log.exception("worker %d failed", slot.index + 1)
        finally:
            logging.shutdown()
        return code

    def _reap(self) -> None:
        """Collect exited workers; mark their slots for a restart."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.on_exit(pid)
            for slot in self.slots:
                if slot.pid == pid:
                    self._exited(slot, status)

    def _exited(self, slot: Slot, status: int) -> None:
        slot.pid = 0
        if self.signals.stop:
            return
        lived = time.monotonic() - slot.started
        slot.backoff = min(MAX_BACKOFF, max(1.0, slot.backoff * 2)) if lived < QUICK_DEATH else 0
        slot.not_before = time.monotonic() + slot.backoff
        log.warning(
            "worker %d exited (%s) after %.1f s; starting another in %.0f s",
            slot.index + 1,
            _describe(status),
            lived,
            slot.backoff,
        )

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.pid == 0 and now >= slot.not_before and not self.signals.stop:
                self._start(slot)

    def _send(self, signum: int) -> None:
        for slot in self.slots:
            if slot.pid:
                try:
                    os.kill(slot.pid, signum)
                except ProcessLookupError:
                    pass

    def _drain(self) -> int:
        """Stop accepting, let the workers finish their requests, wait for them."""
        log.info("stopping %d workers", sum(1 for s in self.slots if s.pid))
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._send(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.server.shutdown_timeout + KILL_GRACE
        while any(s.pid for s in self.slots) and time.monotonic() < deadline:
            self._reap()
            time.sleep(POLL)
        if any(s.pid for s in self.slots):
            log.error("workers still running after the shutdown timeout: killing them")
            self._send(signal.SIGKILL)
            while any(s.pid for s in self.slots):
                self._reap()
                time.sleep(POLL)
        return 0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"status {os.waitstatus_to_exitcode(status)}"


def _die_with_parent() -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            log.debug("prctl: %s", errno.errorcode.get(ctypes.get_errno(), "?"))
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _tag_log_lines() -> None:
    """Each worker's log lines carry its pid (they share the parent's stderr)."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
        )


def unshared_state(settings: Settings) -> str | None:
    """Why ``settings`` cannot run in several processes, or None. WebDAV locks kept in
    each process's memory would let two workers grant conflicting locks (and desktop
    clients lose writes): they must live in Redis (``redis:``) or be off."""
    if settings.lock_storage == "memory" and settings.redis is None:
        return "--workers above 1 needs redis: (locks shared by the workers) or lock_storage: none"
    return None


def supervise(
    settings: Settings,
    count: int,
    run: Callable[[socket.socket], int],
    announce: Callable[[tuple[str, int]], None],
) -> int:
    """Bind ``settings.server``'s address, ``announce`` it, fork ``count`` workers
    running ``run(sock)`` and supervise them until SIGTERM or SIGINT."""
    opts = settings.server
    sock = listening_socket(opts.host, opts.port)
    host, port = sock.getsockname()[:2]
    announce((str(host), int(port)))
    made = None
    if not os.environ.get(MULTIPROCESS_ENV):  # the workers' metrics files (metrics.py)
        made = tempfile.mkdtemp(prefix="davprovider-metrics-")
        os.environ[MULTIPROCESS_ENV] = made
    supervisor = Supervisor(settings, count, run, sock)
    supervisor.on_exit = _forget_metrics
    try:
        return supervisor.supervise()
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _forget_metrics(pid: int) -> None:
    """A dead worker's live gauges (active transfers) no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)
