"""`labledger.WatchdogService`, clabe's service operations for rig launchers, and the flags of
`labledger transfer` that set one session's platform, tags, e-mail, name and destination.

The launcher is a script run by a fresh interpreter, the command the installed `labledger`, each
with a scratch home (`tests/doors.py`); the service is a script in a folder with spaces, started
and ended by pid (`tests/test_watchdog_service.py`). Every manifest left anywhere under a test's
folder is validated at the end by the real `ManifestConfig`.
"""

from __future__ import annotations

import json
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.settings import Settings
from labledger.adapters.watchdog.process import find_service
from labledger.domain.watchdog import WatchdogService as ServiceRecord
from tests.cli_helpers import ROOT, SAMPLE
from tests.doors import Door, Ran
from tests.test_manifest import accepted_by_service
from tests.test_watchdog_service import metadata, write_service  # noqa: F401 (a fixture)

NAME = "behavior_algernon_2026-11-21_11-16-17"
KEY = "algernon/2026-11-21/001"

FAILING_SERVICE = """#!{python}
import sys
print("aind-watchdog-service 0.1.9 starting", flush=True)
sys.stderr.write("Traceback (most recent call last):\\n")
sys.stderr.write('  File "aind_watchdog_service/main.py", line 12, in <module>\\n')
sys.stderr.write("ModuleNotFoundError: No module named 'mpetk'\\n")
sys.exit(1)
"""


RESTART_SCRIPT = """
import sys
from labledger import LabledgerError, WatchdogService

try:
    WatchdogService().force_restart()
except LabledgerError as error:
    sys.exit(f"{type(error).__name__}: {error}")
"""


@pytest.fixture(autouse=True)
def every_emitted_manifest_is_accepted(tmp_path: Path) -> Iterator[None]:
    yield
    for path in tmp_path.rglob("*manifest_*.yml"):
        accepted_by_service(path.read_bytes())


class Launcher:
    """A rig with a scanned session, the service's folders, a settings file named by
    LABLEDGER_CONFIG, and (when given) the service's executable."""

    def __init__(self, door: Door, executable: Path | None, metadata_url: str) -> None:
        self.door = door
        self.executable = executable
        self.folder = self.session(KEY)
        watch = door.cwd / "watchdog"
        self.flag, self.complete = watch / "flags", watch / "manifest_complete"
        self.flag.mkdir(parents=True)
        self.config = watch / "watch config.yml"
        self.config.write_text(f"flag_dir: {self.flag}\nmanifest_complete: {self.complete}\n")
        self.settings = door.cwd / "settings.yaml"
        watchdog: dict[str, Any] = {
            "config": str(self.config),
            "destination": str(door.cwd / "staging"),
            "project_name": "Example Project",
            "metadata_service_url": metadata_url,
            "user_email": "jdoe@example.org",
            "transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
            "platform": "behavior",
            "restart_check_seconds": 0.5,
        }
        if executable is not None:
            watchdog["executable"] = str(executable)
        self.settings.write_text(yaml.safe_dump({"lab": "cortexlab", "watchdog": watchdog}))
        door.env["LABLEDGER_CONFIG"] = str(self.settings)
        door("scan", self.folder).ok()

    def session(self, key: str) -> Path:
        folder = self.door.cwd / "data" / "cortexlab" / "Subjects" / key
        folder.mkdir(parents=True)
        (folder / "raw_video_data").mkdir()  # an IBL collection beside an AIND modality
        (folder / "behavior").mkdir()
        (folder / "behavior" / "trials.csv").write_text("t,x\n1,2\n")
        (folder / "session.json").write_text("{}")
        sample = next(SAMPLE.glob("raw_video_data/*"))
        (folder / "raw_video_data" / sample.name).write_bytes(sample.read_bytes())
        return folder

    def starts(self) -> list[list[str]]:
        assert self.executable is not None
        log = self.executable.parent / "starts.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return [json.loads(line) for line in lines]

    def events(self, folder: Path | None = None) -> list[dict[str, Any]]:
        rows = self.door("history", folder or self.folder, "--json").ok().json()
        return [row for row in rows if row["event"].startswith("Session.")]

    def service_events(self) -> list[tuple[str, dict[str, Any]]]:
        ledger = open_ledger(Settings(store="sqlite", sqlite_path=self.door.ledger_file))
        try:
            history = ledger.history(ServiceRecord.create_id(socket.gethostname()))
            return [(entry.event.split(".")[1], entry.details) for entry in history]
        finally:
            ledger.close()

    @property
    def output_log(self) -> Path:
        return self.door.home / ".local" / "share" / "labledger" / "watchdog-service.log"


def end_service(executable: Path) -> None:
    for process in find_service(executable):  # only the scripts this test started
        psutil.Process(process.pid).kill()
        psutil.Process(process.pid).wait(timeout=5)


@pytest.fixture
def launcher(door: Door, metadata: tuple[str, Any]) -> Iterator[Launcher]:  # noqa: F811
    executable = write_service(door.cwd / "Program Files" / "AIBS MPE")
    try:
        yield Launcher(door, executable, metadata[0])
    finally:
        end_service(executable)


