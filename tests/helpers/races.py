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


def assert_overwrite_race_old_or_new(gw: Any, path: str) -> None:
    """40 overwrites of ``path`` cycling through ``CONTENTS`` (three sizes), four readers:
    every GET is a 200 with one of them, whole."""
    assert gw.put(path, CONTENTS[-1]).status == 201
    seen = race(gw, path, CONTENTS, writes=40, readers=4)
    bad = [(status, body[:40]) for status, body in seen if status != 200 or body not in CONTENTS]
    assert not bad, f"{len(bad)} of {len(seen)} GETs: {bad[:5]}"
    assert len(seen) >= 40
    print(f"overwrite race: {len(seen)} GETs during 40 overwrites, all old or new")
