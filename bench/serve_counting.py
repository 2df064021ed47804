"""``davprovider serve`` that also counts the iRODS API requests it sends (bench only).

The same process as ``python -m davprovider serve --config FILE`` with one wrapper around
python-irodsclient's ``Connection.send`` that counts ``RODS_API_REQ`` messages by API
number; it changes nothing that is sent. On SIGUSR1 the counts are written, as JSON, to
the file named by ``$BENCH_COUNTS`` (written aside and renamed, so a reader never sees half
a file). The benchmarks read them before and after a PROPFIND.

    BENCH_COUNTS=/tmp/counts.json python bench/serve_counting.py serve --config gw.yaml
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from irods.connection import Connection

COUNTS: Counter[int] = Counter()
_LOCK = threading.Lock()
_send = Connection.send


def _counting_send(self: Any, message: Any) -> Any:
    if message.msg_type == "RODS_API_REQ":
        with _LOCK:
            COUNTS[int(message.int_info)] += 1
    return _send(self, message)


def _dump(signum: int, frame: FrameType | None) -> None:
    target = Path(os.environ["BENCH_COUNTS"])
    with _LOCK:
        data = json.dumps({str(k): v for k, v in COUNTS.items()})
    aside = target.with_suffix(".part")
    aside.write_text(data)
    aside.replace(target)


def main() -> int:
    Connection.send = _counting_send
    signal.signal(signal.SIGUSR1, _dump)
    from davprovider.cli import main as davprovider_main

    return davprovider_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
