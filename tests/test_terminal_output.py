"""Terminal output that fits and says what it left out, as an operator sees it.

The column rules of each table are data (`projections.table_layout`), checked row by row here;
then the installed command is run at 100, 80 and 200 columns (COLUMNS, and once a real pty), and
piped, and every line is checked to fit and to hold each eid, key, path and time whole.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
import time
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from labledger.projections.left_out import LeftOutFile, left_out_lines
from labledger.projections.render import table
from labledger.projections.reports import AUDIT_COLUMNS, PENDING_COLUMNS, STATUS_COLUMNS
from labledger.projections.table_layout import (
    AUDIT,
    PENDING,
    REPORT_LAYOUTS,
    STATUS,
    Column,
    plan,
    resolve,
)
from labledger.projections.words import plural, size_text
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE
from tests.doors import LABLEDGER, Door
from tests.terminal import Terminal

KEY = "cortexlab/algernon/2026-11-21/001"
EID = "0e2f5c8a-3b6d-4c1e-9f7a-2d4b6c8e0f13"
UUID_2 = "7a1c9e3b-5d2f-4a8e-b6c0-1e3f5a7b9d2c"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# -- the rules, row by row ----------------------------------------------------------------------

STATUS_ROW = {
    "session": KEY,
    "discovered": "6",
    "rejected": "2",
    "registered": "6",
    "protected": "0",
    "moved": "0",
    "pending": "0",
    "alyx_eid": EID,
    "manifest": "-",
    "transfer": "none",
    "last_error": "-",
}
ERROR = "alf/probe00/spikes.times.npy: file registration failed (kept pending): Alyx answered 503"

E = ["manifest", "last_error"]  # empty in the sample rows
PLANS = [
    # width, row changes, shown, listed below, left out, empty in every row (shown None: stacked)
    (None, {}, list(STATUS_COLUMNS), [], [], []),
    (200, {}, list(STATUS_COLUMNS), [], [], []),
    (
        100,
        {},
        ["session", "pending", "alyx_eid", "transfer"],
        [],
        ["discovered", "rejected", "registered", "protected", "moved"],
        E,
    ),
    (
        100,
        {"last_error": ERROR},
        ["session", "pending", "alyx_eid", "transfer"],
        ["last_error"],
        ["discovered", "rejected", "registered", "protected", "moved"],
        ["manifest"],
    ),
    (
        80,
        {},
        ["session", "alyx_eid"],
        [],
        ["discovered", "rejected", "registered", "protected", "moved", "pending", "transfer"],
        E,
    ),
    (
        80,
        {"alyx_eid": "-"},  # not on Alyx yet: room for what the session waits for
        ["session", "registered", "pending", "transfer"],
        [],
        ["discovered", "rejected", "protected", "moved"],
        ["alyx_eid", *E],
    ),
    (60, {}, None, [], [], []),
]


@pytest.mark.parametrize(("width", "changes", "shown", "below", "hidden", "empty"), PLANS)
def test_status_columns_leave_by_priority_and_an_error_is_listed_below(
    width: int | None,
    changes: dict[str, str],
    shown: list[str] | None,
    below: list[str],
    hidden: list[str],
    empty: list[str],
) -> None:
    row = {**STATUS_ROW, **changes}
    made = plan(resolve(STATUS_COLUMNS, STATUS), [[row[c] for c in STATUS_COLUMNS]], width)
    if shown is None:
        assert made.stacked, "no table of session and eid fits 60 columns: a block per row"
        return
    assert (list(made.shown), list(made.below), list(made.hidden)) == (shown, below, hidden)
    assert list(made.empty) == empty and not made.stacked
    if width is not None:
        assert sum(made.widths) + 3 * len(made.widths) + 1 <= width
    whole = {name: w for name, w in zip(made.shown, made.widths, strict=True)}
    for name in {"session", "alyx_eid"} & set(whole):
        assert whole[name] >= len(row[name]), "a key or eid is never narrower than itself"


WORDS = [
    # rule, cells, width: the width the column gets
    (Column("detail", 1, "words", 20), ["done; eid " + EID], 60, len("done; eid " + EID)),
    (Column("detail", 1, "words", 20), ["done; eid " + EID], 50, 39),  # "done; eid" / EID
    (Column("detail", 1, "words", 20), ["short"], 50, 6),  # the header word "detail"
    (Column("discovered", 3), ["6"], 50, len("discovered")),  # never "discover/ed"
    (Column("new_or_changed", 1), ["6"], 18, len("changed")),  # wraps between words only
]


@pytest.mark.parametrize(("rule", "cells", "width", "expected"), WORDS)
def test_a_column_is_never_narrower_than_its_longest_word(
    rule: Column, cells: list[str], width: int, expected: int
) -> None:
    made = plan([Column("step"), rule], [["1", cell] for cell in cells], width)
    assert not made.stacked
    assert made.widths[1] == expected


def test_a_value_every_row_holds_is_said_once_when_the_table_is_too_wide() -> None:
    rows = [STATUS_ROW, {**STATUS_ROW, "alyx_eid": UUID_2}]
    cells = [[row[c] for c in STATUS_COLUMNS] for row in rows]
    made = plan(resolve(STATUS_COLUMNS, STATUS), cells, 100)
    assert "session" not in made.shown and "alyx_eid" in made.shown
    assert ("session", KEY) in made.same and ("transfer", "none") in made.same
    assert plan(resolve(STATUS_COLUMNS, STATUS), cells, 200).same == (), "room: every column"
    alike = [STATUS_ROW, STATUS_ROW]
    assert plan(
        resolve(STATUS_COLUMNS, STATUS), [[r[c] for c in STATUS_COLUMNS] for r in alike], 80
    ).stacked


def test_every_report_column_has_a_rule_and_every_rule_a_column() -> None:
    for name, columns in (
        ("status", STATUS_COLUMNS),
        ("audit", AUDIT_COLUMNS),
        ("pending", PENDING_COLUMNS),
    ):
        assert set(REPORT_LAYOUTS[name]) == set(columns), name
    assert {c.name for c in (*STATUS.values(), *AUDIT.values(), *PENDING.values())}
    assert all(c.priority >= 1 for c in (*STATUS.values(), *AUDIT.values(), *PENDING.values()))


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [(0, "file", "0 files"), (1, "file", "1 file"), (2, "file", "2 files")],
)
def test_plurals(count: int, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1, "1 byte"),
        (160, "160 bytes"),
        (4_200, "4.2 kB"),
        (200_000_000_000, "200.0 GB"),
        (3_000_000_000_000_000_000, "3000.0 PB"),
    ],
)
def test_sizes_have_units(size: int, expected: str) -> None:
    assert size_text(size) == expected


def test_left_out_files_are_grouped_by_reason_and_capped() -> None:
    hidden = [LeftOutFile(KEY, f".tmp{n}", "hidden", f".tmp{n} is hidden") for n in range(7)]
    odd = [LeftOutFile("cortexlab/algernon/2026-11-22/001", "notes.txt", "invalid-name", "bad")]
    lines = left_out_lines(hidden + odd, per_kind=5)
    assert lines == [
        "left out, not registered (8 files):",
        "  hidden file (7 files):",
        *(f"    {KEY}: .tmp{n} is hidden" for n in range(5)),
        "    … and 2 more (`labledger audit --kind Rejected` lists every one)",
        "  not an ALF file name (1 file):",
        "    cortexlab/algernon/2026-11-22/001: bad",
    ]
    assert left_out_lines([]) == []


# -- the installed command, at three widths and piped --------------------------------------------


def _sample(door: Door) -> Path:
    folder = door.cwd / "data" / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    shutil.copytree(SAMPLE, folder)
    return folder


def _fits(text: str, width: int | None, tokens: list[str]) -> None:
    """Every line at most `width` wide, and each token whole on one line."""
    lines = text.splitlines()
    if width is not None:
        too_wide = [line for line in lines if len(line) > width]
        assert not too_wide, f"wider than {width}:\n" + "\n".join(too_wide)
    for token in tokens:
        assert any(token in line for line in lines), f"{token!r} split or missing:\n{text}"


def test_scan_and_register_list_what_they_left_out_and_quiet_hides_it(door: Door) -> None:
    folder = _sample(door)
    door.env["LABLEDGER_LAB"] = "cortexlab"
    scanned = door("scan", folder, env={"COLUMNS": "80"}).ok()
    assert scanned.out.splitlines()[0] == "scan"
    _fits(scanned.out, 80, [KEY])
    listed = scanned.out.split("left out, not registered (2 files):")[1]
    assert "not an ALF file name (1 file):" in listed and 'file name "notes.txt"' in listed
    assert "no dataset type on Alyx matches the name (1 file):" in listed
    assert '"alf/_ibl_trials.table.pqt"' in listed
    assert "left out" not in door("scan", folder, "--quiet").ok().out
    registered = door("register", folder, env={"COLUMNS": "100"}).ok()
    assert registered.out.splitlines()[0] == "register", "the table names its command"
    assert "left out, not registered (2 files):" in registered.out
    assert "left out" not in door("register", folder, "--quiet").ok().out
    one_file = door("register", folder / "alf" / "licks.times.npy").ok()
    assert "left out" not in one_file.out, "a file named alone: the session's others are not news"
    assert "hashing 1 files" not in scanned.err


def test_reports_fit_100_80_and_200_columns_and_a_pipe_without_splitting_an_eid_key_or_time(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = _sample(door)
    door.env.update(alyx_env(server, tmp_path))
    first = door("register", folder, env={"COLUMNS": "100"}).ok()
    _fits(first.out, 100, [KEY])
    [eid] = server.state.sessions
    again = door("register", folder, env={"COLUMNS": "80"}).ok()
    said = " ".join(again.out.split())
    assert f"{KEY}: already registered on Alyx as eid {eid}, with 6 files registered" in said
    assert "nothing pending" not in again.out
    for width in (100, 80, 200, None):
        columns = {"COLUMNS": str(width)} if width else {}
        status = door("status", env=columns).ok().out
        _fits(status, width, [KEY, str(eid)])
        assert status.splitlines()[0] == "status"
        audit = door("audit", "--kind", "Registered", env=columns).ok().out
        times = TIME.findall(audit)
        assert times, f"audit times carry their zone:\n{audit}"
        _fits(audit, width, [KEY, str(eid), *times])
        if width is None:  # a pipe: every column, each row on one line
            assert "not shown" not in status and len(status.splitlines()) == 6
        if width == 80:
            assert "not shown at 80 columns: " in status
    history = door("history", folder).ok().out
    assert all(TIME.match(line) for line in history.splitlines()), history
    wide = door("status", "--wide", env={"COLUMNS": "80"}).ok().out
    assert "manifest" in wide and "not shown" not in wide


def _in_a_terminal(door: Door, columns: int, *args: str) -> str:
    """`labledger ARGS` in a pseudo-terminal `columns` wide, as a user's terminal runs it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    run = subprocess.Popen(
        [str(LABLEDGER), *args],
        cwd=door.cwd,
        env=door.environment(),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command ended and closed its side
                break
            if not chunk:
                break
            output += chunk
        elif run.poll() is not None:
            break
    os.close(leader)
    assert run.wait(timeout=10) == 0, output
    return ANSI.sub("", output.decode("utf-8").replace("\r\n", "\n"))


