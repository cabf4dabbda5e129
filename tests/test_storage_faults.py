"""The ledger's storage failing under a command: a full disk, a read-only ledger, a damaged SQLite
file, PostgreSQL cut off in the middle of a command. Each time: one line that names the problem
and the fix, nothing half-recorded, and the next run, once the problem is gone, completes.

The full and read-only disks are small tmpfs file systems mounted for the test (root only; the
test is skipped where mounting is not allowed). PostgreSQL is reached through a loopback proxy
the test cuts (`tests/tcp_proxy.py`).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, events_in, zero_a_page
from tests.conftest import PG, drop_schema
from tests.doors import Door, Ran
from tests.tcp_proxy import TcpProxy
from tests.watchdog_folders import watched_service

KEY = "cortexlab/algernon/2026-11-21/001"


@pytest.fixture
def server() -> Iterator[AlyxTestServer]:
    with AlyxTestServer() as running:
        yield running


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB file system of its own (tmpfs), unmounted after the test."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _session(door: Door, number: str = "001") -> Path:
    folder = door.cwd / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / number
    shutil.copytree(SAMPLE, folder)
    return folder


def _one_line(ran: Ran, *words: str) -> None:
    said = f"exit {ran.code}\n{ran.out}\n{ran.err}"
    assert ran.code == 1, said
    errors = [line for line in ran.err.splitlines() if line.startswith("labledger: error:")]
    assert len(errors) == 1, said
    assert "Traceback" not in ran.err and "internal error" not in ran.err, said
    for word in words:
        assert word in errors[0], said


def _sound(ledger: Path) -> None:
    with closing(sqlite3.connect(ledger)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_full_disk_stops_the_command_in_one_line_and_the_next_run_completes(
    door: Door, server: AlyxTestServer, tmp_path: Path, small_disk: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path))
    door.env["LABLEDGER_SQLITE_PATH"] = str(small_disk / "ledger.sqlite3")
    folders = [_session(door, f"{n:03d}") for n in range(1, 4)]
    door("sync").ok()  # the ledger exists
    filler = small_disk / "filler"
    with open(filler, "wb") as file:  # leave a few KiB: the ledger fills it
        free = shutil.disk_usage(small_disk).free
        file.write(b"\0" * max(0, free - 24 * 1024))
    events = events_in(small_disk / "ledger.sqlite3")

    ran = door("register", *folders)

    _one_line(ran, "full")
    filler.unlink()
    _sound(small_disk / "ledger.sqlite3")
    assert events_in(small_disk / "ledger.sqlite3") >= events  # whole transactions only
    door("register", *folders).ok()
    door("sync").ok()
    assert len(server.state.sessions) == 3 and len(server.state.datasets) == 18
    assert door("pending", "--json").ok().json() == []


def test_a_read_only_ledger_is_refused_in_one_line_and_changed_in_nothing(
    door: Door, server: AlyxTestServer, tmp_path: Path, small_disk: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path))
    door.env["LABLEDGER_SQLITE_PATH"] = str(small_disk / "ledger.sqlite3")
    folder = _session(door)
    door("register", folder).ok()
    before = (small_disk / "ledger.sqlite3").read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for command in (["register", _session(door, "002")], ["weigh", "algernon", "25.1"]):
            _one_line(door(*command), "read-only")
        assert (small_disk / "ledger.sqlite3").read_bytes() == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    door("register", door.cwd / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "002").ok()
    assert len(server.state.sessions) == 2


def test_every_command_that_opens_a_damaged_ledger_says_so_and_changes_nothing(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """A page zeroed in the middle of the file, where no query of a rig's usual work looks: every
    command that opens the ledger says, in one line, that it is damaged and how to recover, and
    records nothing (the file is unchanged, byte for byte); Alyx gets nothing new."""
    door.env.update(alyx_env(server, tmp_path))
    door.env["LABLEDGER_CONFIG"] = str(watched_service(tmp_path).settings)
    folders = [_session(door, f"{n:03d}") for n in range(1, 9)]
    door("register", *folders[:6]).ok()
    ledger = door.ledger_file
    zero_a_page(ledger)
    damaged = ledger.read_bytes()
    sessions = len(server.state.sessions)
    commands: list[list[str | Path]] = [
        ["status"],
        ["status", "--json"],
        ["status", "--html", tmp_path / "status.html"],
        ["pending"],
        ["audit"],
        ["history", folders[0]],
        ["scan", folders[6]],
        ["register", folders[7]],
        ["new-session", "algernon", "--root", door.cwd],
        ["weigh", "algernon", "25.1"],
        ["water", "algernon", "1.5"],
        ["transfer", folders[0]],
        ["watchdog", "status"],
        ["retry"],
        ["sync"],
        ["replay"],
        ["project"],
    ]
    for command in commands:
        _one_line(door(*command), "damaged", "backup", "replay")
        assert ledger.read_bytes() == damaged, command
        assert not Path(f"{ledger}-wal").exists() or not Path(f"{ledger}-wal").stat().st_size
    assert len(server.state.sessions) == sessions
    assert not (tmp_path / "status.html").exists()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 command")
def test_the_advice_for_a_damaged_ledger_gives_a_working_ledger(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """What the one line advises, done as an operator does it: dump what is readable into a new
    file, `replay`; then the ledger answers and takes work again, and a sync finishes it."""
    door.env.update(alyx_env(server, tmp_path))
    folders = [_session(door, f"{n:03d}") for n in range(1, 5)]
    door("register", *folders[:3]).ok()
    ledger = door.ledger_file
    zero_a_page(ledger)
    _one_line(door("status"), "damaged", ".dump")

    damaged = ledger.with_name("damaged.sqlite3")
    ledger.rename(damaged)
    dump = subprocess.run(["sqlite3", str(damaged), ".dump"], capture_output=True, check=False)
    subprocess.run(["sqlite3", str(ledger)], input=dump.stdout, check=True)
    door("replay").ok()
    door("status").ok()
    door("register", folders[3]).ok()
    door("sync").ok()
    assert len(server.state.sessions) == 4


@pytest.fixture
def cut_postgres(request: pytest.FixtureRequest) -> Iterator[tuple[TcpProxy, dict[str, str]]]:
    """A PostgreSQL schema of its own, reached through a proxy the test can cut."""
    schema = f"labledger_cut_{uuid.uuid4().hex[:10]}"
    request.addfinalizer(lambda: drop_schema(schema))
    with closing(TcpProxy(PG["host"], int(PG["port"]))) as proxy:
        yield (
            proxy,
            {
                "LABLEDGER_STORE": "postgres",
                "LABLEDGER_POSTGRES__HOST": "127.0.0.1",
                "LABLEDGER_POSTGRES__PORT": str(proxy.port),
                "LABLEDGER_POSTGRES__DBNAME": PG["dbname"],
                "LABLEDGER_POSTGRES__USER": PG["user"],
                "LABLEDGER_POSTGRES__SCHEMA": schema,
                "LABLEDGER_POSTGRES__CONNECT_TIMEOUT": "3",
            },
        )


def test_postgres_cut_off_mid_command_gives_one_line_and_the_next_run_completes(
    door: Door,
    server: AlyxTestServer,
    tmp_path: Path,
    cut_postgres: tuple[TcpProxy, dict[str, str]],
) -> None:
    proxy, store = cut_postgres
    door.env.update(alyx_env(server, tmp_path), **store)
    folders = [_session(door, f"{n:03d}") for n in range(1, 6)]
    door("sync").ok()  # the schema and tables exist
    server.faults.delay("POST", "/register-file", 0.5, times=None)  # time to cut mid-command

    running = door.start("register", *folders)
    deadline = time.monotonic() + 30
    while not any(r.path == "/register-file" for r in server.requests.all()):
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.02)
    proxy.cut()
    out, err = running.communicate(timeout=60)
    server.faults.clear()

    _one_line(Ran(running.returncode, out, err), "PostgreSQL")
    proxy.resume()
    door("sync").ok()
    door("register", *folders).ok()
    assert len(server.state.sessions) == 5 and len(server.state.datasets) == 30
    assert door("pending", "--json").ok().json() == []
    events = door("audit", "--json").ok().json()
    done = [e for e in events if e["event"] == "Dataset.Registered"]
    assert len(done) == len({(e["session"], e["file"]) for e in done}) == 30
