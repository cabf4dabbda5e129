"""Several sessions at once, through the installed `labledger` against the loopback Alyx (issue 10,
point 2): `register A B C D E`, `register --flags ROOT` and `sync` after an offline `register` end
with the server holding exactly what registering the sessions one at a time gives, whatever
`alyx.session_workers` is.

Before sync's worker threads carried the run's provenance, every route with more than one worker
exited 70 (`NoProvenance`) and sent nothing: the exit status, the server state and the ledger
(`status --json`) are all checked here. A session registered alone never used the pool, which is
why the in-process tests, that register one session, did not see it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, SAMPLE_FILES
from tests.doors import Door

SESSIONS = [
    "algernon/2026-11-21/001",
    "algernon/2026-11-21/002",
    "algernon/2026-11-22/001",
    "ZM_1085/2026-11-21/001",
    "cyrus/2026-11-20/003",
]
"""Five sessions: three subjects, two dates of one subject, two numbers of one day."""

FLAG = "create_me.flag"


def with_subjects(server: AlyxTestServer) -> AlyxTestServer:
    """The test server also knows `cyrus` (it comes with algernon and ZM_1085)."""
    server.state.add_subject("cyrus")
    return server


def data_root(door: Door) -> Path:
    """Copies of the sample session for every one of SESSIONS, under `<work>/data/cortexlab`."""
    root = door.cwd / "data"
    for name in SESSIONS:
        shutil.copytree(SAMPLE, root / "cortexlab" / "Subjects" / name)
    return root


def folders(root: Path) -> list[Path]:
    return [root / "cortexlab" / "Subjects" / name for name in SESSIONS]


def assert_ledger_agrees(door: Door, server: AlyxTestServer) -> None:
    """The ledger has every session registered with all its files and nothing left to do, and
    records the eids Alyx gave."""
    eids = {
        server.state.session_key(session): session.id for session in server.state.sessions.values()
    }
    rows = {row["session"]: row for row in door("status", "--json").ok().json()}
    assert sorted(rows) == sorted(f"cortexlab/{name}" for name in SESSIONS)
    for name in SESSIONS:
        row = rows[f"cortexlab/{name}"]
        assert (row["registered"], row["pending"], row["last_error"]) == (6, 0, None), row
        assert row["alyx_eid"] == eids[name], row


def assert_same_state(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """The two server snapshots are equal; else the message lists the entries that differ."""
    lines = []
    for part in sorted(set(got) | set(expected)):
        mine, theirs = got.get(part, []), expected.get(part, [])
        lines += [f"{part} only here: {item}" for item in mine if item not in theirs]
        lines += [f"{part} only one at a time: {item}" for item in theirs if item not in mine]
    assert got == expected, "\n".join(lines)


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The server state after `labledger register SESSION` for each session in turn."""
    door = Door(tmp_path_factory.mktemp("one-at-a-time"))
    with AlyxTestServer() as server:
        door.env.update(alyx_env(with_subjects(server), door.cwd))
        for folder in folders(data_root(door)):
            door("register", folder).ok()
        assert_ledger_agrees(door, server)
        yield server.state.snapshot()


def test_one_at_a_time_registers_every_session_and_file(one_at_a_time: dict[str, Any]) -> None:
    assert sorted(s["key"] for s in one_at_a_time["sessions"]) == sorted(SESSIONS)
    assert len(one_at_a_time["datasets"]) == len(SESSIONS) * len(SAMPLE_FILES)
    for dataset in one_at_a_time["datasets"]:
        assert dataset["file_records"], dataset


@pytest.mark.parametrize("workers", [1, 4, 8])
@pytest.mark.parametrize("route", ["register", "flags", "sync"])
def test_several_sessions_end_as_one_at_a_time(
    route: str,
    workers: int,
    door: Door,
    server: AlyxTestServer,
    tmp_path: Path,
    one_at_a_time: dict[str, Any],
) -> None:
    online = {
        **alyx_env(with_subjects(server), tmp_path),
        "LABLEDGER_ALYX__SESSION_WORKERS": str(workers),
    }
    root = data_root(door)
    if route == "register":
        rows = door("register", *folders(root), "--json", env=online).ok().json()
    elif route == "flags":
        for folder in folders(root):
            (folder / FLAG).touch()
        rows = door("register", "--flags", root, "--json", env=online).ok().json()
        assert not list(root.rglob(FLAG)), "a flag is removed once its session is on Alyx"
    else:
        offline = {name: value for name, value in online.items() if "__" not in name}
        queued = door("register", *folders(root), env=offline).ok()
        assert "queued" in queued.out and not server.state.sessions
        rows = door("sync", "--json", env=online).ok().json()

    done = {(row["target"], row["action"]) for row in rows if row["outcome"] == "done"}
    for name in SESSIONS:
        assert (f"cortexlab/{name}", "register session") in done, rows
        assert (f"cortexlab/{name}", "register files") in done, rows
    assert_same_state(server.state.snapshot(), one_at_a_time)
    door.env.update(online)
    assert_ledger_agrees(door, server)
