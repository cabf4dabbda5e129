"""The reports through the CLI on one real scenario ledger: status, pending, audit and replay.

Why a scenario rather than hand-made rows: the reports are folds of the events that `register`,
`weigh` and a failed sync really record, so only a ledger built by those commands shows whether an
operator reading `labledger status` at 2 a.m. sees what happened. The scenario, built once per
module (it takes most of a second and every test only reads it; replay works on a copy):

A  `algernon/2026-11-21/001` registered; then `spikes.times.npy` is protected on Alyx, changed and
   registered again, so labledger moves it into today's revision folder;
W  a weighing of algernon recorded as Alyx user `night_op` (the Alyx login stays test_user);
B  `algernon/2026-11-21/002` registered while Alyx is down: queued after one failed attempt.

Each report is checked as JSON (exact content), CSV (agrees with the JSON), terminal table, and as
HTML opened in headless Chromium (the sessions shown, the failure marked, a silent console).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from labledger.projections.reports import AUDIT_COLUMNS, PENDING_COLUMNS, STATUS_COLUMNS
from labledger.scripts.cli import main
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.browser import open_report
from tests.cli_helpers import SAMPLE, SAMPLE_FILES, Cli, Result

START = "2026-11-21T09:30:00"
TODAY = dt.date.today().isoformat()
"""A moved file's revision folder is named after the rig's local date."""
A_KEY = "cortexlab/algernon/2026-11-21/001"
B_KEY = "cortexlab/algernon/2026-11-21/002"
MOVED = "alf/probe00/spikes.times.npy"
FILES = SAMPLE_FILES
DOWN = "http://127.0.0.1:9"
"""The discard port: nothing listens there, so Alyx is unreachable."""
NIGHT_OP = "night_op"
WEIGHING_EVENTS = [
    "Subject.Created",
    "Subject.WeighingRequested",
    "Subject.PostSent",
    "Subject.WeighingRecorded",
]

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Scenario:
    """Where the scenario's ledger and session folders are, and the eid Alyx gave session A."""

    ledger: Path
    a_folder: Path
    b_folder: Path
    a_eid: str


def _run(*argv: str) -> Result:
    """`labledger` in-process, its output captured without capsys (a module fixture has none)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Result(code, out.getvalue(), err.getvalue())


def _build(tmp: Path, server: AlyxTestServer, env: pytest.MonkeyPatch) -> Scenario:
    """Runs the scenario's commands, with `project` after each step so the read models are built
    incrementally (what `replay` must reproduce from the first event)."""
    ledger = tmp / "data" / "ledger.sqlite3"
    day = tmp / "cortexlab" / "Subjects" / "algernon" / "2026-11-21"

    def run(*argv: str) -> Result:
        result = _run(*argv, "--ledger", str(ledger))
        assert result.code == 0, f"{argv}: {result.err}{result.out}"
        return result

    def register(folder: Path) -> None:
        run("register", str(folder), "--start-time", START, "--json")
        run("project")

    a_folder = day / "001"
    shutil.copytree(SAMPLE, a_folder)
    register(a_folder)
    dataset = server.state.dataset_at(f"algernon/2026-11-21/001/{MOVED}")
    server.state.protect_dataset(dataset.id)
    changed = a_folder / MOVED
    changed.write_bytes(changed.read_bytes() + b"\x00")  # a new version of a protected file
    register(a_folder)
    assert (a_folder / "alf" / "probe00" / f"#{TODAY}#" / "spikes.times.npy").exists()

    run("weigh", "algernon", "25.3", "--date-time", "2026-11-21T10:00:00", "--alyx-user", NIGHT_OP)
    run("project")

    b_folder = day / "002"
    shutil.copytree(SAMPLE, b_folder)
    env.setenv("LABLEDGER_ALYX__BASE_URL", DOWN)
    register(b_folder)
    env.setenv("LABLEDGER_ALYX__BASE_URL", server.base_url)

    (alyx_session,) = server.state.find_sessions("algernon/2026-11-21/001")
    assert server.state.find_sessions("algernon/2026-11-21/002") == []
    return Scenario(ledger, a_folder, b_folder, alyx_session.id)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The scenario, built against a private home and the Alyx test server, which then stops:
    the reports must need neither."""
    tmp = tmp_path_factory.mktemp("reports")
    home = tmp / "home"
    home.mkdir()
    with AlyxTestServer() as server, pytest.MonkeyPatch.context() as env:
        for name in [name for name in os.environ if name.startswith("LABLEDGER_")]:
            env.delenv(name)
        env.setenv("HOME", str(home))
        env.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        env.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
        for name, value in alyx_env(server, tmp).items():
            env.setenv(name, value)
        return _build(tmp, server, env)


