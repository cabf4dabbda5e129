"""Every command the README documents, run as a user runs it: the installed `labledger` in a
subprocess with a scratch home (`tests/doors.py`), against the loopback Alyx where it talks to
Alyx, and a fake watchdog service (a script) where it talks to the service.

Each test follows one operator's session from start to end and checks what the command did, not
only its exit status: what Alyx holds (`server.state`), what the ledger says (`status --json`,
`audit --json`, `history --json`), and the files on disk. One run is checked in as many ways as
it can be, since each run costs a process start.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import psutil
import pytest
import yaml

from labledger.adapters.watchdog.process import find_service
from tests.alyx_cli import alyx_env
from tests.alyx_server import TEST_USER, AlyxTestServer
from tests.cli_helpers import ROOT, SAMPLE, SAMPLE_FILES, events_in
from tests.doors import Door, Ran
from tests.test_manifest import accepted_by_service
from tests.test_watchdog_service import metadata, write_service  # noqa: F401 (a fixture)

KEY = "cortexlab/algernon/2026-11-21/001"
REJECTED = {"alf/_ibl_trials.table.pqt", "notes.txt"}

HERE = "test_doors_commands.py"
COVERED = {
    "scan": HERE,
    "history": HERE,
    "register": HERE,
    "new-session": HERE,
    "check-protected": HERE,
    "weigh": HERE,
    "water": HERE,
    "sync": HERE,
    "retry": "test_operator_fixes.py",
    "status": HERE,
    "audit": HERE,
    "pending": HERE,
    "replay": HERE,
    "project": HERE,
    "migrate": "test_migrate.py",
    "config": "test_config_commands.py",
    "transfer": HERE,
    "watchdog": HERE,
}
"""Every command the README names, and the test module that runs it through the installed
command (`tests/doors.py`)."""


def sample(door: Door, name: str = "algernon/2026-11-21/001") -> Path:
    """A copy of the sample session under the working folder, as a rig's data root holds it."""
    folder = door.cwd / "data" / "cortexlab" / "Subjects" / name
    shutil.copytree(SAMPLE, folder)
    return folder


def one_line_error(ran: Ran, *needles: str) -> None:
    """Exit 1 with a single `labledger: error: ...` line on stderr naming each needle."""
    assert ran.code == 1, ran
    [line] = ran.err.strip().splitlines()[-1:]
    assert line.startswith("labledger: error: ") and "Traceback" not in ran.err, ran.err
    for needle in needles:
        assert needle in line, line


def event_count(door: Door) -> int:
    """Events in the user's default ledger file, read from disk."""
    return events_in(door.ledger_file)


def table(text: str) -> list[dict[str, str]]:
    """The rows of a terminal table as `labledger` prints it (box drawing, one line per row)."""
    lines = [line for line in text.splitlines() if line.startswith(("┃", "│"))]
    cells = [[cell.strip() for cell in re.split("[┃│]", line)[1:-1]] for line in lines]
    header, *rows = cells
    return [dict(zip(header, row, strict=True)) for row in rows]


# -- the command itself -------------------------------------------------------------------------


