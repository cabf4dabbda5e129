"""The README's "Trying labledger without a lab", run as it is written.

Both shell blocks of that section are read from the README, so the documentation and this test
cannot drift apart: the first starts the loopback Alyx server (from the clone's root, in a
subprocess, waiting for its `ready:` line), the second sets labledger's variables and runs the
online commands through the installed `labledger` with a scratch home. The one change: the
server is asked for a free port (`--port 0`) instead of the README's 8000, and the settings get
the address it printed, so the test never fails because a port is taken. Each command's output
is titled with its name; then the server holds the sessions, the weighing and the water, and
Ctrl-C (SIGINT) stops it.
"""

from __future__ import annotations

import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alyx_server import TEST_TOKEN
from tests.alyx_server.__main__ import INSTALL_TEST_EXTRA
from tests.alyx_server.seed import packaged_fixtures
from tests.alyx_server.state import AlyxState
from tests.cli_helpers import ROOT
from tests.doors import Door, ctrl_c_as_at_a_terminal
from tests.fixture_paths import ALYX_FIXTURES

SECTION = "## Trying labledger without a lab"
READY = re.compile(r"^ready: (http://127\.0\.0\.1:\d+)\b")
START_TIMEOUT = 20.0


def _section_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in readme, f"the README has no section {SECTION!r}"
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.DOTALL)


