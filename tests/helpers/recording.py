"""A memory backend factory that counts (and can fail) the backend calls of each request."""

from __future__ import annotations

from collections import Counter
from typing import Any

from davprovider.backend import Backend
from davprovider.memory import MemoryBackend, MemoryFactory, Options


class Recording:
    """Wraps a real backend, counting calls by method name (and failing on demand)."""

    def __init__(self, inner: Backend, calls: Counter[str], fail: BaseException | None) -> None:
        self._inner = inner
        self._calls = calls
        self._fail = fail

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls[name] += 1
            if self._fail is not None:
                raise self._fail
            return target(*args, **kwargs)

        return call


class RecordingFactory(MemoryFactory):
    def __init__(self, fail: BaseException | None = None) -> None:
        super().__init__(Options(users={"alice": "alice-pw"}))
        self.calls: Counter[str] = Counter()
        self.fail = fail

    def __call__(self, identity: Any) -> Any:
        return Recording(super().__call__(identity), self.calls, self.fail)


def fill(factory: MemoryFactory, count: int) -> None:
    """Create /many with ``count`` files (one with a dead property), bypassing counting."""
    direct = MemoryBackend(factory.tree)
    direct.mkdir("/many")
    for i in range(count):
        upload = direct.open_write(f"/many/f{i:03}.txt", size=3)
        upload.write(b"abc")
        upload.commit()
    direct.set_meta("/many/f007.txt", {"{urn:z}tag": "seven"})