def test_help_lists_every_command_of_the_readme_and_version_is_the_installed_one(
    door: Door,
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`labledger ([a-z][a-z-]+)", readme))
    assert documented == set(COVERED), "a command of the README has no door test (or is gone)"
    for command, module in COVERED.items():
        text = (ROOT / "tests" / module).read_text(encoding="utf-8")
        assert "from tests.doors import" in text and f'"{command}"' in text, (command, module)
    helped = door("--help").ok()
    listed = set(re.findall(r"^    ([a-z][a-z-]+)\s", helped.out, re.MULTILINE))
    assert documented <= listed, helped.out
    assert door("--version").ok().out.strip() == f"labledger {version('labledger')}"


# -- set-up (a) of the README --------------------------------------------------------------------


def test_readme_setup_a_discovers_6_rejects_2_and_queues_7(door: Door) -> None:
    """The README's first command, minus the venv: run where the clone is, with no settings."""
    shutil.copytree(ROOT / "examples", door.cwd / "examples")
    session = "examples/cortexlab/Subjects/algernon/2026-11-21/001"
    command = ("--lab", "cortexlab", "--alyx-user", "operator", "register", session)
    first = door(*command).ok()
    assert "queued" in first.out and "no Alyx server configured" in first.out
    [row] = table(door("status").ok().out)
    assert row["session"] == KEY
    assert (row["discovered"], row["rejected"], row["pending"]) == ("6", "2", "7")
    assert (row["registered"], row["alyx eid"]) == ("0", "-")
    assert door.ledger_file.is_file(), "the default ledger is the user's data directory"

    between = dt.datetime.now(dt.UTC)
    door(*command).ok()  # "Run the command again and it hashes nothing and queues nothing new."
    events = door("audit", "--json").ok().json()
    recorded = [dt.datetime.fromisoformat(event["recorded_at"]) for event in events]
    assert max(recorded) < between, "the second run recorded events"
    assert {event["alyx_user"] for event in events} == {"operator"}
    pending = door("pending", "--json").ok().json()
    assert len(pending) == 7
    rejected = {
        event["file"]: event["details"]["reason"]
        for event in door("--lab", "cortexlab", "history", session, "--files", "--json").ok().json()
        if event["event"] == "Dataset.Rejected"
    }
    assert set(rejected) == REJECTED and all(rejected.values()), rejected
    assert "dataset type" in rejected["alf/_ibl_trials.table.pqt"]


# -- one session through Alyx ----------------------------------------------------------------------


def test_a_session_through_alyx_scan_register_check_weigh_water_and_the_reports(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    server.state.add_user("jdoe")
    server.state.add_location("rig-01")
    door.env.update(alyx_env(server, tmp_path))
    folder = sample(door)

    scanned = door("scan", folder, "--workers", "2", "--json").ok().json()
    assert scanned == [{"session": KEY, "new_or_changed": 6, "rejected": 2, "unchanged": 0}]
    after_scan = event_count(door)

    fields = (
        "--users", TEST_USER, "jdoe",
        "--start-time", "2026-11-21T11:16:17",
        "--end-time", "2026-11-21T12:01:02",
        "--procedures", "Behavior training/tasks",
        "--projects", "main",
        "--location", "rig-01",
        "--task-protocol", "choiceWorld",
        "--type", "Experiment",
        "--n-trials", "400",
        "--n-correct-trials", "310",
        "--narrative", "a calm session",
        "--session-json", '{"rig": "rig-01"}',
    )  # fmt: skip
    files = (
        "--versions", "1.0.0",
        "--no-default",
        "--server-only",
        "--not-exists",
        "--max-md5-size", "1000",
        "--field", "qc=PASS",
    )  # fmt: skip
    dry = door("register", folder, *fields, *files, "--dry-run").ok().json()
    assert [request["request"] for request in dry] == ["POST /sessions", "POST /register-file"]
    assert dry[0]["body"]["start_time"] == "2026-11-21T11:16:17"
    assert dry[1]["body"]["filenames"] == SAMPLE_FILES and dry[1]["body"]["qc"] == "PASS"
    writes = [line for line in server.requests.lines() if not line.startswith("GET ")]
    assert writes == ["POST /auth-token"], "a dry run reads the server's lists, sends nothing"
    assert event_count(door) == after_scan, "a dry run records nothing"

    rows = door("register", folder, *fields, *files, "--json").ok().json()
    assert [(row["action"], row["outcome"]) for row in rows] == [
        ("register session", "done"),
        ("register files", "done"),
    ]
    nothing = door("register", folder, "--dry-run").ok()
    assert (
        nothing.out.strip()
        == "nothing to send: no session to create or update, no file to register"
    )
    assert door("register", folder, "--dry-run", "--json").ok().json() == []
    state = server.state.snapshot()
    [session] = state["sessions"]
    assert session["key"] == "algernon/2026-11-21/001"
    assert session["users"] == sorted([TEST_USER, "jdoe"])
    assert (session["start_time"], session["end_time"]) == (
        "2026-11-21T11:16:17",
        "2026-11-21T12:01:02",
    )
    assert (session["procedures"], session["projects"]) == (["Behavior training/tasks"], ["main"])
    assert (session["location"], session["task_protocol"], session["type"]) == (
        "rig-01",
        "choiceWorld",
        "Experiment",
    )
    assert (session["n_trials"], session["n_correct_trials"]) == (400, 310)
    assert (session["narrative"], session["json"]) == ("a calm session", {"rig": "rig-01"})
    datasets = {f"{d['collection']}/{d['name']}": d for d in state["datasets"]}
    assert sorted(datasets) == SAMPLE_FILES
    for rel_path, dataset in datasets.items():
        small = (folder / rel_path).stat().st_size < 1000
        assert (dataset["hash"] is not None) == small, dataset  # --max-md5-size
        assert dataset["version"] == "1.0.0" and dataset["qc"] == "PASS"
        assert dataset["default"] is False and dataset["created_by"] == TEST_USER
        assert dataset["file_records"] == [  # server-only, not yet there
            {
                "repository": "flatiron_cortexlab",
                "relative_path": f"algernon/2026-11-21/001/{rel_path}",
                "exists": False,
            }
        ]

    server.state.protect_dataset(
        server.state.dataset_at(f"algernon/2026-11-21/001/{SAMPLE_FILES[1]}").id
    )
    checked = door("check-protected", folder, "--json").ok().json()
    protected = {row["file"]: row for row in checked}
    assert sorted(protected) == SAMPLE_FILES
    assert [f for f, row in protected.items() if row["protected"]] == [SAMPLE_FILES[1]]
    assert protected[SAMPLE_FILES[1]]["revisions"] == "(none)*"
    assert protected[SAMPLE_FILES[1]]["would_go"] != "stays"

    weighed = door(
        "weigh", "algernon", "25.3", "--date-time", "2026-11-21T09:30:00", "--user", "jdoe"
    ).ok()
    assert "done" in weighed.out
    door(
        "water", "algernon", "0.8", "--water-type", "Water 10% Sucrose", "--adlib",
        "--session", folder, "--date-time", "2026-11-21T12:05:00",
    ).ok()  # fmt: skip
    state = server.state.snapshot()
    assert state["weighings"] == [
        {"subject": "algernon", "weight": 25.3, "user": "jdoe", "date_time": "2026-11-21T09:30:00"}
    ]
    assert state["water_administrations"] == [
        {
            "subject": "algernon",
            "water_administered": 0.8,
            "water_type": "Water 10% Sucrose",
            "user": TEST_USER,
            "adlib": True,
            "session": "algernon/2026-11-21/001",
            "date_time": "2026-11-21T12:05:00",
        }
    ]

    [status] = door("status", "--json").ok().json()
    [eid] = server.state.sessions
    assert status["session"] == KEY and status["alyx_eid"] == eid
    assert (status["discovered"], status["rejected"], status["registered"]) == (6, 2, 6)
    assert (status["pending"], status["last_error"]) == (0, None)

    history = door("history", folder, "--files", "--json").ok().json()
    registered = {e["file"] for e in history if e["event"] == "Dataset.Registered"}
    assert registered == set(SAMPLE_FILES)
    assert {(e["alyx_user"], e["tool_version"]) for e in history} == {
        (TEST_USER, f"labledger {version('labledger')}")
    }

    audit = door("audit", "--subject", "algernon", "--kind", "outcome", "--json").ok().json()
    events = [entry["event"] for entry in audit]
    assert "Session.Registered" in events and "Subject.WeighingRecorded" in events
    assert "Subject.WaterAdministrationRecorded" in events
    assert {entry["kind"] for entry in audit} == {"outcome"}
    report = door.cwd / "status.html"
    door("status", KEY, "--html", "-o", report).ok()
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and KEY in page and eid in page

    assert door("pending", "--csv").ok().out.splitlines()[1:] == []
    assert re.fullmatch(
        r"read models rebuilt from the log: position \d+, in [\d.]+ s\n", door("replay").ok().out
    )
    assert door("status", "--json").ok().json() == [status], "replay ends where updates did"
    project = door("project", "--follow")
    one_line_error(project, "--follow needs the PostgreSQL store")
    assert project.out == "", "refused before anything is folded or printed"
    assert re.fullmatch(
        r"read models at position \d+ \(0 events folded\)\n", door("project").ok().out
    )


# -- offline first, then sync ----------------------------------------------------------------------


def test_flags_offline_then_sync_of_one_session_leaves_the_other_queued(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    first, second = sample(door), sample(door, "algernon/2026-11-22/001")
    flags = [first / "register_me.flag", second / "register_me.flag"]
    for flag in flags:
        flag.touch()
    door.env["LABLEDGER_LAB"] = "cortexlab"
    queued = door("register", "--flags", door.cwd / "data", "--glob", "**/register_me.flag").ok()
    assert "queued" in queued.out and not server.requests.lines()
    assert all(flag.exists() for flag in flags), "a flag stays until its session is on Alyx"

    door.env.update(alyx_env(server, tmp_path))
    rows = door("sync", second, "--json").ok().json()
    assert {(row["target"], row["outcome"]) for row in rows} == {
        ("cortexlab/algernon/2026-11-22/001", "done")
    }
    assert [s["key"] for s in server.state.snapshot()["sessions"]] == ["algernon/2026-11-22/001"]
    pending = door("pending", "--json").ok().json()
    assert len(pending) == 7 and {row["session"] for row in pending} == {KEY}, pending


# -- new-session -----------------------------------------------------------------------------------


def test_new_session_today_another_day_and_without_registering(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path))
    root = door.cwd / "data" / "cortexlab" / "Subjects"
    root.mkdir(parents=True)  # a rig's data root exists
    before = dt.date.today()
    made = door("new-session", "algernon", "--root", root, "--task-protocol", "habituation").ok()
    folder = Path(made.out.splitlines()[0])
    assert folder.is_dir() and folder.name == "001" and folder.parent.parent == root / "algernon"
    day = dt.date.fromisoformat(folder.parent.name)
    assert before <= day <= dt.date.today()
    [session] = server.state.snapshot()["sessions"]
    assert (session["key"], session["task_protocol"]) == (
        f"algernon/{day}/001",
        "habituation",
    )
    assert session["start_time"][:10] == day.isoformat()

    unregistered = door("new-session", "algernon", "--root", root, "--no-register").ok()
    assert Path(unregistered.out.strip()) == folder.parent / "002"
    assert (folder.parent / "002").is_dir() and len(server.state.sessions) == 1

    earlier = day - dt.timedelta(days=9)
    other = door("new-session", "algernon", "--root", root, "--date", earlier.isoformat()).ok()
    assert Path(other.out.splitlines()[0]) == root / "algernon" / earlier.isoformat() / "001"
    keys = sorted(s["key"] for s in server.state.snapshot()["sessions"])
    assert keys == sorted([f"algernon/{day}/001", f"algernon/{earlier}/001"])


# -- the watchdog ----------------------------------------------------------------------------------


@pytest.fixture
def metadata_service(request: pytest.FixtureRequest) -> str:
    """The loopback AIND metadata service of the watchdog tests (`metadata`, imported above; it
    knows "Example Project"): its project-names URL."""
    url: str = request.getfixturevalue("metadata")[0]
    return url


@pytest.fixture
def service_executable(door: Door) -> Iterator[Path]:
    """The fake service (a script that logs its arguments and sleeps) in a folder with spaces;
    every process of it that a test started is ended by pid."""
    executable = write_service(door.cwd / "Program Files" / "AIBS MPE")
    try:
        yield executable
    finally:
        for process in find_service(executable):
            psutil.Process(process.pid).kill()
            psutil.Process(process.pid).wait(timeout=5)


def test_transfer_and_the_watchdog_service(
    door: Door, metadata_service: str, service_executable: Path
) -> None:
    folder = sample(door)
    (folder / "behavior").mkdir()
    (folder / "behavior" / "trials.csv").write_text("t,x\n1,2\n")
    (folder / "session.json").write_text("{}")
    watch = door.cwd / "watchdog"
    flag, complete = watch / "flags", watch / "manifest_complete"
    flag.mkdir(parents=True)
    service_config = watch / "watch config.yml"
    service_config.write_text(f"flag_dir: {flag}\nmanifest_complete: {complete}\n")
    settings = door.cwd / "settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "lab": "cortexlab",
                "watchdog": {
                    "executable": str(service_executable),
                    "config": str(service_config),
                    "destination": str(door.cwd / "staging"),
                    "project_name": "Example Project",
                    "metadata_service_url": metadata_service,
                    "user_email": "jdoe@example.org",
                    "transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
                    "platform": "behavior",
                    "restart_check_seconds": 0.5,
                },
            }
        )
    )

    def run(*args: str | Path) -> Ran:
        return door(*args, "--config", settings)

    run("scan", folder).ok()
    name = "behavior_algernon_2026-11-21_11-16-17"
    dry = run("transfer", folder, "--acquired", "11:16:17", "--dry-run").ok()
    assert dry.out.startswith(f"# {flag / f'manifest_{name}.yml'} (sha256 ")
    assert accepted_by_service(dry.out.encode()).name == name
    assert list(flag.iterdir()) == []

    [started, emitted] = run("transfer", folder, "--acquired", "11:16:17", "--json").ok().json()
    assert (started["action"], started["outcome"]) == ("restart", "done"), "it was stopped"
    manifest = flag / f"manifest_{name}.yml"
    assert emitted["outcome"] == "done" and emitted["detail"] == str(manifest)
    assert list(flag.iterdir()) == [manifest]
    accepted = accepted_by_service(manifest.read_bytes())
    assert accepted.subject_id == "algernon"
    assert sorted(accepted.modalities) == ["behavior", "behavior-videos"]  # raw_video_data
    assert accepted.destination == str(door.cwd / "staging" / "algernon")
    [state] = run("transfer", folder, "--status", "--json").ok().json()
    assert (state["transfer"], state["manifest"]) == ("emitted", str(manifest))

    complete.mkdir()
    manifest.rename(complete / manifest.name)  # what the service does once it is done
    synced = run("sync", "--json").ok().json()
    assert [(r["action"], r["outcome"]) for r in synced] == [("confirm transfer", "done")]
    [status] = run("status", "--json").ok().json()
    assert status["transfer"] == "confirmed"

    [restarted] = run("watchdog", "restart", "--json").ok().json()
    [running] = find_service(service_executable)
    assert restarted["outcome"] == "done" and restarted["detail"].startswith(f"pid {running.pid}")
    starts = (service_executable.parent / "starts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in starts] == [["-c", str(service_config)]] * 2

    checks = {row["check"]: row for row in run("watchdog", "validate", "--json").ok().json()}
    for check in ("executable", "config", "flag_dir", "process", "transfer settings"):
        assert checks[check]["result"] == "ok", checks[check]
    assert checks["project name"]["result"] == "ok"

    shown = {row["item"]: row["value"] for row in run("watchdog", "status", "--json").ok().json()}
    assert shown["process"].startswith(f"pid {running.pid}")
    assert str(running.pid) in shown["last restart"] and shown["manifests waiting"] == "0"
