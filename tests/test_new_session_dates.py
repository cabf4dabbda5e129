"""`new-session` and `create_new_session` on any day, entered as users enter them: the installed
`labledger` command in a subprocess with a scratch HOME, and the RegistrationClient, against the
loopback Alyx server.

Dates are relative to the day the tests run (a past day, today-9, and today), so the suite passes
on any day; `.ci/run` also runs it with the clock moved by `faketime`. A test that reads "now"
allows for midnight passing during the call: the folder's date is whichever day the command saw.

The defects these guard against: a day other than today made the folder and allocated the session,
then refused the start time it had made up itself, so every retry burned a number and left a ghost
session; the start time was read from the clock twice, so a call at midnight could mix two days.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labledger import RegistrationClient
from labledger.domain.errors import LabledgerError
from tests.alyx_cli import API_LEDGER, alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import events_in

COMMAND = Path(sys.executable).parent / "labledger"


def _past_day() -> dt.date:
    return dt.date.today() - dt.timedelta(days=9)


@dataclass
class Installed:
    """The installed `labledger` with its own HOME, ledger file and the loopback server."""

    tmp_path: Path
    server: AlyxTestServer

    @property
    def ledger(self) -> Path:
        return self.tmp_path / "ledger.sqlite3"

    @property
    def root(self) -> Path:
        return self.tmp_path / "data" / "cortexlab" / "Subjects"

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        home = self.tmp_path / "home"
        env = {
            name: value for name, value in os.environ.items() if not name.startswith("LABLEDGER_")
        }
        env |= alyx_env(self.server, self.tmp_path) | {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "LABLEDGER_SQLITE_PATH": str(self.ledger),
        }
        return subprocess.run(
            [str(COMMAND), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def new_session(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.root.mkdir(parents=True, exist_ok=True)  # a rig's data root exists
        return self("new-session", "algernon", "--root", str(self.root), *args)

    def events(self) -> int:
        """Events in the ledger (0 before the ledger file exists)."""
        return events_in(self.ledger)

    def ledger_sessions(self) -> list[tuple[str, str | None]]:
        """(session key, Alyx eid) of every session the ledger knows."""
        done = self("status", "--json")
        assert done.returncode == 0, done.stderr
        return sorted((row["session"], row["alyx_eid"]) for row in json.loads(done.stdout))

    def folders(self) -> list[str]:
        """Every folder and file made under the data roots (lab/Subjects), relative to their
        parent; the roots themselves exist before."""
        top = self.root.parent.parent
        made = (p.relative_to(top) for p in top.rglob("*")) if top.exists() else iter(())
        return sorted(path.as_posix() for path in made if len(path.parts) > 2)


@pytest.fixture
def installed(server: AlyxTestServer, tmp_path: Path) -> Installed:
    return Installed(tmp_path, server)


def _sessions(server: AlyxTestServer) -> list[dict[str, Any]]:
    return list(server.state.snapshot()["sessions"])


def _refused(done: subprocess.CompletedProcess[str], words: str) -> None:
    """Exit 1 with one line on stderr that says `words`, and no folder printed."""
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], done.stderr
    assert done.stdout == ""


def test_new_session_on_a_past_day_starts_at_its_midnight(
    installed: Installed, server: AlyxTestServer
) -> None:
    day = _past_day().isoformat()
    done = installed.new_session("--date", day)
    assert done.returncode == 0, done.stderr
    folder = installed.root / "algernon" / day / "001"
    assert done.stdout.splitlines()[0] == str(folder) and folder.is_dir()
    assert f"Alyx gets {day}T00:00:00" in done.stderr  # the defaulted start time is announced
    (session,) = _sessions(server)
    assert session["key"] == f"algernon/{day}/001"
    assert session["start_time"] == f"{day}T00:00:00"
    ((key, eid),) = installed.ledger_sessions()
    assert key == f"cortexlab/algernon/{day}/001" and eid


def test_a_start_time_off_the_date_is_refused_and_burns_nothing(
    installed: Installed, server: AlyxTestServer
) -> None:
    day = _past_day()
    wrong = (day + dt.timedelta(days=1)).isoformat() + "T10:00:00"
    for _ in range(2):  # a retry of the same mistake changes nothing either
        refused = installed.new_session("--date", day.isoformat(), "--start-time", wrong)
        _refused(refused, f"is not on the new session's date {day.isoformat()}")
        assert installed.folders() == [] and installed.events() == 0
        assert _sessions(server) == []
    start = f"{day.isoformat()}T14:05:00"
    done = installed.new_session("--date", day.isoformat(), "--start-time", start)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith(f"algernon/{day.isoformat()}/001")
    (session,) = _sessions(server)
    assert session["number"] == 1 and session["start_time"] == start
    assert [key for key, _ in installed.ledger_sessions()] == [
        f"cortexlab/algernon/{day.isoformat()}/001"
    ]


def test_new_session_today_starts_now(installed: Installed, server: AlyxTestServer) -> None:
    before = dt.datetime.now().replace(microsecond=0)
    done = installed.new_session()
    after = dt.datetime.now()
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.splitlines()[0])
    day = dt.date.fromisoformat(folder.parent.name)
    assert day in (before.date(), after.date()) and folder.name == "001" and folder.is_dir()
    (session,) = _sessions(server)
    start = dt.datetime.fromisoformat(session["start_time"])
    assert before <= start <= after and start.date() == day  # one clock reading for both
    assert "no start time given" not in done.stderr
    again = installed.new_session("--date", day.isoformat())  # today, given explicitly
    assert again.returncode == 0, again.stderr
    assert sorted(s["number"] for s in _sessions(server)) == [1, 2]


@pytest.mark.parametrize(
    ("subject", "root", "more", "words"),
    [
        ("ghost", "data/cortexlab/Subjects", (), "subject ghost does not exist on Alyx"),
        ("my subject", "data/cortexlab/Subjects", (), "my subject"),
        ("algernon", "data/otherlab/Subjects", (), 'lab folder "otherlab"'),
        ("algernon", "data/cortexlab/Subjects", ("--users", "tset_user"), "user tset_user"),
    ],
)
def test_refusals_make_nothing(
    installed: Installed,
    server: AlyxTestServer,
    subject: str,
    root: str,
    more: tuple[str, ...],
    words: str,
) -> None:
    day = _past_day().isoformat()
    (installed.tmp_path / root).mkdir(parents=True)  # a rig's data root exists
    done = installed(
        "new-session", subject, "--root", str(installed.tmp_path / root), "--date", day, *more
    )
    _refused(done, words)
    assert installed.folders() == [] and installed.events() == 0
    assert _sessions(server) == []


# -- the Python API --------------------------------------------------------------------------------


def _ledger_events(tmp_path: Path) -> int:
    return events_in(tmp_path / API_LEDGER)


def test_create_new_session_on_any_day(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    root = tmp_path / "cortexlab" / "Subjects"
    day = _past_day()
    wrong = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(23, 30))
    with pytest.raises(LabledgerError, match="is not on the new session's date"):
        client.create_new_session("algernon", session_root=root, date=day, start_time=wrong)
    with pytest.raises(LabledgerError, match="is not a date"):
        client.create_new_session("algernon", session_root=root, date="21/11/2026")
    assert not root.exists() and _ledger_events(tmp_path) == 0 and _sessions(server) == []

    folder, eid = client.create_new_session("algernon", session_root=root, date=day.isoformat())
    assert folder == root / "algernon" / day.isoformat() / "001" and eid is not None
    assert any(f"Alyx gets {day.isoformat()}T00:00:00" in w for w in client.warnings)

    before = dt.datetime.now().replace(microsecond=0)
    today_folder, today_eid = client.create_new_session("algernon", session_root=root)
    after = dt.datetime.now()
    assert today_folder.name == "001" and today_eid is not None
    by_day = {s["date"]: s for s in _sessions(server)}
    assert by_day[day.isoformat()]["start_time"] == f"{day.isoformat()}T00:00:00"
    start = dt.datetime.fromisoformat(by_day[today_folder.parent.name]["start_time"])
    assert before <= start <= after and start.date().isoformat() == today_folder.parent.name
    assert len(by_day) == 2
