"""swiftclient connections per identity: tokens cached, idle connections reused.

A ``swiftclient.Connection`` holds one HTTP keep-alive connection and is not
thread-safe, so it is leased to one user at a time (``acquire``/``release``).
Tokens are kept per identity (method, user, hash of the password), so that a
wrong password never matches a good login, and a password login is checked
against Swift at most once per ``pool_ttl``.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from requests.adapters import HTTPAdapter
from swiftclient import client as swiftclient
from swiftclient.exceptions import ClientException

from .errors import is_auth_failure, translate

if TYPE_CHECKING:
    from davprovider.backend import Identity

    from .options import Options

log = logging.getLogger("davprovider.swift")
Key = tuple[str, str, str]
IDLE_PER_IDENTITY = 8
KEEPALIVE_SECONDS = 20.0  # below the proxy's keep-alive timeout: reconnect rather than fail
SEND_BLOCK = 1 << 20  # bytes handed to one send() of a streamed request body


class _LargeBlocks(HTTPAdapter):
    """urllib3 reads a streamed body 16 KiB at a time by default: a copy and a send
    per 16 KiB of every upload. One block per send keeps PUTs at the client's rate."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, blocksize=SEND_BLOCK, **kwargs)


class Connection(swiftclient.Connection):
    """swiftclient's connection, sending request bodies in ``SEND_BLOCK`` pieces and
    remembering when Swift last answered it (``answered_at``: its token worked)."""

    answered_at = 0.0

    def _retry(self, reset_func: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        result = super()._retry(reset_func, func, *args, **kwargs)
        self.answered_at = time.monotonic()
        return result

    def http_connection(self, url: str | None = None) -> Any:
        """swiftclient's, with large send blocks, and the environment's proxies and CA
        bundle (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``...) read once for
        the connection's URL: requests reads them again for every request otherwise (a
        walk of ``os.environ``, the larger part of a small request's own time)."""
        parsed, conn = super().http_connection(url)
        session = conn.request_session
        adapter = _LargeBlocks()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        args = conn.requests_args
        found = session.merge_environment_settings(conn.url, {}, None, args.get("verify"), None)
        session.trust_env = False
        args.setdefault("proxies", found["proxies"])  # a configured proxy goes first
        args["verify"] = found["verify"]
        return parsed, conn


def connection_params(options: Options, identity: Identity) -> dict[str, Any]:
    """Keyword arguments of ``swiftclient.Connection`` for ``identity``.

    Password logins (``basic``, and an ``anonymous`` share account with a
    password) act as the Swift user ``user_template`` makes of the login name;
    other identities use the service profile configured for their mapped user,
    or are refused.
    """
    project = options.project_name
    if identity.method == "basic" or (identity.method == "anonymous" and identity.password):
        user, key = options.swift_user(identity.user), identity.password or ""
    else:
        profile = options.profiles.get(identity.user)
        if profile is None:
            raise PermissionError(
                f"no Swift profile for {identity.method} user {identity.user!r} (options.profiles)"
            )
        user, key, project = profile.user, profile.key, profile.project_name or project
    os_options: dict[str, Any] = {}
    if options.auth_version != "1.0":
        os_options = {
            "project_name": project.format(user=identity.user) or None,
            "project_id": options.project_id or None,
            "user_domain_name": options.user_domain_name,
            "project_domain_name": options.project_domain_name,
            "region_name": options.region_name or None,
            "endpoint_type": options.interface,
            "service_type": "object-store",
        }
        if options.auth_version == "2.0":
            os_options["tenant_name"] = os_options.pop("project_name")
    if options.storage_url:
        os_options["object_storage_url"] = options.storage_url
    return {
        "authurl": options.auth_url, "user": user, "key": key,
        "auth_version": options.auth_version, "os_options": os_options, "retries": 0,
        "starting_backoff": 0.1, "timeout": options.timeout, "insecure": options.insecure,
        "cacert": options.cacert or None,
    }  # fmt: skip


def _unreachable(exc: BaseException) -> OSError | ValueError:
    """A failed login as the contract's ``login`` may raise it: ``TimeoutError``, or
    ``ConnectionError`` for anything else (a busy or full auth service included)."""
    error = translate(exc, "login")
    if isinstance(error, TimeoutError | ConnectionError):
        return error
    return ConnectionError(errno.ECONNRESET, f"Swift auth failed: {error}")


@dataclass
class _Token:
    url: str
    token: str
    checked: float


class ConnectionPool:
    """Connections leased per identity; at most ``pool_size`` identities kept."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._tokens: OrderedDict[Key, _Token] = OrderedDict()
        self._idle: dict[Key, list[tuple[Connection, float]]] = {}

    @staticmethod
    def key(identity: Identity) -> Key:
        secret = hashlib.sha256((identity.password or "").encode()).hexdigest()
        return (identity.method, identity.user, secret)

    def acquire(self, identity: Identity) -> Connection:
        """A connection acting as ``identity`` (its own until ``release``)."""
        key = self.key(identity)
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                conn, since = idle.pop()
                if now - since < KEEPALIVE_SECONDS:
                    return conn
                conn.close()
            token = self._tokens.get(key)
        params = connection_params(self.options, identity)
        if token is not None:
            params.update(preauthurl=token.url, preauthtoken=token.token)
        conn = Connection(**params)
        conn.dav_key = key
        return conn

    def release(self, conn: Connection) -> None:
        """Take a connection back (its token is remembered for the identity)."""
        key: Key | None = getattr(conn, "dav_key", None)
        if key is None:
            conn.close()
            return
        now = time.monotonic()
        with self._lock:
            if conn.url and conn.token:
                old = self._tokens.get(key)
                checked = old.checked if old and old.token == conn.token else now
                self._tokens[key] = _Token(conn.url, conn.token, checked)
                self._tokens.move_to_end(key)
            idle = self._idle.setdefault(key, [])
            if any(c is conn for c, _since in idle):
                return  # released twice
            kept = len(idle) < IDLE_PER_IDENTITY
            if kept:
                idle.append((conn, now))
            self._trim()
        if not kept:
            conn.close()

    def _trim(self) -> None:
        while len(self._tokens) > self.options.pool_size:
            key, _ = self._tokens.popitem(last=False)
            for conn, _since in self._idle.pop(key, []):
                conn.close()

    def login(self, identity: Identity) -> bool:
        """Check a password with Swift's auth service (cached for ``pool_ttl``)."""
        key = self.key(identity)
        with self._lock:
            token = self._tokens.get(key)
            if token is not None and time.monotonic() - token.checked < self.options.pool_ttl:
                return True
        conn = Connection(**connection_params(self.options, identity))
        try:
            url, auth_token = conn.get_auth()
        except ClientException as exc:
            if is_auth_failure(exc):
                return False
            raise _unreachable(exc) from exc
        except OSError as exc:  # requests' errors are OSErrors
            raise _unreachable(exc) from exc
        finally:
            conn.close()
        with self._lock:
            self._tokens[key] = _Token(url, auth_token, time.monotonic())
            self._trim()
        return True

    def forget(self, identity: Identity) -> None:
        """Drop a token Swift no longer accepts."""
        key = self.key(identity)
        with self._lock:
            self._tokens.pop(key, None)
            for conn, _since in self._idle.pop(key, []):
                conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
            self._tokens.clear()
        for conns in idle.values():
            for conn, _since in conns:
                conn.close()