def report_of(ran: Ran) -> dict[str, Any]:
    """The JSON a launcher script printed on its last line."""
    ran.ok()
    result: dict[str, Any] = json.loads(ran.out.strip().splitlines()[-1])
    return result


LAUNCHER_SCRIPT = """
import json, sys, warnings
from pathlib import Path
from labledger import LabledgerError, WatchdogService

warnings.simplefilter("ignore")  # they are in service.warnings too
service = WatchdogService()
report = {{"running_before": service.is_running()}}
report["path"] = str(service.transfer({folder!r}, acquired="11:16:17"))
report["results"] = [[r.action, r.outcome] for r in service.last_results]
report["running_after"] = service.is_running()
report["valid"] = service.validate()
report["checks"] = {{row["check"]: row["result"] for row in service.last_checks}}
report["kept"] = service.force_restart(kill_if_running=False)
report["restarted"] = service.force_restart()
report["copy"] = str(service.dump_manifest_config(Path("records")))
report["emitted"] = str(service.dump_manifest_config())
for wrong in (Path({flag!r}) / "again.yml", None):
    try:
        if wrong is None:
            service.transfer({folder!r}, acquired="11:16:17")
        else:
            service.dump_manifest_config(wrong)
    except LabledgerError as error:
        report.setdefault("refused", []).append(str(error))
report["status"] = {{row["item"]: row["value"] for row in service.status()}}
print(json.dumps(report))
"""


def test_a_launcher_hands_a_session_over_and_looks_after_the_service(launcher: Launcher) -> None:
    assert launcher.executable is not None
    (launcher.door.cwd / "records").mkdir()
    script = LAUNCHER_SCRIPT.format(folder=str(launcher.folder), flag=str(launcher.flag))
    report = report_of(launcher.door.python(script))

    manifest = launcher.flag / f"manifest_{NAME}.yml"
    assert report["running_before"] is False and report["running_after"] is True
    assert report["path"] == str(manifest) == report["emitted"]
    assert report["results"] == [["restart", "done"], ["emit manifest", "done"]]
    assert report["valid"] is True and report["checks"]["process"] == "ok"
    copy = launcher.door.cwd / "records" / manifest.name
    assert report["copy"] == str(copy) and copy.read_bytes() == manifest.read_bytes()
    flag_refusal, second = report["refused"]
    assert "is in the service's flag_dir" in flag_refusal and "force=True" in flag_refusal
    assert "already handed to the watchdog" in second
    assert report["status"]["service output"] == str(launcher.output_log)

    # started by transfer (clabe's transfer() does too), kept, then restarted: two starts
    assert launcher.starts() == [["-c", str(launcher.config)]] * 2
    [running] = find_service(launcher.executable)
    assert report["restarted"] == running.pid != report["kept"]
    accepted = accepted_by_service(manifest.read_bytes())
    assert accepted.name == NAME and accepted.platform == "behavior"

    # recorded as the command line records them
    names = [event["event"].split(".")[1] for event in launcher.events()]
    assert names[-2:] == ["ManifestRequested", "ManifestEmitted"]
    assert launcher.events()[-2]["details"]["manifest"].encode() == manifest.read_bytes()
    assert [name for name, _ in launcher.service_events()] == [
        "Created",
        "RestartRequested",
        "Restarted",
        "RestartRequested",
        "Restarted",
    ]
    assert launcher.service_events()[-1][1] == {"pid": running.pid, "stopped": 1}
    assert "labledger started: " in launcher.output_log.read_text()


