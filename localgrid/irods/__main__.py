"""``python -m localgrid.irods --data DIR --port PORT [--zone tempZone] [--host 127.0.0.1]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from .meta import Catalog
from .server import ZoneServer

log = logging.getLogger("localgrid.irods")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localgrid.irods", description=__doc__)
    parser.add_argument("--data", required=True, type=Path, help="catalog and vault folder")
    parser.add_argument("--port", type=int, default=1247, help="TCP port (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--zone", default="tempZone", help="zone name (first start only)")
    parser.add_argument("--admin-password", default="rods", help="rods's password (first start)")
    parser.add_argument(
        "--pam-user", action="append", default=[], metavar="USER:PASSWORD",
        help="add a user's password to the PAM stand-in table (repeatable)",
    )  # fmt: skip
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )  # fmt: skip
    args.data.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(args.data, args.zone, args.admin_password)
    for item in args.pam_user:
        user, sep, password = item.partition(":")
        if not sep:
            parser.error(f"--pam-user wants USER:PASSWORD, got {item!r}")
        catalog.set_pam_password(user, password)
    server = ZoneServer(catalog, args.host, args.port)

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"localgrid.irods: zone {catalog.zone} serving on {args.host}:{server.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        catalog.close()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
