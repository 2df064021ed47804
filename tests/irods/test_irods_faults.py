"""Faults of the iRODS zone under a transfer: paused (SIGSTOP) and killed mid-PUT and
mid-GET. The client gets an error or a correct result, never a success with wrong data;
nothing partial is visible; the gateway serves again within seconds."""

from __future__ import annotations

import os
import signal
import time

from tests.helpers.faults import interrupted_get, interrupted_put, serves_again
from tests.helpers.irods_gateway import AUTH_ALICE, read_object, write_object

PAUSE = 8.0


def _kill_and_restart(zone) -> None:
    assert zone.process is not None
    zone.process.kill()
    zone.process.wait()
    zone.start()


def _consistent(gw, target, status, sent, old):
    now = gw.get(target).body
    if 200 <= status < 300:
        assert now == sent, "a success must have stored exactly what was sent"
    else:
        assert now == old, "a failure must leave the old content"


def test_zone_paused_mid_put_gives_an_error_or_the_whole_upload(
    gw, seeded_zone, workdir, alice_prc, irods_path
):  # noqa: E501
    target = workdir + "paused.bin"
    write_object(alice_prc, irods_path(target), b"old")

    def pause() -> None:
        assert seeded_zone.process is not None
        os.kill(seeded_zone.process.pid, signal.SIGSTOP)
        time.sleep(PAUSE)
        os.kill(seeded_zone.process.pid, signal.SIGCONT)

    status, sent = interrupted_put(gw, target, AUTH_ALICE, 32, pause)
    assert status == 0 or status < 300 or status >= 500, status
    serves_again(lambda: gw.get(workdir).status)
    _consistent(gw, target, status, sent, b"old")


def test_zone_killed_mid_put_gives_an_error_and_keeps_the_old_content(
    gw, seeded_zone, workdir, alice_prc, irods_path
):  # noqa: E501
    target = workdir + "killed.bin"
    write_object(alice_prc, irods_path(target), b"old")
    alice_prc.cleanup()

    status, sent = interrupted_put(
        gw, target, AUTH_ALICE, 32, lambda: _kill_and_restart(seeded_zone)
    )
    assert status == 0 or status >= 500, status
    assert serves_again(lambda: gw.get(workdir).status) < 10
    _consistent(gw, target, status, sent, b"old")


def test_zone_killed_mid_get_never_delivers_a_wrong_body(
    gw, seeded_zone, workdir, alice_prc, irods_path, rods
):  # noqa: E501
    target = workdir + "big.bin"
    data = os.urandom(24 << 20)
    write_object(alice_prc, irods_path(target), data)
    alice_prc.cleanup()

    got = interrupted_get(gw, target, AUTH_ALICE, lambda: _kill_and_restart(seeded_zone))
    assert got is None or got == data
    assert serves_again(lambda: gw.get(workdir).status) < 10
    assert read_object(rods, irods_path(target)) == data
