"""Messages a newcomer met with Python's internals in them, now one plain line naming the thing
and the fix, through the installed `labledger` (scratch home) or a fresh interpreter: a decimal
comma, an impossible date, a folder given as the ledger, a subject folder given to `scan`, a
metadata service whose host does not resolve; and reports that never create a ledger, and
`new-session` that never creates its data root.
"""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from tests.cli_helpers import ROOT
from tests.doors import Door, Ran

OFFLINE = {"LABLEDGER_LAB": "cortexlab"}
"""No Alyx server: online work stays queued, as on a rig without network."""


def _one_error_line(ran: Ran, code: int = 1) -> str:
    """The last line of stderr, after checking the exit status and that no internals leaked."""
    assert ran.code == code, (ran.code, ran.err)
    assert "Traceback" not in ran.err and "Errno" not in ran.err, ran.err
    if code == 1:
        assert ran.err.count("\n") == 1, ran.err
    return ran.err.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("weigh", "algernon", "25,3"),
            "argument grams: '25,3' is not a number; write '25.3' with a decimal point",
        ),
        (
            ("water", "algernon", "a lot"),
            "argument millilitres: 'a lot' is not a number; give a number such as 25.3",
        ),
        (
            ("new-session", "algernon", "--root", ".", "--date", "2026-13-01"),
            "argument --date: '2026-13-01' is not a date of the calendar; write YYYY-MM-DD, "
            "e.g. 2026-11-21",
        ),
        (("audit", "--limit", "ten"), "argument --limit: 'ten' is not a whole number, e.g. 3"),
    ],
)
def test_a_bad_number_or_date_says_how_to_write_it(
    door: Door, args: tuple[str, ...], said: str
) -> None:
    line = _one_error_line(door(*args, env=OFFLINE), code=2)
    assert line == f"labledger {args[0]}: error: {said}"
    assert not door.ledger_file.exists(), "a usage error records nothing"


def test_a_folder_given_as_the_ledger_is_named_as_one(door: Door) -> None:
    folder = door.cwd / "somedir"
    folder.mkdir()
    line = _one_error_line(door("--ledger", str(folder), "status"))
    assert line == (
        f"labledger: error: SQLite ledger {folder} is a folder; give the ledger's file, e.g. "
        f"{folder / 'ledger.sqlite3'}"
    )


def test_scan_of_a_subject_folder_says_what_a_session_folder_is(door: Door) -> None:
    shutil.copytree(ROOT / "examples", door.cwd / "examples")
    line = _one_error_line(door("scan", "examples/cortexlab/Subjects/algernon", env=OFFLINE))
    folder = door.cwd / "examples/cortexlab/Subjects/algernon"
    assert line == (
        f'labledger: error: {folder} is the subject folder "algernon", not a session folder '
        "(subject/YYYY-MM-DD/NNN, e.g. algernon/2026-11-21/001); pass the session folder itself"
    )


VALIDATE = """
import json, warnings
from labledger import LabledgerError, WatchdogService

warnings.simplefilter("ignore")  # the failed rows are in last_checks too
service = WatchdogService()
try:
    service.validate()
except LabledgerError:
    pass  # no executable configured: the checks were made before
print(json.dumps({row["check"]: row["detail"] for row in service.last_checks}))
"""


def test_a_metadata_host_that_does_not_resolve_is_named_with_its_setting(door: Door) -> None:
    url = "http://metadata.no-such-host.invalid/api/v2/project_names"
    env = {
        "LABLEDGER_WATCHDOG__PROJECT_NAME": "Cognitive",
        "LABLEDGER_WATCHDOG__METADATA_SERVICE_URL": url,
        "LABLEDGER_WATCHDOG__METADATA_TIMEOUT": "5",
    }
    details = json.loads(door.python(VALIDATE, env=env).ok().out.splitlines()[-1])
    assert details["project name"] == (
        f"metadata service {url}: the host name metadata.no-such-host.invalid could not be "
        "resolved (no such host, or no DNS); check the network, or correct "
        "watchdog.metadata_service_url"
    )