@pytest.fixture
def reports(cli: Cli, scenario: Scenario) -> Cli:
    """The `cli` fixture (private home, no LABLEDGER_* settings) on the scenario's ledger."""
    cli.ledger = scenario.ledger
    return cli


@pytest.fixture
def full_audit(reports: Cli) -> Rows:
    """Every event of the scenario, as `audit --json` lists them (oldest first)."""
    return _rows(reports, "audit")


def _rows(cli: Cli, *args: str) -> Rows:
    """A report's `--json` rows; the command must succeed and say nothing on stderr."""
    result = cli(*args, "--json")
    assert result.code == 0 and result.err == "", result.err + result.out
    rows: Rows = result.json()
    return rows


def _error(result: Result) -> str:
    """The one-line error of a refused command (exit 1, nothing on stdout)."""
    assert result.code == 1, result.out + result.err
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("labledger: error: ")
    return lines[0]


def _csv_text(value: Any) -> str:
    """How a JSON value reads in the CSV: None empty, numbers and text as their text."""
    return "" if value is None else str(value)


# -- status ------------------------------------------------------------------------------------


def test_status_counts_each_session(reports: Cli, scenario: Scenario) -> None:
    """A: six files registered, the changed protected one moved; B: all queued behind the error."""
    a, b = _rows(reports, "status")
    assert {column: a[column] for column in STATUS_COLUMNS} == {
        "session": A_KEY,
        "discovered": 6,
        "rejected": 2,
        "registered": 6,
        "protected": 1,
        "moved": 1,
        "pending": 0,
        "alyx_eid": scenario.a_eid,
        "manifest": None,
        "transfer": "none",
        "last_error": None,
    }
    assert a["folder"] == str(scenario.a_folder) and a["last_error_at"] is None
    assert {column: b[column] for column in STATUS_COLUMNS if column != "last_error"} == {
        "session": B_KEY,
        "discovered": 6,
        "rejected": 2,
        "registered": 0,
        "protected": 0,
        "moved": 0,
        "pending": 7,  # the session and its six files
        "alyx_eid": None,
        "manifest": None,
        "transfer": "none",
    }
    assert DOWN in b["last_error"] and "unreachable" in b["last_error"]
    assert b["folder"] == str(scenario.b_folder) and b["last_error_at"]


def test_status_selects_sessions_by_folder_key_tail_and_eid(
    reports: Cli, scenario: Scenario
) -> None:
    """Operators name a session as they see it: the folder, the key or its tail, the eid."""
    every = _rows(reports, "status")
    for name, expected in [
        (str(scenario.b_folder), B_KEY),
        ("algernon/2026-11-21/002", B_KEY),
        (B_KEY, B_KEY),
        (scenario.a_eid, A_KEY),
        (str(scenario.a_folder / "alf" / "licks.times.npy"), A_KEY),  # a file inside
    ]:
        (row,) = _rows(reports, "status", name)
        assert row["session"] == expected, name
        assert row in every  # the same row as in the full report
    assert _rows(reports, "status", A_KEY, "algernon/2026-11-21/002") == every


def test_status_of_an_unknown_session_is_refused_and_records_nothing(reports: Cli) -> None:
    """A typo must say which name matched nothing, and a report never writes to the log."""
    before = reports.event_count()
    line = _error(reports("status", "algernon/2026-11-21/009", "--json"))
    assert "'algernon/2026-11-21/009'" in line and "no session" in line
    assert reports.event_count() == before


