"""Ctrl-C while a large file is hashed: the command stops within a second (exit 130, one line),
the sessions whose files were all read are recorded, and a re-run hashes only the rest.

The large file is sparse (no disk used): hashing its zeros still takes seconds, so the signal is
sent while the installed `labledger` reads it, as an operator's Ctrl-C would be. Two hashing
workers: one reads the large file of the second session, the other finishes the first and the
third session meanwhile, so the third is recorded although the one before it is not.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.cli_helpers import SAMPLE_FILES, sample_session
from tests.doors import Door

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="sees the large file being read in /proc/PID/fd"
)

LARGE = 6 << 30
"""Bytes of the sparse file: several seconds of md5 even on a fast machine."""

STOPS_WITHIN = 2.0
"""Seconds from Ctrl-C to the end of the command (the design says one; a loaded machine may add
the start of the interpreter's shutdown)."""

INTERRUPTED = "labledger: interrupted; nothing half-recorded (run the command again)"


def _sessions(door: Door) -> tuple[list[Path], Path]:
    """Three copies of the sample session; the second holds a large sparse file (returned too)."""
    sessions = [sample_session(door.cwd, f"algernon/2026-11-21/00{number}") for number in (1, 2, 3)]
    large = sessions[1] / "alf" / "spikes.amps.npy"
    with large.open("wb") as file:
        file.truncate(LARGE)
    return sessions, large


def _reading(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fds / fd) == str(path) for fd in os.listdir(fds))
    except FileNotFoundError:  # the process ended, or closed that descriptor meanwhile
        return False


def _interrupt_while_reading(door: Door, command: str, sessions: list[Path], large: Path) -> float:
    """Run `labledger COMMAND SESSIONS…`, send SIGINT once it reads `large` and the small files
    are done; check it exits 130 with the one line. Returns seconds from SIGINT to exit."""
    run = door.start(command, *sessions)
    try:
        deadline = time.monotonic() + 30
        while not _reading(run.pid, large):
            assert run.poll() is None, f"{command} ended before it read the large file"
            assert time.monotonic() < deadline, f"{command} never opened the large file"
            time.sleep(0.02)
        time.sleep(0.5)  # the other worker finishes the small files of the first and third
        started = time.monotonic()
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 130, f"exit {run.returncode}\n{out}\n{err}"
    assert err.strip() == INTERRUPTED
    assert took < STOPS_WITHIN, f"{command} took {took:.1f} s to stop after Ctrl-C"
    return took


@pytest.mark.parametrize("command", ["scan", "register"])
def test_ctrl_c_stops_hashing_and_keeps_the_sessions_read(door: Door, command: str) -> None:
    door.env.update(
        LABLEDGER_LAB="cortexlab", LABLEDGER_ALYX_USER="test_user", LABLEDGER_HASH_WORKERS="2"
    )
    sessions, large = _sessions(door)
    first, second, third = (f"cortexlab/algernon/2026-11-21/00{n}" for n in (1, 2, 3))

    _interrupt_while_reading(door, command, sessions, large)

    recorded = {row["session"]: row for row in door("status", "--json").ok().json()}
    assert list(recorded) == [first, third], "the sessions read in full, and only those"
    assert [row["discovered"] for row in recorded.values()] == [len(SAMPLE_FILES)] * 2
    assert [row["pending"] for row in recorded.values()] == [0, 0], "nothing asked of a stop"
    with large.open("r+b") as file:
        file.truncate(1 << 20)  # the re-run is quick
    again = door("scan", *sessions, "--json").ok().json()
    assert [(row["session"], row["new_or_changed"]) for row in again] == [
        (first, 0),
        (second, len(SAMPLE_FILES) + 1),
        (third, 0),
    ], "a re-run hashes only what was not recorded"
    if command == "register":
        door("register", *sessions).ok()
        pending = {row["session"]: row["pending"] for row in door("status", "--json").ok().json()}
        assert pending == {first: 7, second: 8, third: 7}, "each session and its files asked"
