"""`labledger watchdog validate|status|restart` against a real process and a loopback metadata
service.

The "service" is a small Python script in a folder whose name has spaces (as `C:\\Program
Files\\...` has): it records its arguments and sleeps. The metadata service is an http.server on
127.0.0.1 (a free port), stopped by its fixture. Every process a test starts is ended by pid.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from labledger.adapters import executors
from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.database.views import Views
from labledger.adapters.settings import Settings
from labledger.adapters.watchdog.process import find_service
from labledger.adapters.watchdog.projects import (
    MetadataServiceUnavailable,
    UnknownProject,
    check_project_name,
    project_names,
)
from labledger.adapters.watchdog.restart import RestartExecutor
from labledger.domain.ledger import Ledger
from labledger.domain.watchdog import WatchdogService
from tests.cli_helpers import Cli
from tests.test_cli_errors import assert_one_line_error

PROJECTS = ["Example Project", "Behavior Platform", "Ephys Platform"]

SERVICE_SCRIPT = """#!{python}
import json, pathlib, sys, time
here = pathlib.Path(__file__).parent
with open(here / "starts.jsonl", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit({exit_code}) if {exit_code} else time.sleep(60)
"""


# -- the metadata service stub -------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    paths: list[str] | None = None


@pytest.fixture
def metadata() -> Iterator[tuple[str, Reply]]:
    """A loopback metadata service answering `reply`; yields its project-names URL."""
    reply = Reply(body=PROJECTS, paths=[])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert reply.paths is not None
            reply.paths.append(self.path)
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/project_names", reply
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v2/project_names"


def test_project_names_in_both_reply_shapes(metadata: tuple[str, Reply]) -> None:
    url, reply = metadata
    assert project_names(url, 5) == PROJECTS
    reply.body = {"data": PROJECTS}  # before clabe 0.10.2
    assert project_names(url, 5) == PROJECTS
    check_project_name("Example Project", url, 5)
    assert reply.paths == ["/api/v2/project_names"] * 3


def test_an_unknown_project_names_close_matches(metadata: tuple[str, Reply]) -> None:
    url, _ = metadata
    with pytest.raises(UnknownProject, match="close: Example Project") as caught:
        check_project_name("Example Projct", url, 5)
    assert "watchdog.project_name" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (500, {"detail": "boom"}, "answered HTTP 500"),
        (200, {"names": []}, "did not answer a list"),
        (200, [1, 2], "did not answer a list"),
    ],
)
def test_bad_replies_are_one_line(
    metadata: tuple[str, Reply], status: int, body: Any, words: str
) -> None:
    url, reply = metadata
    reply.status, reply.body = status, body
    with pytest.raises(MetadataServiceUnavailable, match=words) as caught:
        project_names(url, 5)
    assert "\n" not in str(caught.value) and "metadata_service_url" in str(caught.value)


def test_an_unreachable_metadata_service_is_one_line() -> None:
    url = closed_port_url()
    with pytest.raises(MetadataServiceUnavailable, match="is unreachable") as caught:
        project_names(url, 2)
    assert url in str(caught.value) and "\n" not in str(caught.value)


# -- the service process -------------------------------------------------------------------------


@dataclass
class Service:
    cli: Cli
    executable: Path
    config: Path
    settings: Path
    flag: Path

    def starts(self) -> list[list[str]]:
        log = self.executable.parent / "starts.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return [json.loads(line) for line in lines]

    def configure(self, **watchdog: Any) -> None:
        data = yaml.safe_load(self.settings.read_text())
        data["watchdog"].update(watchdog)
        self.settings.write_text(yaml.safe_dump(data))

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        ledger = open_ledger(Settings(store="sqlite", sqlite_path=self.cli.ledger))
        try:
            yield ledger
        finally:
            ledger.close()

    def history(self) -> list[Any]:
        with self.ledger() as ledger:
            return ledger.history(WatchdogService.create_id(socket.gethostname()))


def write_service(folder: Path, exit_code: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    executable = folder / "aind watchdog service.py"
    executable.write_text(SERVICE_SCRIPT.format(python=sys.executable, exit_code=exit_code))
    executable.chmod(0o755)
    return executable


@pytest.fixture
def service(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, metadata: tuple[str, Reply]
) -> Iterator[Service]:
    root = cli.tmp_path / "Program Files" / "AIBS MPE"
    executable = write_service(root)
    flag = cli.tmp_path / "watchdog" / "flags"
    flag.mkdir(parents=True)
    config = cli.tmp_path / "watchdog" / "watch config.yml"
    config.write_text(f"flag_dir: {flag}\nmanifest_complete: {flag.parent / 'complete'}\n")
    settings = cli.tmp_path / "settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "watchdog": {
                    "executable": str(executable),
                    "config": str(config),
                    "project_name": "Example Project",
                    "metadata_service_url": metadata[0],
                    "destination": "/mnt/vast/staging",
                    "user_email": "jdoe@example.org",
                    "transfer_endpoint": "http://aind-data-transfer-service/api/v2/submit_jobs",
                    "restart_check_seconds": 0.5,
                }
            }
        )
    )
    monkeypatch.setenv("LABLEDGER_CONFIG", str(settings))
    started = Service(cli, executable, config, settings, flag)
    try:
        yield started
    finally:
        for process in find_service(executable):  # only the scripts this test started
            psutil.Process(process.pid).kill()
            psutil.Process(process.pid).wait(timeout=5)


def test_restart_runs_the_argument_list_and_records_it(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []
    real_popen = subprocess.Popen

    def spy(arguments: Any, **options: Any) -> Any:
        calls.append((arguments, options))
        return real_popen(arguments, **options)

    monkeypatch.setattr(subprocess, "Popen", spy)  # what the watchdog process module starts with
    result = service.cli("watchdog", "restart", "--json")
    assert result.code == 0, result.err
    [(arguments, options)] = calls
    assert arguments == [str(service.executable), "-c", str(service.config)]
    assert not options.get("shell", False)
    assert service.starts() == [["-c", str(service.config)]]  # spaces intact: no shell
    [running] = find_service(service.executable)
    [row] = result.json()
    assert row["outcome"] == "done" and row["detail"] == f"pid {running.pid}; 0 process(es) stopped"
    assert "ignores -c" in result.err  # 0.1.9 reads its central configuration
    kinds = [(entry.event, entry.kind) for entry in service.history()]
    assert kinds == [
        ("WatchdogService.Created", "fact"),
        ("WatchdogService.RestartRequested", "intent"),
        ("WatchdogService.Restarted", "outcome"),
    ]
    requested, restarted = service.history()[1:]
    assert requested.details["arguments"] == arguments
    assert restarted.details == {"pid": running.pid, "stopped": 0}
    assert restarted.operation_id == requested.operation_id

    again = service.cli("watchdog", "restart", "--json")
    assert again.code == 0, again.err
    [second] = find_service(service.executable)
    assert second.pid != running.pid and not psutil.pid_exists(running.pid)
    assert service.history()[-1].details == {"pid": second.pid, "stopped": 1}


def test_a_service_that_exits_at_once_is_a_recorded_failure(service: Service) -> None:
    write_service(service.executable.parent, exit_code=3)
    result = service.cli("watchdog", "restart")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1].startswith("labledger: error: 1 refused")
    last = service.history()[-1]
    assert last.event == "WatchdogService.RestartFailed"
    assert "exited at once with status 3" in last.details["reason"]
    assert last.details["retryable"] is False


def test_a_crash_before_the_restart_is_recorded_does_not_start_it_twice(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Crash(BaseException):
        pass

    def killed(*_: object, **__: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "record_watchdog_restarted", killed)
        with pytest.raises(Crash):
            service.cli("watchdog", "restart")
    [running] = find_service(service.executable)
    assert service.history()[-1].event == "WatchdogService.RestartRequested"

    original = executors.build_executors

    @contextmanager
    def build(settings: Settings, views: Views, warn: Callable[[str], None]) -> Iterator[Any]:
        with original(settings, views, warn) as built:
            if not any(isinstance(e, RestartExecutor) for e in built):
                built.append(RestartExecutor(views.ledger, settings.watchdog))
            yield built

    monkeypatch.setattr(executors, "build_executors", build)  # sync imports it when it runs
    synced = service.cli("sync", "--json")
    assert synced.code == 0, synced.err
    [row] = [r for r in synced.json() if r["action"] == "restart"]
    assert row["outcome"] == "done" and "since the request" in row["detail"]
    assert len(service.starts()) == 1 and [p.pid for p in find_service(service.executable)] == [
        running.pid
    ]
    assert service.history()[-1].details == {"pid": running.pid, "stopped": 0}


def test_validate_checks_everything_and_passes(service: Service) -> None:
    assert service.cli("watchdog", "restart").code == 0
    result = service.cli("watchdog", "validate", "--json")
    assert result.code == 0, result.err
    rows = {row["check"]: row for row in result.json()}
    assert {row["result"] for row in rows.values()} == {"ok", "warning"}
    assert rows["manifest_complete"]["result"] == "warning"  # created by the service at start
    for check in ("executable", "config", "flag_dir", "process", "transfer settings"):
        assert rows[check]["result"] == "ok", rows[check]
    assert rows["project name"]["detail"].startswith("Example Project is known to http://127.0.0.1")


def test_validate_reports_an_unknown_project_and_stray_files(service: Service) -> None:
    service.configure(project_name="Unknown Project")
    (service.flag / "manifest_x.yml.tmp").write_text("")
    result = service.cli("watchdog", "validate", "--json")
    rows = {row["check"]: row for row in result.json()}
    assert rows["process"]["result"] == "warning" and "not running" in rows["process"]["detail"]
    assert "manifest_x.yml.tmp" in rows["stray files"]["detail"]  # the service would load it
    assert_one_line_error(result, "1 watchdog check failed", "project name", "Unknown Project")


def test_validate_with_the_metadata_service_down_is_one_line(service: Service) -> None:
    service.configure(metadata_service_url=closed_port_url())
    assert_one_line_error(service.cli("watchdog", "validate"), "project name", "is unreachable")


def test_validate_finds_the_executable_from_watchdog_exe(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.configure(executable=None)
    monkeypatch.setenv("WATCHDOG_EXE", str(service.executable.parent / "missing.exe"))
    result = service.cli("watchdog", "validate", "--json")
    rows = {row["check"]: row for row in result.json()}
    assert rows["executable"]["result"] == "failed"
    assert "missing.exe (from WATCHDOG_EXE) does not exist" in rows["executable"]["detail"]
    assert result.code == 1


def test_status_shows_where_the_service_is_and_its_last_restart(service: Service) -> None:
    assert service.cli("watchdog", "restart").code == 0
    (service.flag / "manifest_waiting.yml").write_text("name: waiting\n")
    result = service.cli("watchdog", "status", "--json")
    assert result.code == 0, result.err
    rows = {row["item"]: row["value"] for row in result.json()}
    assert rows["executable"] == f"{service.executable} (from watchdog.executable in the settings)"
    [running] = find_service(service.executable)
    assert rows["process"].startswith(f"pid {running.pid}: ")
    assert rows["flag_dir"] == str(service.flag) and rows["manifests waiting"] == "1"
    assert "Restarted" in rows["last restart"] and str(running.pid) in rows["last restart"]
    os.remove(service.flag / "manifest_waiting.yml")


def test_find_service_ignores_other_processes(tmp_path: Path) -> None:
    executable = write_service(tmp_path / "svc")
    assert find_service(executable) == []
    process = subprocess.Popen([str(executable), "-c", "x"])
    try:
        deadline = time.monotonic() + 5
        while not find_service(executable) and time.monotonic() < deadline:
            time.sleep(0.05)  # until the fork has exec'd the script
        assert [p.pid for p in find_service(executable)] == [process.pid]
        assert find_service(tmp_path / "svc" / "other.py") == []
    finally:
        process.kill()
        process.wait(timeout=5)
    assert find_service(executable) == []


def test_status_names_the_variable_that_gave_the_executable(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set by LABLEDGER_WATCHDOG__EXECUTABLE, not in the file: the fix is in the environment."""
    service.configure(executable=None)
    monkeypatch.setenv("LABLEDGER_WATCHDOG__EXECUTABLE", str(service.executable))
    assert service.cli("watchdog", "restart").code == 0
    result = service.cli("watchdog", "status", "--json")
    assert result.code == 0, result.err
    rows = {row["item"]: row["value"] for row in result.json()}
    assert rows["executable"] == f"{service.executable} (from LABLEDGER_WATCHDOG__EXECUTABLE)"