READ_ONLY = [
    ("status",),
    ("audit",),
    ("pending",),
    ("history", "examples/cortexlab/Subjects/algernon/2026-11-21/001"),
    ("replay",),
    ("project",),
    ("watchdog", "status"),
    ("config", "show"),
]
"""The commands that only read the ledger."""


@pytest.mark.parametrize("args", READ_ONLY, ids=[" ".join(args[:2]) for args in READ_ONLY])
def test_a_report_on_a_new_rig_creates_nothing(door: Door, args: tuple[str, ...]) -> None:
    """At the default location, no ledger yet is an empty one: nothing is created."""
    if args[0] == "history":
        shutil.copytree(ROOT / "examples", door.cwd / "examples")
    ran = door(*args, env=OFFLINE)
    if args[0] == "history":  # a session the ledger has no events for
        assert ran.code == 1 and "record it first" in ran.err, ran.err
    else:
        assert ran.code == 0, ran.err
    made = sorted(str(path.relative_to(door.home)) for path in door.home.rglob("*"))
    assert made == [], f"{args[0]} created {made}"


@pytest.mark.parametrize("args", READ_ONLY[:7], ids=[" ".join(args[:2]) for args in READ_ONLY[:7]])
def test_a_mistyped_ledger_path_is_refused_not_created(door: Door, args: tuple[str, ...]) -> None:
    """Before, `--ledger /nonexistent2/x.sqlite3 status` created the folders and the file."""
    if args[0] == "history":
        shutil.copytree(ROOT / "examples", door.cwd / "examples")
    missing = door.cwd / "nonexistent2" / "x.sqlite3"
    line = _one_error_line(door("--ledger", str(missing), *args, env=OFFLINE))
    assert line == (
        f"labledger: error: SQLite ledger {missing} does not exist; correct the path (--ledger, "
        "sqlite_path or LABLEDGER_SQLITE_PATH), or record something first (scan, register)"
    )
    assert not missing.parent.exists()


def test_status_on_a_new_rig_says_nothing_recorded_yet(door: Door) -> None:
    assert door("status", env=OFFLINE).ok().out.strip().endswith("nothing recorded yet")
    assert door("status", "--json", env=OFFLINE).ok().json() == []
    assert not door.ledger_file.exists()


def test_new_session_refuses_a_data_root_that_does_not_exist(door: Door) -> None:
    root = door.cwd / "nonexistent" / "cortexlab" / "Subjects"
    line = _one_error_line(door("new-session", "algernon", "--root", str(root), env=OFFLINE))
    assert line == (
        f"labledger: error: --root {root} does not exist; create it first or correct the path"
    )
    assert not (door.cwd / "nonexistent").exists() and not door.ledger_file.exists()


def test_check_protected_with_the_server_down_is_one_line_naming_the_check(door: Door) -> None:
    """Before: a warning about the cached dataset types, then the same failure as the error."""
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    shutil.copytree(ROOT / "examples", door.cwd / "examples")
    env = {
        **OFFLINE,
        "LABLEDGER_ALYX__BASE_URL": url,
        "LABLEDGER_ALYX__USERNAME": "jdoe",
        "LABLEDGER_ALYX__PASSWORD": "not-used",
    }
    ran = door("check-protected", "examples/cortexlab/Subjects/algernon/2026-11-21/001", env=env)
    line = _one_error_line(ran)
    assert line.startswith(
        f"labledger: error: cannot check which files are protected: Alyx at {url} is "
        "unreachable (connection refused)"
    )
    assert "not-used" not in ran.out + ran.err


@pytest.mark.parametrize("flag", ["--status", "--dry-run"])
def test_transfer_that_only_reads_never_creates_a_ledger(door: Door, flag: str) -> None:
    """`transfer --status` and `transfer --dry-run` record nothing, so a mistyped ledger path
    is refused as a report refuses it, instead of being created."""
    shutil.copytree(ROOT / "examples", door.cwd / "examples")
    missing = door.cwd / "nonexistent2" / "x.sqlite3"
    session = "examples/cortexlab/Subjects/algernon/2026-11-21/001"
    line = _one_error_line(door("--ledger", str(missing), "transfer", session, flag, env=OFFLINE))
    assert line.startswith(f"labledger: error: SQLite ledger {missing} does not exist"), line
    assert not missing.parent.exists()
