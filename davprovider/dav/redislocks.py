"""WebDAV locks shared by every gateway of a fleet, in Redis (with ``redis:``).

WsgiDAV's own lock manager checks for conflicts and then creates the lock under a lock of
its process, so two gateways could both grant an exclusive lock; its Redis storage also
scans with ``KEYS`` and stores pickles. Here:

- ``RedisLockStorage`` speaks WsgiDAV's lock-storage API with one Lua script per call,
  so each call is one atomic step on the Redis server. A lock is the JSON string
  ``lock:<token>`` whose Redis TTL is the lock's timeout; the sorted set ``locks``
  indexes every lock as ``<root>`` NUL ``<token>`` (all scores 0), so a lexical range
  finds the locks rooted at a path (``[root NUL``, ``(root \\x01``) and those below a
  folder (``[root/``, ``(root0``). An index member whose lock expired is dropped when a
  script meets it, and by ``cleanup()`` (a sweep every ``SWEEP_SECONDS``).
- ``FleetLockManager`` (a WsgiDAV ``LockManager``) owns the paths that must be atomic
  across processes: ``acquire`` is one script that checks the path, its ancestors'
  depth-infinity locks and (for depth infinity) every lock below, and creates the lock
  in the same step; a write's lock check reads the path, its ancestors and what is
  below in one round trip.
- Redis out of reach: LOCK, UNLOCK and every write whose locks cannot be checked get
  503 (never a write a lock should have stopped); reads go on.

- A write in progress (WsgiDAV's ``write_transaction``: no new lock on a path while a PUT
  to it streams) is a marker in the same index (``lock:write:<id>``, JSON ``{"root",
  "write"}``), set and checked in one script, kept alive by its gateway and gone with its
  TTL (``WRITE_TTL``) if that gateway dies; LOCK refuses a path being written (and, at
  depth infinity, a folder with a write below), as WsgiDAV does in one process.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from wsgidav import util
from wsgidav.dav_error import (
    HTTP_LOCKED,
    HTTP_SERVICE_UNAVAILABLE,
    DAVError,
    DAVErrorCondition,
    PRECONDITION_CODE_LockConflict,
)
from wsgidav.lock_man.lock_manager import (
    LockManager,
    generate_lock_token,
    normalize_lock_root,
    validate_lock,
)

from davprovider.fleet.connection import UNREACHABLE, client, key
from davprovider.settings import RedisSettings, Settings

log = logging.getLogger("davprovider.locks")

#: The longest lock kept (``Infinite`` and longer requests get this), as WsgiDAV's own.
MAX_TIMEOUT = 4 * 604800
SWEEP_SECONDS = 3600.0
#: Seconds a write-in-progress marker lives unless its gateway extends it (a third of this
#: apart): a gateway that dies mid-write holds no path for longer.
WRITE_TTL = 60.0

# Shared by every script: ARGV[1] is the key prefix.
_PRELUDE = r"""
local prefix = ARGV[1]
local index = prefix .. 'locks'
local function live(member, root_only)
  local sep = string.find(member, '\0', 1, true)
  local token = string.sub(member, sep + 1)
  local name = prefix .. 'lock:' .. token
  local value = redis.call('GET', name)
  if not value then
    redis.call('ZREM', index, member)
    return nil
  end
  return value, redis.call('PTTL', name)
end
local function at(root, out)
  local members = redis.call('ZRANGEBYLEX', index, '[' .. root .. '\0', '(' .. root .. '\1')
  for _, member in ipairs(members) do
    local value, ttl = live(member)
    if value then table.insert(out, {root, value, ttl}) end
  end
  return out
end
local function below(root, out)
  local low, high = root .. '/', root .. '0'
  if root == '/' then low, high = '/', '0' end
  for _, member in ipairs(redis.call('ZRANGEBYLEX', index, '[' .. low, '(' .. high)) do
    local sep = string.find(member, '\0', 1, true)
    local found = string.sub(member, 1, sep - 1)
    if found ~= root then
      local value, ttl = live(member)
      if value then table.insert(out, {found, value, ttl}) end
    end
  end
  return out
