"""Helpers for running `labledger` in-process against a private home, config and ledger."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labledger.scripts.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
SAMPLE_FILES = [
    "alf/_ibl_trials.probabilityLeft.npy",
    "alf/licks.times.npy",
    "alf/probe00/clusters.depths.npy",
    "alf/probe00/spikes.clusters.npy",
    "alf/probe00/spikes.times.npy",
    "raw_video_data/_iblrig_leftCamera.times.npy",
]
"""The six valid files of the sample session, sorted (the order scans record and sync sends)."""


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def sample_session(
    root: Path, name: str = "algernon/2026-11-21/001", lab: str = "cortexlab"
) -> Path:
    """A copy of the sample session at <root>/<lab>/Subjects/<name>."""
    target = root / lab / "Subjects" / name
    shutil.copytree(SAMPLE, target)
    return target


class Cli:
    """Runs the command in-process with a ledger file under tmp_path and no user config."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp_path = tmp_path
        self.ledger = tmp_path / "data" / "ledger.sqlite3"
        self._capsys = capsys

    def __call__(self, *args: str, ledger: bool = True) -> Result:
        argv = [*args, "--ledger", str(self.ledger)] if ledger else list(args)
        self._capsys.readouterr()
        code = main(argv)
        captured = self._capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def session(self, name: str = "algernon/2026-11-21/001", lab: str = "cortexlab") -> Path:
        """A copy of the sample session at <tmp>/<lab>/Subjects/<name>."""
        return sample_session(self.tmp_path, name, lab)

    def event_count(self) -> int:
        return events_in(self.ledger)


def zero_a_page(ledger_file: Path) -> None:
    """Damage an SQLite ledger as a failing disk does: its write-ahead log folded in, then the
    page in the middle of the file overwritten with zeros."""
    with closing(sqlite3.connect(ledger_file)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        (pages,) = db.execute("PRAGMA page_count").fetchone()
    with open(ledger_file, "r+b") as file:
        file.seek(pages // 2 * page_size)
        file.write(b"\0" * page_size)


def events_in(ledger_file: Path) -> int:
    """Events in an SQLite ledger file, read from disk (0 before the file or its table exists)."""
    if not ledger_file.exists():
        return 0
    with closing(sqlite3.connect(ledger_file)) as connection:
        try:
            return int(connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    for name in list(os.environ):
        if name.startswith("LABLEDGER_"):
            monkeypatch.delenv(name)
    return Cli(tmp_path, capsys)