def _readme_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### clabe's service API", 1)[1]
    match = re.search(r"^```py\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert match, "the README's clabe section shows a launcher's code"
    return match.group(1)


def test_the_readme_launcher_runs_as_pasted(launcher: Launcher) -> None:
    ran = launcher.door.python(_readme_block()).ok()
    name = "ecephys_algernon_2026-11-21_11-16-17"
    manifest = launcher.flag / f"manifest_{name}.yml"
    assert ran.out.strip().splitlines()[-1] == str(manifest)
    accepted = accepted_by_service(manifest.read_bytes())
    assert accepted.platform == "ecephys"
    [job] = json.loads(accepted.model_dump_json())["transfer_service_args"]["upload_jobs"]
    tags = job["tasks"]["gather_preliminary_metadata"]["job_settings"]
    assert tags["data_description_settings"]["tags"] == ["pilot"]
    assert (launcher.door.cwd / "records" / manifest.name).read_bytes() == manifest.read_bytes()
    assert len(launcher.starts()) == 1  # the launcher found it stopped and started it


# -- one session's settings from the command line ----------------------------------------------


@pytest.fixture
def rig(door: Door, metadata: tuple[str, Any]) -> Launcher:  # noqa: F811
    """A rig whose settings do not say where the service's executable is (run by a task)."""
    return Launcher(door, None, metadata[0])


def test_the_flags_of_transfer_set_one_sessions_settings(rig: Launcher) -> None:
    clabe_name = "algernon_2026-11-21T111617"
    ran = rig.door(
        "transfer",
        rig.folder,
        "--acquired",
        "11:16:17",
        "--platform",
        "ecephys",
        "--tag",
        "pilot",
        "--tag",
        "rig-b",
        "--user-email",
        "other@example.org",
        "--name",
        clabe_name,
        "--destination",
        "/mnt/vast/elsewhere/run-7",
        "--json",
    ).ok()
    manifest = rig.flag / f"manifest_{clabe_name}.yml"
    [row] = ran.json()
    assert (row["outcome"], row["detail"]) == ("done", str(manifest))
    assert f"manifest name {clabe_name} is not the AIND data name" in ran.err
    assert "ecephys_algernon_2026-11-21_11-16-17" in ran.err
    content = manifest.read_bytes()
    accepted = accepted_by_service(content)
    assert (accepted.name, accepted.platform) == (clabe_name, "ecephys")
    assert accepted.upload_notification_email == "other@example.org"
    assert accepted.destination == "/mnt/vast/elsewhere/run-7"  # as given: no subject folder
    request = json.loads(accepted.model_dump_json())["transfer_service_args"]
    assert request["user_email"] == "other@example.org"
    [job] = request["upload_jobs"]
    assert job["platform"]["abbreviation"] == "ecephys"
    settings = job["tasks"]["gather_preliminary_metadata"]["job_settings"]
    assert settings["data_description_settings"]["tags"] == ["pilot", "rig-b"]
    assert settings["metadata_dir"] == f"/mnt/vast/elsewhere/run-7/{clabe_name}"
    requested = rig.events()[-2]
    assert requested["event"] == "Session.ManifestRequested"
    assert requested["details"]["manifest"].encode() == content
    assert requested["details"]["name"] == clabe_name

    # the next session goes out with the rig's settings again
    other = rig.session("algernon/2026-11-22/001")
    rig.door("scan", other).ok()
    rig.door("transfer", other, "--acquired", "09:00:00").ok()
    plain = accepted_by_service(
        (rig.flag / "manifest_behavior_algernon_2026-11-22_09-00-00.yml").read_bytes()
    )
    assert plain.platform == "behavior" and plain.upload_notification_email == "jdoe@example.org"
    assert plain.destination == str(rig.door.cwd / "staging" / "algernon")


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--platform", "Behavior", "not a platform abbreviation"),
        ("--user-email", "jdoe", "must be an e-mail address"),
        ("--name", "a b", "not usable as a folder and file name"),
    ],
)
def test_a_bad_flag_is_one_line_and_records_nothing(
    rig: Launcher, flag: str, value: str, words: str
) -> None:
    before = rig.events()
    ran = rig.door("transfer", rig.folder, "--acquired", "11:16:17", flag, value)
    assert ran.code == 1 and "Traceback" not in ran.err, ran
    [line] = ran.err.strip().splitlines()[-1:]
    assert line.startswith("labledger: error: ") and words in line, line
    assert rig.events() == before and list(rig.flag.iterdir()) == []


# -- a service that cannot start ----------------------------------------------------------------


def test_a_service_that_cannot_start_shows_its_last_lines(launcher: Launcher) -> None:
    assert launcher.executable is not None
    launcher.executable.write_text(FAILING_SERVICE.format(python=sys.executable))
    before = launcher.events()

    handed = launcher.door("transfer", launcher.folder, "--acquired", "11:16:17")
    assert handed.code == 1, handed
    [line] = handed.err.strip().splitlines()[-1:]
    assert line.startswith("labledger: error: the watchdog service is not running and did not")
    assert "exited at once with status 1" in line
    assert "ModuleNotFoundError: No module named 'mpetk'" in line
    assert f"(all of it in {launcher.output_log})" in line
    assert "`labledger watchdog restart`" in line and "watchdog.start_service: false" in line
    assert launcher.events() == before and list(launcher.flag.iterdir()) == []

    restarted = launcher.door("watchdog", "restart")
    assert restarted.code == 1
    assert "No module named 'mpetk'" in restarted.err.strip().splitlines()[-1]
    launched = launcher.door.python(RESTART_SCRIPT)
    [line] = launched.err.strip().splitlines()[-1:]
    assert launched.code == 1 and line.startswith("ServiceNotStarted: the watchdog"), line
    assert "rig_script.py:6: UserWarning: aind-watchdog-service 0.1.9 ignores -c" in launched.err
    assert "No module named 'mpetk'" in launched.err and "force_restart() again" in launched.err
    kept = launcher.output_log.read_text()
    assert kept.count("starting") == 3 and kept.count("Traceback") == 3
    failures = [d for name, d in launcher.service_events() if name == "RestartFailed"]
    assert len(failures) == 3 and "No module named 'mpetk'" in failures[-1]["reason"]


def test_start_service_false_hands_over_without_starting(launcher: Launcher) -> None:
    data = yaml.safe_load(launcher.settings.read_text())
    data["watchdog"]["start_service"] = False
    launcher.settings.write_text(yaml.safe_dump(data))
    launcher.door("transfer", launcher.folder, "--acquired", "11:16:17").ok()
    assert launcher.starts() == [] and len(list(launcher.flag.iterdir())) == 1