end
"""

# ARGV: prefix, url, scope, depth, token, json, ttl_ms, ancestors...
_ACQUIRE = (
    _PRELUDE
    + r"""
local url, scope, depth = ARGV[2], ARGV[3], ARGV[4]
local found = at(url, {})
for i = 8, #ARGV do
  for _, lock in ipairs(at(ARGV[i], {})) do
    if cjson.decode(lock[2]).depth == 'infinity' then table.insert(found, lock) end
  end
end
local conflicts = {}
for _, lock in ipairs(found) do
  if not (scope == 'shared' and cjson.decode(lock[2]).scope == 'shared') then
    table.insert(conflicts, lock[1])
  end
end
if depth == 'infinity' then
  for _, lock in ipairs(below(url, {})) do table.insert(conflicts, lock[1]) end
end
if #conflicts > 0 then return conflicts end
redis.call('SET', prefix .. 'lock:' .. ARGV[5], ARGV[6], 'PX', ARGV[7])
redis.call('ZADD', index, 0, url .. '\0' .. ARGV[5])
return {}
"""
)


def _collect(first: int) -> str:
    """Lua: the locks at ARGV[first...] (a path and its ancestors) and below ARGV[2]
    (unless ''), returned flat as json, ttl pairs."""
    return f"""
local out = {{}}
for i = {first}, #ARGV do at(ARGV[i], out) end
if ARGV[2] ~= '' then below(ARGV[2], out) end
local flat = {{}}
for _, lock in ipairs(out) do
  table.insert(flat, lock[2])
  table.insert(flat, lock[3])
end
return flat
"""


# ARGV: prefix, children_of ('' for none), paths...; returns json, ttl pairs
_LOOKUP = _PRELUDE + _collect(3)

# A write in progress: marker ARGV[3] (JSON ARGV[4], TTL ARGV[5] ms) rooted at ARGV[6],
# then the lookup of ARGV[6...] (the path and its ancestors) and below ARGV[2], as _LOOKUP.
_MARK = (
    _PRELUDE
    + r"""
redis.call('SET', prefix .. 'lock:' .. ARGV[3], ARGV[4], 'PX', ARGV[5])
redis.call('ZADD', index, 0, ARGV[6] .. '\0' .. ARGV[3])
"""
    + _collect(6)
)

# ARGV: prefix, token, ttl_ms, timeout
_REFRESH = (
    _PRELUDE
    + r"""
local name = prefix .. 'lock:' .. ARGV[2]
local value = redis.call('GET', name)
if not value then return nil end
local lock = cjson.decode(value)
lock.timeout = tonumber(ARGV[4])
value = cjson.encode(lock)
redis.call('SET', name, value, 'PX', ARGV[3])
return {value, redis.call('PTTL', name)}
"""
)

# ARGV: prefix, token
_RELEASE = (
    _PRELUDE
    + r"""
local name = prefix .. 'lock:' .. ARGV[2]
local value = redis.call('GET', name)
if not value then return 0 end
redis.call('ZREM', index, cjson.decode(value).root .. '\0' .. ARGV[2])
redis.call('DEL', name)
return 1
"""
)

# ARGV: prefix, cursor member ('' at the start), batch; returns the next cursor or ''
_SWEEP = (
    _PRELUDE
    + r"""
