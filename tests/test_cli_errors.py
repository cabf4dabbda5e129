"""Every error a user can cause: one line on stderr, a non-zero exit, no traceback, no event."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import Cli, Result


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.code == 1, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("labledger: error: ")
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    ("folder", "needles"),
    [
        ("cortexlab/Subjects/algernon/2026-11-21/0001", ('"0001"', "1 to 3 digits")),
        ("cortexlab/Subjects/algernon/2026-11-21/1234", ('"1234"',)),
        ("cortexlab/Subjects/my subject/2026-11-21/001", ('"my subject"',)),
        ("cortexlab/Subjects/algernon/2026-13-45/001", ('"2026-13-45"',)),
        ("elsewhere/Subjects/algernon/2026-11-21/001", ('"elsewhere"', "lab")),
    ],
)
def test_invalid_session_path(cli: Cli, folder: str, needles: tuple[str, ...]) -> None:
    path = cli.tmp_path / folder
    (path / "alf").mkdir(parents=True)
    (path / "alf" / "spikes.times.npy").write_bytes(b"x")
    assert_one_line_error(cli("--lab", "cortexlab", "scan", str(path)), *needles)
    assert cli.event_count() == 0


def test_missing_session_folder(cli: Cli) -> None:
    missing = cli.tmp_path / "cortexlab/Subjects/algernon/2026-11-21/009"
    assert_one_line_error(cli("--lab", "cortexlab", "scan", str(missing)), "does not exist")
    assert cli.event_count() == 0


def test_bad_path_among_good_ones_records_nothing(cli: Cli) -> None:
    good = cli.session()
    bad = cli.tmp_path / "cortexlab/Subjects/algernon/2026-11-21/0002"
    bad.mkdir(parents=True)
    assert_one_line_error(cli("--lab", "cortexlab", "scan", str(good), str(bad)), '"0002"')
    assert cli.event_count() == 0


def test_unreadable_file_found_before_hashing(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    session = cli.session()
    locked = session / "alf" / "licks.times.npy"
    real_access = os.access  # what the scan's readability check asks (filesystem.hashing)
    # Tests may run as root, who can read anything: deny this one file as a user would be denied.
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))
    assert_one_line_error(
        cli("--lab", "cortexlab", "scan", str(session)), str(locked), "permission"
    )
    assert cli.event_count() == 0


def test_file_failing_while_hashed_records_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = cli.session()
    real_open = Path.open

    def failing_open(self: Path, *args: Any, **kwargs: Any) -> object:  # Path.open's own
        if self.name == "spikes.times.npy":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing_open)
    assert_one_line_error(cli("--lab", "cortexlab", "scan", str(session)), "spikes.times.npy")
    assert cli.event_count() == 0


def test_missing_settings_file(cli: Cli) -> None:
    missing = cli.tmp_path / "nowhere.yaml"
    assert_one_line_error(cli("--config", str(missing), "status"), str(missing), "does not exist")


def test_malformed_settings_file(cli: Cli) -> None:
    config = cli.tmp_path / "settings.yaml"
    config.write_text("store: sqlite\n  lab: [unclosed\n")
    assert_one_line_error(cli("--config", str(config), "status"), str(config))
    config.write_text("sqlte_path: /tmp/x\n")
    assert_one_line_error(cli("--config", str(config), "status"), "sqlte_path")


def test_unreachable_postgres(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port on loopback that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LABLEDGER_POSTGRES__PORT", str(port))
    monkeypatch.setenv("LABLEDGER_POSTGRES__CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("LABLEDGER_POSTGRES__PASSWORD", "s3cret-never-shown")
    session = cli.session()
    result = cli("--store", "postgres", "--lab", "cortexlab", "scan", str(session), ledger=False)
    assert_one_line_error(result, "PostgreSQL ledger", str(port), "PostgreSQL is running")
    assert "s3cret-never-shown" not in result.err + result.out


def test_locked_sqlite_ledger(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABLEDGER_SQLITE_LOCK_TIMEOUT", "1")
    session = cli.session()
    earlier = cli.session("algernon/2026-11-20/001")
    assert cli("--lab", "cortexlab", "scan", str(earlier)).code == 0  # creates the ledger
    recorded = cli.event_count()
    holder = sqlite3.connect(cli.ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = cli("--lab", "cortexlab", "scan", str(session))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_line_error(result, str(cli.ledger), "locked", "run again")
    assert cli.event_count() == recorded
    assert cli("--lab", "cortexlab", "scan", str(session)).code == 0, "works once released"


def test_corrupt_sqlite_ledger(cli: Cli) -> None:
    cli.ledger.parent.mkdir(parents=True)
    cli.ledger.write_bytes(b"this is not a database, it is a shopping list\n" * 50)
    before = cli.ledger.read_bytes()
    session = cli.session()
    assert_one_line_error(
        cli("--lab", "cortexlab", "scan", str(session)), str(cli.ledger), "corrupt"
    )
    assert cli.ledger.read_bytes() == before, "the damaged file is left as it was"


def test_history_of_unknown_session(cli: Cli) -> None:
    session = cli.session()
    other = cli.session("algernon/2026-11-20/001")
    assert cli("--lab", "cortexlab", "scan", str(other)).code == 0  # a ledger without it
    assert_one_line_error(cli("--lab", "cortexlab", "history", str(session)), "labledger scan")