class Served:
    """The started server: its address and every line it printed so far."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.printed: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"the server printed no {pattern.pattern!r}: {self.printed}")
            self.printed.append(line)
            found = pattern.search(line)
            if found:
                return found


@pytest.fixture
def served(door: Door) -> Iterator[tuple[Served, str, str]]:
    """The README's server command, started from the clone's root: (server, its URL, the URL
    the README's settings name)."""
    install, command = _section_blocks()[0].strip().splitlines()
    assert shlex.split(install) == shlex.split(INSTALL_TEST_EXTRA), install
    argv = shlex.split(command)
    assert argv[:3] == [".venv/bin/python", "-m", "tests.alyx_server"], command
    port = argv.index("--port") + 1
    readme_url = f"http://127.0.0.1:{argv[port]}"
    argv[port] = "0"
    process = subprocess.Popen(
        [sys.executable, *argv[1:]],
        cwd=ROOT,
        env=door.environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    server = Served(process)
    try:
        url = server.wait_for(READY, START_TIMEOUT).group(1)
        yield server, url, readme_url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _alyx(url: str, path: str, **params: str) -> Any:
    reply = httpx.get(
        url + path, params=params, headers={"Authorization": f"Token {TEST_TOKEN}"}, timeout=10
    )
    reply.raise_for_status()
    data = reply.json()
    return data["results"] if isinstance(data, dict) and "results" in data else data


def test_the_readme_commands_run_against_the_server_started_on_its_own(
    door: Door, served: tuple[Served, str, str]
) -> None:
    server, url, readme_url = served
    shutil.copytree(ROOT / "examples", door.cwd / "examples")
    env: dict[str, str] = {}
    ran: list[str] = []
    for line in _section_blocks()[1].strip().splitlines():
        words = shlex.split(line)
        if words[0] == "export":
            for word in words[1:]:
                name, value = word.split("=", 1)
                env[name] = value.replace(readme_url, url)
        elif words[0] == "mkdir":  # the data root new-session needs
            subprocess.run(words, cwd=door.cwd, check=True, timeout=10)
        else:
            assert words[0] == ".venv/bin/labledger", line
            out = door(*words[1:], env=env).ok().out
            command = words[1]
            if command != "sync":  # all done at once: "nothing pending", no table
                assert re.search(rf"^{command}\b", out, re.MULTILINE), f"no {command} title: {out}"
            ran.append(command)
    assert env["LABLEDGER_ALYX__BASE_URL"] == url, "the settings name the README's server"
    printed = [line.strip() for line in server.printed if line.strip().startswith("export ")]
    written = [line for line in _section_blocks()[1].splitlines() if line.startswith("export ")]
    assert printed == [line.replace(readme_url, url) for line in written], (
        "the server prints the README's settings, the ledger in try/ among them (copied from "
        "the server's lines, they must not send test sessions into the operator's own ledger)"
    )
    assert {"register", "sync", "weigh", "water", "new-session", "status"} <= set(ran)

    sessions = _alyx(url, "/sessions", subject="algernon")
    assert len(sessions) == 2 and "2026-11-21" in {s["start_time"][:10] for s in sessions}
    assert len(_alyx(url, "/datasets", subject="algernon")) == 6
    assert [w["weight"] for w in _alyx(url, "/weighings", nickname="algernon")] == [25.3]
    (water,) = _alyx(url, "/water-administrations", nickname="algernon")
    assert water["water_administered"] == 0.8 and water["water_type"] == "Water 10% Sucrose"
    status = door("status", "--json", env=env).ok().json()
    assert len(status) == 2 and all(row["alyx_eid"] for row in status)

    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=10) == 0
    server.wait_for(re.compile(r"^stopped"), 5)


def test_the_packaged_fixtures_hold_what_the_shared_ones_do() -> None:
    """From a fresh clone (no ../shared) the server loads the reference data labledger ships and
    the same small lab; beside the shared fixtures both give the same names and patterns."""
    packaged = AlyxState(packaged_fixtures())
    assert len(packaged.dataset_types) == 114 and len(packaged.data_formats) == 29
    assert "Water 10% Sucrose" in packaged.water_types
    if not ALYX_FIXTURES.is_dir():
        pytest.skip("the shared fixtures are not beside the clone")
    shared = AlyxState(ALYX_FIXTURES)

    def described(state: AlyxState) -> dict[str, Any]:
        return {
            "dataset types": {t.name: t.filename_pattern for t in state.dataset_types.values()},
            "data formats": {f.name: f.file_extension for f in state.data_formats.values()},
            "water types": sorted(state.water_types),
            "labs": {name: lab.repositories for name, lab in state.labs.items()},
            "repositories": {
                name: (r.globus_is_personal, r.hostname, r.data_url)
                for name, r in state.repositories.items()
            },
            "projects": sorted(state.projects),
            "users": sorted(state.users),
            "subjects": sorted(
                (s.nickname, s.lab, s.responsible_user) for s in state.subjects.values()
            ),
        }

    assert described(packaged) == described(shared)


def test_a_taken_port_is_named_in_one_line(door: Door, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "tests.alyx_server", "--port", port],
            cwd=ROOT,
            env=door.environment(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == (
        f"alyx test server: port {port} is in use; give another with --port (0 picks a free one)"
    )


# A fresh interpreter in which `import one` fails as it does after the README's command (a),
# which installs labledger without its test extra; then the server module runs as `-m` runs it.
WITHOUT_ONE_API = """
import runpy, sys
class NoOneApi:
    def find_spec(self, name, path=None, target=None):
        if name == "one" or name.startswith("one."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoOneApi())
sys.argv[0] = "tests.alyx_server"
runpy.run_module("tests.alyx_server", run_name="__main__", alter_sys=True)
"""


def test_without_the_test_extra_the_server_names_the_readme_install_command(door: Door) -> None:
    """After command (a) alone one-api is missing: the server stops at start, before listening,
    with one line naming the install command the README gives before it, instead of answering
    every registration with a 500 "No module named 'one'"."""
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_ONE_API, "--port", "0"],
        cwd=ROOT,
        env=door.environment(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1 and done.stdout == "", done.stderr
    (line,) = done.stderr.splitlines()
    assert line == (
        "alyx test server: it needs the test dependencies (one-api), which are not installed; "
        f"run {INSTALL_TEST_EXTRA} in the clone's folder, then start it again"
    )
    install = _section_blocks()[0].strip().splitlines()[0]
    assert shlex.split(install) == shlex.split(INSTALL_TEST_EXTRA)


def test_the_readme_install_command_installs_one_api() -> None:
    """The install line names the extra that holds one-api, at the version the server copies."""
    extra = re.fullmatch(r"\.\[(\w+)\]", shlex.split(INSTALL_TEST_EXTRA)[-1])
    assert extra, INSTALL_TEST_EXTRA
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "one-api==3.6.1" in project["optional-dependencies"][extra.group(1)]