def test_a_real_terminal_100_wide_shows_the_eid_whole(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = _sample(door)
    door.env.update(alyx_env(server, tmp_path))
    door("register", folder).ok()
    [eid] = server.state.sessions
    shown = _in_a_terminal(door, 100, "status")
    assert UUID.search(shown), shown
    _fits(shown, 100, [KEY, str(eid)])
    assert "not shown at 100 columns:" in shown


def _rendered(rows: list[dict[str, str]], width: int, columns: list[str] = STATUS_COLUMNS) -> str:
    """The table of `rows` as a terminal `width` wide shows it (status rules for its columns)."""
    out = StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    table(console, "title", rows, columns, layout=STATUS)
    return out.getvalue()


def test_an_error_that_does_not_fit_is_listed_under_the_table_and_a_narrow_one_is_a_block() -> None:
    rows = [{**STATUS_ROW, "last_error": ERROR}]
    shown = _rendered(rows, 100)
    _fits(shown, 100, [KEY, EID, "alf/probe00/spikes.times.npy:"])
    under = shown.split("last error:\n")[1]
    assert " ".join(under.split()).startswith(f"{KEY}: {ERROR}")
    assert "not shown at 100 columns: discovered, rejected, registered" in shown
    narrow = _rendered(rows, 60)
    _fits(narrow, 60, [KEY, EID])
    assert "── 1 of 1 ──" in narrow and "manifest" not in narrow, "empty values are left out"


def test_an_item_and_value_table_too_narrow_is_one_line_per_item() -> None:
    path = "/home/operator/.local/share/labledger/watchdog-service.log"
    rows = [{"item": "service output", "value": path}, {"item": "config", "value": "not set"}]
    shown = _rendered(rows, 60, ["item", "value"])
    assert shown.splitlines() == ["title", "service output:", f"  {path}", "config: not set"]
    wider = _rendered(rows, 80, ["item", "value"])
    assert f"service output │ {path}" in wider, "a table again where one fits"


# -- pending's rules, row by row -------------------------------------------------------------------

PENDING_ROW = {
    "step": "1",
    "system": "Alyx",
    "session": KEY,
    "target": "raw_video_data/_iblrig_leftCamera.times.npy",
    "action": "register the file",
    "since": "2026-11-21 14:30:05Z",
    "who": "test_user",
    "attempts": "1",
    "waits_for": "-",
    "last_error": "-",
}
OTHER_KEY = "cortexlab/algernon/2026-11-21/002"
CHANGES = [
    {},
    {
        "target": "the session",
        "action": "create or update the session",
        "since": "2026-11-21 14:31:00Z",
    },
]
"""The second row: another target, action and time (what differs between rows stays a column)."""


ALIKE = ["system", "who", "attempts"]
"""Columns the two rows hold alike: said once above the rows when the table is too wide."""


@pytest.mark.parametrize(
    ("width", "sessions", "shown", "same"),
    [
        (None, [KEY, OTHER_KEY], list(PENDING_COLUMNS), []),
        (160, [KEY, OTHER_KEY], ["step", "session", "target", "action", "since"], ALIKE),
        (100, [KEY, OTHER_KEY], ["step", "target", "action"], ALIKE),  # what sync will do stays
        (100, [KEY, KEY], ["step", "target", "action", "since"], ["system", "session", *ALIKE[1:]]),
    ],
)
def test_pending_keeps_what_sync_will_do_and_the_session_leaves_or_is_said_once(
    width: int | None, sessions: list[str], shown: list[str], same: list[str]
) -> None:
    rows = [
        {**PENDING_ROW, "step": str(step), "session": key, **changes}
        for step, (key, changes) in enumerate(zip(sessions, CHANGES, strict=True), start=1)
    ]
    cells = [[row[c] for c in PENDING_COLUMNS] for row in rows]
    made = plan(resolve(PENDING_COLUMNS, PENDING), cells, width)
    assert not made.stacked and list(made.shown) == shown
    assert [name for name, _ in made.same] == same
    if width == 100 and "session" not in same:
        assert "session" in made.hidden, "named under the table, never silently gone"


# -- prose: messages, warnings and errors ------------------------------------------------------

REFUSED = "http://127.0.0.1:1"
"""An Alyx address nothing listens on: every request is refused at once, the work stays queued."""

FOOTER = (
    "queued: the work is recorded in the ledger; `labledger sync` performs it once what it waits "
    "for is there (the server, the watchdog's folder)"
)


def _offline(door: Door, tmp_path: Path) -> None:
    door.env.update(
        {
            "LABLEDGER_LAB": "cortexlab",
            "LABLEDGER_ALYX_USER": "test_user",
            "LABLEDGER_ALYX__BASE_URL": REFUSED,
            "LABLEDGER_ALYX__USERNAME": "test_user",
            "LABLEDGER_ALYX__PASSWORD": "not-a-real-password",
            "LABLEDGER_ALYX__TOKEN_FILE": str(tmp_path / "tokens.json"),
            "LABLEDGER_ALYX__MAX_ATTEMPTS": "1",
        }
    )


def _wraps(text: str, width: int, tokens: list[str]) -> None:
    """Every line at most `width` wide but a word longer than a whole line (a long path), which
    stands alone on its line; each token whole on one line."""
    too_wide = [line for line in text.splitlines() if len(line) > width and " " in line.strip()]
    assert not too_wide, f"wider than {width}:\n" + "\n".join(too_wide)
    _fits(text, None, tokens)


def _said(screen: str) -> str:
    """What a screen says, whatever the line breaks: prose wraps between words only."""
    return " ".join(screen.split())


def test_messages_warnings_and_errors_wrap_between_words_on_a_terminal_and_not_in_a_pipe(
    door: Door, tmp_path: Path
) -> None:
    _offline(door, tmp_path)
    folder = _sample(door)
    start = "2026-11-21T00:00:00"  # the start-time warning: the folder's date at midnight
    shown = _in_a_terminal(door, 100, "register", str(folder))
    _wraps(shown, 100, [KEY, REFUSED, start, "`labledger sync`"])
    assert FOOTER in _said(shown) and "labledger: warning: using the packaged" in shown
    for grams in ("25.1", "25.3"):
        _wraps(_in_a_terminal(door, 100, "weigh", "algernon", grams), 100, [REFUSED])
    _wraps(_in_a_terminal(door, 100, "water", "algernon", "1.5"), 100, [REFUSED])

    piped = door("register", str(folder))  # a pipe: one line each, as a log greps them
    assert FOOTER in piped.ok().out.splitlines()
    warnings = [line for line in piped.err.splitlines() if line.startswith("labledger: warning:")]
    assert any(REFUSED in line and "(nothing was sent)" in line for line in warnings)
    assert not [line for line in piped.err.splitlines() if line.startswith(" ")], "none wrapped"

    synced = Terminal(door, "sync", columns=100)  # exits 75: work still queued
    assert synced.finish() == 75
    _wraps(synced.screen, 100, [KEY, REFUSED])
    assert FOOTER in _said(synced.screen)


def test_pending_of_weighings_alike_says_their_error_once_within_100_columns(
    door: Door, tmp_path: Path
) -> None:
    _offline(door, tmp_path)
    for grams in ("25.1", "25.3"):
        door("weigh", "algernon", grams).ok()
    shown = _in_a_terminal(door, 100, "pending")
    _wraps(shown, 100, [REFUSED, "(nothing was sent)"])
    said = _said(shown)
    assert "every row:" in said and f"last error Alyx at {REFUSED} is unreachable" in said
    assert "action post the weighing" in said, "what sync will do: said once, not left out"
    piped = door("pending").ok().out.splitlines()  # a pipe: every column, a row on one line
    assert len([line for line in piped if REFUSED in line and "post the weighing" in line]) == 2


def test_history_is_a_summary_per_event_within_100_columns_and_json_keeps_every_field(
    door: Door, tmp_path: Path
) -> None:
    _offline(door, tmp_path)
    folder = _sample(door)
    door("register", str(folder)).ok()
    shown = _in_a_terminal(door, 100, "history", "--files", str(folder))
    times = TIME.findall(shown)
    _wraps(shown, 100, [*times, "alf/licks.times.npy", "op "])
    said = _said(shown)
    assert "mtime_ns" not in said and "discovered=[" not in said, "no record dumps"
    assert "Session.Created [fact]: session folder" in said
    assert "Dataset.Discovered [fact]: licks.times (npy), 160 bytes, md5" in said
    assert "by " in said and "(alyx test_user)" in said
    entries = door("history", "--files", str(folder), "--json").ok().json()
    discovered = next(e for e in entries if e["event"] == "Dataset.Discovered")
    details = discovered["details"]
    assert "mtime_ns" in details and discovered["summary"].endswith(f"md5 {details['md5'][:8]}")


def test_status_of_a_folder_never_scanned_says_to_scan_or_register_it(door: Door) -> None:
    folder = _sample(door)
    ran = door("status", str(folder))
    assert ran.code == 1 and ran.out == ""
    assert f"the folder '{folder}' is not in the ledger yet" in ran.err
    assert f"`labledger scan {folder}`" in ran.err and "`labledger register" in ran.err
    typo = door("status", "algernon/2026-11-29/001")
    assert "no session 'algernon/2026-11-29/001' in the ledger; give" in typo.err, "not a folder"


def test_config_show_all_is_one_line_per_setting_when_its_table_does_not_fit(
    door: Door, tmp_path: Path
) -> None:
    _offline(door, tmp_path)
    shown = _in_a_terminal(door, 100, "config", "show", "--all")
    lines = shown.splitlines()
    assert not [line for line in lines if line.startswith("──")], "no block per setting"
    _wraps(shown, 100, ["alyx.base_url = " + REFUSED, "(LABLEDGER_ALYX__BASE_URL)"])
    settings = door("config", "show", "--all", "--json").ok().json()
    assert len(lines) < 2 * len(settings), "about a line each, not four"
    wide = door("config", "show", "--all", env={"COLUMNS": "200"}).ok().out
    assert "┃ key" in wide, "a table where one fits"


def test_pending_html_says_what_the_terminal_says_when_nothing_is_pending(door: Door) -> None:
    folder = _sample(door)
    door.env["LABLEDGER_LAB"] = "cortexlab"
    door("scan", str(folder)).ok()  # events in the ledger, nothing pending
    assert door("pending").ok().out == "nothing pending: sync has nothing to do\n"
    page = door("pending", "--html").ok().out
    assert "Nothing pending: sync has nothing to do." in page
    assert "Nothing recorded yet" not in page
