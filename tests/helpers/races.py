"""Readers racing a writer through the gateway (bounded: ``writes`` overwrites)."""

from __future__ import annotations

import threading
from typing import Any

#: Contents of three sizes: a reader must get one of them whole, never a mix.
CONTENTS = [b"A" * 5000, b"B" * 7000, b"C" * 3000]


def race(gw: Any, path: str, contents: list[bytes], writes: int, readers: int) -> list[Any]:
    """One writer overwriting ``path`` ``writes`` times (cycling through ``contents``),
    ``readers`` threads GETting it meanwhile: (status, body) of every GET."""
    done, seen, lock = threading.Event(), [], threading.Lock()

    def read() -> None:
        while not done.is_set():
            reply = gw.get(path)
            with lock:
                seen.append((reply.status, reply.body))

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    try:
        for i in range(writes):
            assert gw.put(path, contents[i % len(contents)]).status in (201, 204)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    return seen