def _cells(line: str) -> list[str]:
    """The cells of one line of a rich table, stripped."""
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_status_table_shows_both_sessions(
    reports: Cli, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wide enough that rich folds no cell: at the default 160 columns of a pipe the long error
    squeezes the session column and the keys break across lines (see the report)."""
    monkeypatch.setenv("COLUMNS", "400")
    result = reports("status")
    assert result.code == 0 and result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == "status"
    assert [cell.strip() for cell in lines[2].split("┃")[1:-1]] == [
        column.replace("_", " ") for column in STATUS_COLUMNS
    ]
    a_line, b_line = (line for line in lines if line.startswith("│"))
    assert _cells(a_line) == [A_KEY, "6", "2", "6", "1", "1", "0", scenario.a_eid, "-", "none", "-"]
    assert _cells(b_line)[:10] == [B_KEY, "6", "2", "0", "0", "0", "7", "-", "-", "none"]
    assert DOWN in _cells(b_line)[10]


# -- pending -----------------------------------------------------------------------------------


def test_pending_is_b_in_sync_order(reports: Cli) -> None:
    """Exactly what sync would do next, in its order: B's session first, then its files."""
    rows = _rows(reports, "pending")
    assert [row["step"] for row in rows] == list(range(1, 8))
    assert [row["target"] for row in rows] == ["the session", *FILES]
    assert [row["action"] for row in rows] == ["create or update the session"] + 6 * [
        "register the file"
    ]
    assert {(row["session"], row["system"], row["who"]) for row in rows} == {
        (B_KEY, "Alyx", "test_user")
    }
    session, *files = rows
    assert session["intent"] == "Session.RegistrationRequested"
    assert session["attempts"] >= 1
    assert DOWN in session["last_error"] and "unreachable" in session["last_error"]
    assert {(f["intent"], f["attempts"], f["last_error"]) for f in files} == {
        ("Dataset.RegistrationRequested", 0, None)  # they wait for the session: never tried
    }
    assert _rows(reports, "pending", "algernon/2026-11-21/002") == rows


def test_pending_of_a_done_session_is_nothing(reports: Cli, scenario: Scenario) -> None:
    """A finished session says so in words on the terminal, and is an empty list as JSON."""
    result = reports("pending", str(scenario.a_folder))
    assert (result.code, result.out, result.err) == (
        0,
        "nothing pending: sync has nothing to do\n",
        "",
    )
    assert _rows(reports, "pending", str(scenario.a_folder)) == []


# -- audit -------------------------------------------------------------------------------------


def test_audit_lists_every_event_once_in_log_order(full_audit: Rows) -> None:
    """The unfiltered trail the filter tests compare against: whole, ordered, attributed."""
    positions = [row["position"] for row in full_audit]
    assert positions == sorted(set(positions))
    assert {row["session"] for row in full_audit if row["session_id"]} == {A_KEY, B_KEY}
    assert {row["subject"] for row in full_audit} == {"algernon"}
    assert [row["event"] for row in full_audit if row["session_id"] is None] == WEIGHING_EVENTS
    assert full_audit[-1]["event"] == "Session.RegistrationFailed"
    assert full_audit[-1]["session"] == B_KEY


def test_audit_by_user_is_the_weighing(reports: Cli, full_audit: Rows) -> None:
    """`--alyx-user` is recorded as who did it, and `--user` finds exactly that."""
    rows = _rows(reports, "audit", "--user", NIGHT_OP)
    assert [row["event"] for row in rows] == WEIGHING_EVENTS
    assert {(r["alyx_user"], r["who"], r["session_id"], r["subject"]) for r in rows} == {
        (NIGHT_OP, NIGHT_OP, None, "algernon")
    }
    assert [row["kind"] for row in rows] == ["fact", "intent", "fact", "outcome"]
    others = _rows(reports, "audit", "--user", "test_user")
    assert others == [row for row in full_audit if row["alyx_user"] != NIGHT_OP]


def test_audit_table_names_the_subject_of_a_weighing(
    reports: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subject's events have no session; the subject column names whose they are."""
    monkeypatch.setenv("COLUMNS", "400")
    result = reports("audit", "--user", NIGHT_OP)
    assert result.code == 0, result.err
    rows = [_cells(line) for line in result.out.splitlines() if line.startswith("│")]
    assert [row[AUDIT_COLUMNS.index("subject")] for row in rows] == 4 * ["algernon"]
    assert [row[AUDIT_COLUMNS.index("session")] for row in rows] == 4 * [""]


def test_audit_by_session(reports: Cli, scenario: Scenario, full_audit: Rows) -> None:
    """--session takes the same names as status (folder, key, eid) and is repeatable."""
    rows = _rows(reports, "audit", "--session", str(scenario.b_folder))
    assert rows == [row for row in full_audit if row["session"] == B_KEY]
    assert rows[-1]["event"] == "Session.RegistrationFailed"
    both = _rows(reports, "audit", "--session", B_KEY, "--session", scenario.a_eid)
    assert both == [row for row in full_audit if row["session_id"]]


def test_audit_by_subject(reports: Cli, full_audit: Rows) -> None:
    """Every event here is algernon's (the weighing too); another subject has none."""
    assert _rows(reports, "audit", "--subject", "algernon") == full_audit  # all are algernon's
    assert _rows(reports, "audit", "--subject", "hercules") == []


def test_audit_by_kind(reports: Cli, full_audit: Rows) -> None:
    """An event name (short or full) or a kind; `Moved` must not also match `MovedIn`."""
    (moved,) = _rows(reports, "audit", "--kind", "Moved")
    assert (moved["event"], moved["kind"], moved["session"], moved["file"]) == (
        "Dataset.Moved",
        "outcome",
        A_KEY,
        MOVED,
    )
    assert f"alf/probe00/#{TODAY}#/spikes.times.npy" in moved["summary"]
    assert _rows(reports, "audit", "--kind", "Dataset.Moved") == [moved]
    intents = _rows(reports, "audit", "--kind", "intent")
    assert intents == [row for row in full_audit if row["kind"] == "intent"]
    assert intents and {row["event"].endswith("Requested") for row in intents} == {True}


def test_audit_by_time_and_limit(reports: Cli, full_audit: Rows) -> None:
    """Bounds outside the scenario's day select nothing, around it everything; --limit: latest."""
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert _rows(reports, "audit", "--since", future) == []
    assert _rows(reports, "audit", "--until", "2000-01-01") == []
    assert _rows(reports, "audit", "--since", yesterday, "--until", future) == full_audit
    assert _rows(reports, "audit", "--limit", "3") == full_audit[-3:]


def test_audit_bad_since_is_refused(reports: Cli) -> None:
    """A time that does not parse is named with its option, not silently ignored."""
    before = reports.event_count()
    line = _error(reports("audit", "--since", "last tuesday", "--json"))
    assert "--since 'last tuesday'" in line and "ISO" in line
    assert reports.event_count() == before


# -- CSV, files, replay ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "shown"),
    [("status", STATUS_COLUMNS), ("pending", PENDING_COLUMNS), ("audit", AUDIT_COLUMNS)],
)
def test_csv_agrees_with_json(reports: Cli, command: str, shown: list[str]) -> None:
    """Every JSON row is a CSV row; the terminal's columns lead, with the same values as text."""
    rows = _rows(reports, command)
    result = reports(command, "--csv")
    assert result.code == 0 and result.err == ""
    parsed = list(csv.DictReader(io.StringIO(result.out)))
    assert parsed and len(parsed) == len(rows)
    assert list(parsed[0]) == shown + [key for key in rows[0] if key not in shown]
    assert [[row[c] for c in shown] for row in parsed] == [
        [_csv_text(row[c]) for c in shown] for row in rows
    ]


def test_output_needs_a_format(reports: Cli, scenario: Scenario, tmp_path: Path) -> None:
    """-o alone would otherwise write a table nobody asked for in a file; it is refused."""
    target = tmp_path / "status.txt"
    for command in (("status",), ("pending",), ("audit",), ("pending", str(scenario.a_folder))):
        line = _error(reports(*command, "-o", str(target)))
        assert "--output needs a format" in line, command
        assert not target.exists()


def test_an_empty_filtered_report_says_the_filters_matched_nothing(reports: Cli) -> None:
    result = reports("audit", "--since", "2999-01-01")
    assert (result.code, result.out.strip()) == (0, "audit: nothing matches these filters")


def test_json_to_a_file_is_what_the_terminal_gets(reports: Cli, tmp_path: Path) -> None:
    """-o writes the same JSON the terminal would get, and says where and how many rows."""
    target = tmp_path / "pending.json"
    result = reports("pending", "--json", "-o", str(target))
    assert (result.code, result.out) == (0, f"wrote {target} (7 rows)\n")
    assert json.loads(target.read_text(encoding="utf-8")) == _rows(reports, "pending")


def _copy(source: Path, target: Path) -> None:
    """An SQLite ledger copied through the backup API (consistent whatever its journal mode)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def test_replay_rebuilds_the_same_reports(reports: Cli, scenario: Scenario, tmp_path: Path) -> None:
    """The incrementally built read models equal those folded again from the first event."""
    reports.ledger = tmp_path / "copy" / "ledger.sqlite3"
    _copy(scenario.ledger, reports.ledger)
    commands = [("status",), ("pending",), ("audit",), ("audit", "--user", NIGHT_OP)]
    before = [_rows(reports, *command) for command in commands]
    events = reports.event_count()
    replay = reports("replay")
    assert replay.code == 0 and replay.err == ""
    assert replay.out.startswith(f"read models rebuilt from the log: position {events},")
    assert [_rows(reports, *command) for command in commands] == before
    assert reports.event_count() == events


# -- HTML in Chromium --------------------------------------------------------------------------

DRAWN = """
const texts = (root, css) => Array.from(root.querySelectorAll(css), e => e.textContent.trim());
const filters = document.querySelector("p.filters");
return {
  title: document.title,
  head: texts(document, "table#rows thead th"),
  alike: (document.querySelector(".alike") || {innerText: ""}).innerText,
  rows: Array.from(document.querySelectorAll("table#rows tbody tr"), tr => texts(tr, "td")),
  filters: filters ? filters.innerText : "",
  sections: Array.from(document.querySelectorAll("section.timeline"), s => ({
    heading: s.querySelector("h2").innerText,
    shown: s.querySelector("h2").getBoundingClientRect().height > 0,
    events: texts(s, "table.events tr > td:nth-child(2)"),
    failed: texts(s, "table.events tr.failed > td:nth-child(2)"),
  })),
};
"""
"""What Chromium drew: title, table cells, filters line, and per timeline its heading, events and
failed events (their text, entities decoded, folded or not)."""


@pytest.mark.parametrize(
    ("args", "timelines"),
    [
        (("status",), [B_KEY, A_KEY]),  # newest first
        (("pending",), [B_KEY]),
        (("audit", "--user", NIGHT_OP), []),  # the weighing belongs to no session: no timeline
    ],
)
def test_html_in_chromium(
    reports: Cli,
    chromium: WebDriver,
    tmp_path: Path,
    args: tuple[str, ...],
    timelines: list[str],
) -> None:
    """Written where -o says, and drawn by Chromium with the rows and timelines expected."""
    rows = _rows(reports, *args)
    page = tmp_path / f"{args[0]}.html"
    result = reports(*args, "--html", "-o", str(page))
    assert (result.code, result.out, result.err) == (0, f"wrote {page} ({len(rows)} rows)\n", "")

    log = open_report(chromium, page)
    drawn = chromium.execute_script(DRAWN)  # one round trip: a call per element takes seconds

    severe = [entry for entry in log if entry["level"] == "SEVERE"]
    assert severe == [], severe
    assert drawn["title"] == f"labledger {args[0]}"
    assert len(drawn["rows"]) == len(rows)
    assert [section["heading"] for section in drawn["sections"]] == timelines
    assert all(section["shown"] for section in drawn["sections"])
    for section in drawn["sections"]:
        key = section["heading"]
        assert len(section["events"]) == len(_rows(reports, "audit", "--session", key)), key
        if key == A_KEY:
            assert "Moved" in section["events"]
            assert section["failed"] == []
        else:
            assert section["failed"] == ["RegistrationFailed"]
    if args[0] == "audit":
        assert "user: night_op" in drawn["filters"]
        event_column = drawn["head"].index("event")  # columns alike in every row are left out
        assert [cells[event_column] for cells in drawn["rows"]] == WEIGHING_EVENTS[::-1]
    else:
        shown = rows[::-1] if args[0] == "status" else rows  # pending: in the order sync runs
        if "session" in drawn["head"]:
            session_column = drawn["head"].index("session")
            sessions = [cells[session_column] for cells in drawn["rows"]]
            assert sessions == [r["session"] for r in shown]
        else:  # the same in every row: said once above the table
            [session] = {r["session"] for r in shown}
            assert f"session: {session}" in drawn["alike"]