local low = '-'
if ARGV[2] ~= '' then low = '(' .. ARGV[2] end
local members = redis.call('ZRANGEBYLEX', index, low, '+', 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(members) do live(member) end
if #members < tonumber(ARGV[3]) then return '' end
return members[#members]
"""
)

F = TypeVar("F", bound=Callable[..., Any])


def reachable(method: F) -> F:
    """Redis out of reach becomes 503 (the lock state cannot be known)."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except UNREACHABLE as exc:
            log.warning("lock storage unreachable: %s", type(exc).__name__)
            raise DAVError(HTTP_SERVICE_UNAVAILABLE, "the lock storage is unavailable") from None

    return cast(F, call)


def _encode(lock: dict[str, Any]) -> str:
    stored = {k: v for k, v in lock.items() if k != "expire"}
    stored["owner"] = base64.b64encode(lock["owner"]).decode("ascii")
    return json.dumps(stored, separators=(",", ":"))


def _decode(value: bytes, ttl_ms: int) -> dict[str, Any] | None:
    """The lock stored as ``value``; None for a write-in-progress marker."""
    lock: dict[str, Any] = json.loads(value)
    if lock.get("write"):
        return None
    lock["owner"] = base64.b64decode(lock["owner"])
    lock["timeout"] = float(lock["timeout"])
    lock["expire"] = time.time() + max(int(ttl_ms), 0) / 1000.0
    return lock


def _locks(flat: list[Any]) -> list[dict[str, Any]]:
    """The locks of a script's flat ``json, ttl`` answer (markers left out)."""
    found = (_decode(flat[i], flat[i + 1]) for i in range(0, len(flat), 2))
    return [lock for lock in found if lock is not None]


def _timeout(seconds: Any) -> float:
    value = float(seconds if seconds is not None else MAX_TIMEOUT)
    return float(MAX_TIMEOUT) if value < 0 or value > MAX_TIMEOUT else value


def chain_of(url: str) -> list[str]:
    """``url`` and its ancestors up to ``/``, normalized as lock roots."""
    chain, current = [], util.to_str(url)
    while current:
        chain.append(normalize_lock_root(current))
        current = util.get_uri_parent(current)
    return chain


class RedisLockStorage:
    """WsgiDAV's lock-storage API over Redis (see the module docstring)."""

    def __init__(self, options: RedisSettings, redis_client: Any = None) -> None:
        self.options = options
        self.redis: Any = redis_client if redis_client is not None else client(options)
        self.prefix = key(options)
        self._scripts = {
            name: self.redis.register_script(text)
            for name, text in (
                ("acquire", _ACQUIRE),
                ("lookup", _LOOKUP),
                ("mark", _MARK),
                ("refresh", _REFRESH),
                ("release", _RELEASE),
                ("sweep", _SWEEP),
            )
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.prefix!r})"

    def _run(self, name: str, *args: Any) -> Any:
        return self._scripts[name](keys=[], args=[self.prefix, *args])

    def open(self) -> None:
        """Nothing to open: the process's client connects on first use."""

    def close(self) -> None:
        """Nothing to close: the client's pool is the process's."""

    @reachable
    def cleanup(self, batch: int = 500) -> int:
        """Drop index members whose lock expired; the number of batches walked."""
        cursor, rounds = "", 0
        while True:
            rounds += 1
            cursor = self._run("sweep", cursor, batch)
            if not cursor:
                return rounds
            cursor = cursor.decode() if isinstance(cursor, bytes) else cursor

    def clear(self) -> None:
        """Remove every lock (tests)."""
        while members := self.redis.zrange(self.prefix + "locks", 0, 499):
            for member in members:
                self.delete(member.split(b"\0", 1)[1].decode())

    @reachable
    def get(self, token: str) -> dict[str, Any] | None:
        name = self.prefix + "lock:" + token
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.pttl(name)
            value, ttl = pipe.execute()
        return None if value is None else _decode(value, ttl)  # a marker decodes to None

    def _prepared(self, path: str, lock: dict[str, Any]) -> tuple[str, str, float]:
        """``lock`` completed (root, timeout, token); its root and TTL in milliseconds."""
        assert lock.get("token") is None and lock.get("expire") is None
        root = normalize_lock_root(path)
        lock["root"], lock["timeout"] = root, _timeout(lock.get("timeout"))
        validate_lock(lock)
        lock["token"] = generate_lock_token()
        lock["expire"] = time.time() + lock["timeout"]
        return root, lock["token"], lock["timeout"] * 1000

    @reachable
    def create(self, path: str, lock: dict[str, Any]) -> dict[str, Any]:
        """A lock without any conflict check (WsgiDAV's contract); prefer ``acquire``."""
        root, token, ttl = self._prepared(path, lock)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.prefix + "lock:" + token, _encode(lock), px=int(ttl))
            pipe.zadd(self.prefix + "locks", {f"{root}\0{token}": 0})
            pipe.execute()
        return lock

    @reachable
    def acquire(self, path: str, lock: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
        """Check and create in one step: ``(lock, [])``, or ``(None, conflicting roots)``."""
        root, token, ttl = self._prepared(path, lock)
        args = [root, lock["scope"], lock["depth"], token, _encode(lock), int(ttl)]
        conflicts = self._run("acquire", *args, *chain_of(root)[1:])
        if conflicts:
            return None, sorted({c.decode() for c in conflicts})
        return lock, []

    @reachable
    def refresh(self, token: str, *, timeout: Any) -> dict[str, Any]:
        seconds = _timeout(timeout)
        if token.startswith("write:"):  # a marker is no lock (and its name never leaves)
            raise ValueError("lock expired or unknown")
        found = self._run("refresh", token, int(seconds * 1000), seconds)
        lock = None if found is None else _decode(found[0], found[1])
        if lock is None:
            raise ValueError("lock expired or unknown")
        return lock

    @reachable
    def delete(self, token: str) -> bool:
        return bool(self._run("release", token))

    @reachable
    def lookup(self, paths: Iterable[str], children_of: str = "") -> list[dict[str, Any]]:
        """The live locks rooted at each of ``paths`` and (if given) below ``children_of``."""
        return _locks(self._run("lookup", children_of, *paths))

    @reachable
    def mark_write(self, chain: list[str], children_of: str) -> tuple[str, list[dict[str, Any]]]:
        """Mark a write to ``chain[0]`` in progress (no lock may be taken on it meanwhile),
        then look up as ``lookup``, in one step: the marker's name and the locks."""
        marker = "write:" + secrets.token_hex(16)
        value = json.dumps({"root": chain[0], "write": True})
        flat = self._run("mark", children_of, marker, value, int(WRITE_TTL * 1000), *chain)
        return marker, _locks(flat)

    def keep_marks(self, markers: Iterable[str]) -> None:
        """Extend the TTL of writes still in progress."""
        with self.redis.pipeline(transaction=False) as pipe:
            for marker in markers:
                pipe.pexpire(self.prefix + "lock:" + marker, int(WRITE_TTL * 1000))
            pipe.execute()

    def get_lock_list(
        self, path: str, *, include_root: bool, include_children: bool, token_only: bool
    ) -> list[Any]:
        root = normalize_lock_root(path)
        locks = self.lookup([root] if include_root else [], root if include_children else "")
        return [lock["token"] for lock in locks] if token_only else locks


class FleetLockManager(LockManager):
    """WsgiDAV's lock manager with the atomic parts done by ``RedisLockStorage``."""

    storage: RedisLockStorage

    def __init__(self, storage: RedisLockStorage) -> None:
        super().__init__(storage)
        self.writes = WritesInProgress(storage)

    def acquire(
        self,
        *,
        url: str,
        lock_type: str,
        lock_scope: str,
        lock_depth: str,
        lock_owner: bytes,
        timeout: Any,
        principal: str,
        token_list: list[str],
    ) -> dict[str, Any]:
        url = normalize_lock_root(url)
        lock = {
            "root": url, "type": lock_type, "scope": lock_scope, "depth": lock_depth,
            "owner": lock_owner, "timeout": timeout, "principal": principal,
        }  # fmt: skip
        self._lock.acquire_write()
        try:
            created, conflicts = self.storage.acquire(url, lock)
        finally:
            self._lock.release()
        if created is None:
            raise _locked(conflicts)
        return created

    def _get_write_conflicts(
        self, url: str, depth: str, token_list: list[str], principal: str
    ) -> DAVErrorCondition:
        chain = chain_of(url)
        locks = self.storage.lookup(chain, chain[0] if depth == "infinity" else "")
        return _conflicts(chain, locks, token_list, principal)

    def _begin_write_transaction(
        self, *, url: str, token_list: list[str], principal: str, depth: str = "0"
    ) -> None:
        """Mark the write in Redis, then check it: a LOCK anywhere in the fleet either
        came first (and refuses this write) or sees the mark (and is refused)."""
        chain = chain_of(url)
        marker, locks = self.storage.mark_write(chain, chain[0] if depth == "infinity" else "")
        condition = _conflicts(chain, locks, token_list, principal)
        if condition.hrefs:
            self._drop_mark(marker)
            raise DAVError(HTTP_LOCKED, err_condition=condition)
        self.writes.add(chain[0], marker)

    def _end_write_transaction(self, url: str) -> None:
        marker = self.writes.pop(normalize_lock_root(url))
        if marker is not None:
            self._drop_mark(marker)

    def _drop_mark(self, marker: str) -> None:
        try:
            self.storage.delete(marker)
        except DAVError:
            pass  # Redis away: the marker's TTL ends it

    def get_indirect_url_lock_list(
        self, url: str, *, principal: str | None = None
    ) -> list[dict[str, Any]]:
        chain = chain_of(url)
        return [
            lock
            for lock in self.storage.lookup(chain)
            if (lock["root"] == chain[0] or lock["depth"] == "infinity")
            and (principal is None or principal == lock["principal"])
        ]


def _conflicts(
    chain: list[str], locks: Iterable[dict[str, Any]], token_list: list[str], principal: str
) -> DAVErrorCondition:
    """The locks that stop a write to ``chain[0]`` (WsgiDAV's rules): the path's own and its
    ancestors' depth-infinity locks, unless the caller owns them and sent the token; any
    lock below (in ``locks`` only for a depth-infinity write)."""
    condition = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
    for lock in locks:
        root = lock["root"]
        if root != chain[0] and root in chain and lock["depth"] != "infinity":
            continue  # an ancestor's depth-0 lock covers only the ancestor
        if root in chain and principal == lock["principal"] and lock["token"] in token_list:
            continue  # the caller's own lock, with its token
        condition.add_href(root)
    return condition


class WritesInProgress:
    """This process's write markers (path -> markers), kept alive in Redis by a daemon
    thread every third of ``WRITE_TTL``."""

    def __init__(self, storage: RedisLockStorage) -> None:
        self.storage = storage
        self._guard = threading.Lock()
        self._marks: dict[str, list[str]] = {}
        self._pid = 0

    def add(self, path: str, marker: str) -> None:
        with self._guard:
            self._marks.setdefault(path, []).append(marker)
            if self._pid != os.getpid():  # first use, or a forked worker: its own thread
                self._pid = os.getpid()
                threading.Thread(target=self._keep, name="write-marks", daemon=True).start()

    def pop(self, path: str) -> str | None:
        with self._guard:
            markers = self._marks.get(path)
            if not markers:
                return None
            marker = markers.pop()
            if not markers:
                del self._marks[path]
            return marker

    def _keep(self) -> None:
        pid = os.getpid()
        while self._pid == pid:
            time.sleep(WRITE_TTL / 3)
            with self._guard:
                markers = [m for ms in self._marks.values() for m in ms]
            try:
                if markers:
                    self.storage.keep_marks(markers)
            except UNREACHABLE:
                pass  # the next round tries again; the markers may have lapsed meanwhile


def _locked(roots: Iterable[str]) -> DAVError:
    condition = DAVErrorCondition(PRECONDITION_CODE_LockConflict)
    for root in roots:
        condition.add_href(root)
    return DAVError(HTTP_LOCKED, err_condition=condition)


def install(dav: Any, providers: Iterable[Any], settings: Settings) -> FleetLockManager | None:
    """With ``redis:`` and locks on: the fleet's lock manager in ``dav`` and every
    provider, and its sweep (a daemon thread); None otherwise."""
    if settings.redis is None or dav.lock_manager is None:
        return None
    manager = FleetLockManager(RedisLockStorage(settings.redis))
    dav.lock_manager = manager
    for provider in providers:
        provider.set_lock_manager(manager)
    threading.Thread(target=_sweep, args=(manager.storage,), name="lock-sweep", daemon=True).start()
    return manager


def _sweep(storage: RedisLockStorage) -> None:
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            storage.cleanup()
        except DAVError:
            pass  # Redis away: the next sweep tries again
