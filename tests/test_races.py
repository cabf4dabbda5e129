"""Two processes racing for the same work: the loser says the other did it, records nothing.

Two operators (or a rig script and an operator) run `labledger register` on the same sessions at
the same moment, with one ledger (a SQLite file on the rig, or the lab's PostgreSQL) and one
Alyx. Whichever process loses a race for a piece of work reports it as done by the other run; the
log holds one intent and one outcome per piece of work, and Alyx one record.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, SAMPLE_FILES
from tests.conftest import PG, drop_schema
from tests.doors import Door
from tests.watchdog_folders import watched_service

ROUNDS = 3
SESSIONS = ("001", "002", "003")
NEW_LEDGER_ROUNDS = 12


@pytest.fixture(params=["sqlite", "postgres"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Settings of a ledger both processes write: a SQLite file, or a fresh PostgreSQL schema."""
    return _new_store(request.param, tmp_path / "shared.sqlite3", request)


def _new_store(kind: str, sqlite_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of a ledger nobody has opened yet: a SQLite file, or a PostgreSQL schema
    that is dropped when the test ends."""
    if kind == "sqlite":
        return {"LABLEDGER_SQLITE_PATH": str(sqlite_path)}
    schema = f"labledger_race_{uuid.uuid4().hex[:10]}"

    request.addfinalizer(lambda: drop_schema(schema))
    return {
        "LABLEDGER_STORE": "postgres",
        "LABLEDGER_POSTGRES__HOST": PG["host"],
        "LABLEDGER_POSTGRES__PORT": str(PG["port"]),
        "LABLEDGER_POSTGRES__DBNAME": PG["dbname"],
        "LABLEDGER_POSTGRES__USER": PG["user"],
        "LABLEDGER_POSTGRES__SCHEMA": schema,
    }


def _race(door: Door, *args: str | Path, processes: int = 2) -> list[tuple[int, str, str]]:
    """Start `processes` `labledger` processes with the same arguments at once; their results."""
    runs = [door.start(*args) for _ in range(processes)]
    outputs = [run.communicate(timeout=120) for run in runs]
    return [(run.returncode, out, err) for run, (out, err) in zip(runs, outputs, strict=True)]


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_two_processes_starting_on_a_new_ledger(
    door: Door, tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    """Two rig scripts whose first command ever runs at the same moment both get their answer:
    neither is told the ledger is locked while the other creates its file, mode and tables.
    `sync` (nothing pending) is such a first command: reports never create a ledger."""
    for round_ in range(NEW_LEDGER_ROUNDS):
        door.env.update(_new_store(store, tmp_path / f"new-{round_}.sqlite3", request))
        for code, out, err in _race(door, "sync"):
            assert code == 0, f"round {round_}: exit {code}\n{out}\n{err}"


def test_two_processes_registering_the_same_sessions(
    door: Door, server: AlyxTestServer, tmp_path: Path, shared_store: dict[str, str]
) -> None:
    door.env.update(alyx_env(server, tmp_path), **shared_store)
    for round_ in range(ROUNDS):
        folders = []
        for number in SESSIONS:
            day = f"2026-11-{10 + round_:02d}"
            folder = door.cwd / "cortexlab" / "Subjects" / "algernon" / day / number
            shutil.copytree(SAMPLE, folder)
            folders.append(folder)

        results = _race(door, "register", *folders)

        for code, out, err in results:
            assert code == 0, f"exit {code}\n{out}\n{err}"
            assert "internal error" not in err and "not an open intent" not in out + err

    snapshot = server.state.snapshot()
    assert len(snapshot["sessions"]) == ROUNDS * len(SESSIONS)
    keys = Counter((d["session"], d["collection"], d["name"]) for d in snapshot["datasets"])
    assert len(keys) == ROUNDS * len(SESSIONS) * len(SAMPLE_FILES)
    assert set(keys.values()) == {1}, "one dataset on Alyx per file"
    events = door("audit", "--json").ok().json()
    per_operation = Counter(
        (e["event"], e["session"], e.get("file") or "")
        for e in events
        if e["event"].endswith(("RegistrationRequested", ".Registered"))
    )
    twice = {key: count for key, count in per_operation.items() if count > 1}
    assert not twice, f"work asked or recorded twice: {twice}"
    assert door("pending", "--json").ok().json() == []


@pytest.mark.parametrize("processes", [2, 4])
def test_rigs_racing_through_the_same_day(
    door: Door,
    server: AlyxTestServer,
    tmp_path: Path,
    shared_store: dict[str, str],
    processes: int,
) -> None:
    """Two and four processes run each command of a rig's day at the same moment: register
    three sessions, weigh, give water linked to a session, hand a session to the watchdog.
    Alyx ends with one record of each, the ledger with one intent and one outcome of each piece
    of work, flag_dir with one manifest; no run fails, and each run says what it did or that
    another run did it."""
    service = watched_service(tmp_path)
    door.env.update(alyx_env(server, tmp_path), **shared_store)
    door.env["LABLEDGER_CONFIG"] = str(service.settings)
    folders = []
    for number in SESSIONS:
        folder = door.cwd / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / number
        shutil.copytree(SAMPLE, folder)
        folders.append(folder)
    day: list[tuple[str | Path, ...]] = [
        ("register", *folders),
        ("weigh", "algernon", "25.1", "--date-time", "2026-11-21T10:00:00"),
        ("water", "algernon", "1.5", "--session", folders[0], "--date-time", "2026-11-21T10:05:00"),
        ("transfer", folders[0], "--acquired", "09:30:00"),
    ]
    for args in day:
        for code, out, err in _race(door, *args, processes=processes):
            said = f"{' '.join(map(str, args[:2]))}: exit {code}\n{out}\n{err}"
            # a second `transfer` of a handed-over session is refused (--force emits again)
            refused = args[0] == "transfer" and "already handed to the watchdog" in err
            assert code == 0 or (code == 1 and refused), said
            assert "Traceback" not in err and "internal error" not in err, said
            assert out.strip() or err.strip(), said  # every run says what happened

    snapshot = server.state.snapshot()
    assert len(snapshot["sessions"]) == len(SESSIONS)
    keys = Counter((d["session"], d["collection"], d["name"]) for d in snapshot["datasets"])
    assert len(keys) == len(SESSIONS) * len(SAMPLE_FILES) and set(keys.values()) == {1}
    assert len(snapshot["weighings"]) == 1 and len(snapshot["water_administrations"]) == 1
    assert len(list(service.flag_dir.iterdir())) == 1, "one manifest in flag_dir"
    events = door("audit", "--json").ok().json()
    per_operation = Counter(
        (e["event"], e["session"], e.get("file") or "", e["operation_id"]) for e in events
    )
    twice = {key: count for key, count in per_operation.items() if count > 1}
    assert not twice, f"events recorded twice: {twice}"
    asked = Counter(
        (e["event"], e["session"], e.get("file") or "", e.get("subject") or "")
        for e in events
        if e["event"].endswith(("Requested", ".Registered", "Recorded", "Emitted"))
    )
    assert not {key: n for key, n in asked.items() if n > 1}, "work asked or done twice"
