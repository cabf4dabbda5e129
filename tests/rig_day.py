"""A rig's day of work, for the reliability tests: the steps, the world they run in, and what the
uninterrupted day leaves.

The day is the README's commands on four sessions of one subject (two on each of two days):

- queue:    `register` of three sessions while Alyx is not configured (recorded, queued);
- sync:     `sync` creates the sessions on Alyx and registers their files;
- register: `register` of a fourth session, online;
- revise:   a file of 001 is protected on Alyx and changed on disk, then `register 001`: Alyx
            answers 403, the file is moved into a revision folder and registered there;
- weigh:    `weigh` of the subject, at a given time;
- water:    `water` of the subject, linked to session 001;
- transfer: `transfer 001`: the watchdog service is not running, so it is started (a recorded
            restart), then the manifest is written into the service's flag_dir;
- restart:  `watchdog restart`: the running service is stopped and started again.

The service is a stand-in (`SERVICE`, a script that runs until it is stopped or its file is gone);
how many of it run is part of what a step leaves: never none once the day has started it, never
two.

Every run works in one fixed folder (`WORLD`: the ledger records absolute paths) against one test
server for the whole test process (its port, and so the token cache, stay valid). The world
between two steps is kept (the folder and a copy of the server's database) and restored at will:
the crash matrix starts each kill point from the world before its step, the chaos runs start
from the morning. A kept world notes how many services ran; restoring it stops every one and
starts that many again. `uninterrupted_day()` runs the day once, under the crash shim.
"""

from __future__ import annotations

import atexit
import copy
import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labledger.adapters.watchdog.process import find_service, stop
from labledger.adapters.watchdog.restart import START_TIME_SLACK_S
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.alyx_server.faults import Faults
from tests.cli_helpers import SAMPLE
from tests.crash_points import RequestKiller, noting_requests, run_labledger, steps_of
from tests.watchdog_folders import watched_service

ROOT = Path(__file__).resolve().parents[1]
WORLD = Path(tempfile.gettempdir()) / f"labledger-crash-matrix-{os.getpid()}"
"""The one folder every run of this test process works in: the ledger records absolute paths
(session folders, manifests), so a kept world is restored at the very path it was made in."""

SUBJECT = "algernon"
SESSIONS = ("2026-11-21/001", "2026-11-21/002", "2026-11-22/001")
"""Registered while Alyx is not configured, then by sync."""
LATE = "2026-11-22/002"
"""Registered online, by its own `register`."""
PROTECTED = "alf/probe00/spikes.times.npy"
SERVICE = WORLD / "watchdog" / "service" / "aind-watchdog-service"
"""The watchdog service's executable in the day's settings: a stand-in that runs until stopped."""
SERVICE_SCRIPT = """#!{python}
import pathlib, time
me = pathlib.Path(__file__)
deadline = time.monotonic() + 1800
while me.exists() and time.monotonic() < deadline:
    time.sleep(0.2)
"""
"""Runs until it is stopped, its file is removed (the world restored or removed), or half an hour
has passed: no stand-in outlives the test run for long."""


def folder(session: str) -> Path:
    return WORLD / "data" / "cortexlab" / "Subjects" / SUBJECT / session


def protect_and_change(server: AlyxTestServer) -> None:
    """The revise step's starting point: 001's file protected on Alyx, new bytes of it on disk."""
    state = server.state
    state.protect_dataset(state.dataset_at(f"{SUBJECT}/{SESSIONS[0]}/{PROTECTED}").id)
    target = folder(SESSIONS[0]) / PROTECTED
    target.write_bytes(target.read_bytes() + b"\x00")


@dataclass(frozen=True)
class Step:
    name: str
    args: tuple[str, ...]
    online: bool = True
    prepare: Callable[[AlyxTestServer], None] | None = None


STEPS = (
    Step("queue", ("register", *map(str, map(folder, SESSIONS))), online=False),
    Step("sync", ("sync",)),
    Step("register", ("register", str(folder(LATE)), "--start-time", "2026-11-22T14:00:00")),
    Step("revise", ("register", str(folder(SESSIONS[0]))), prepare=protect_and_change),
    Step("weigh", ("weigh", SUBJECT, "25.1", "--date-time", "2026-11-21T10:00:00")),
    Step(
        "water",
        (
            "water",
            SUBJECT,
            "1.5",
            "--session",
            str(folder(SESSIONS[0])),
            "--date-time",
            "2026-11-21T10:05:00",
        ),
    ),
    Step("transfer", ("transfer", str(folder(SESSIONS[0])), "--acquired", "09:30:00")),
    Step("restart", ("watchdog", "restart")),
)
BY_NAME = {step.name: step for step in STEPS}


# -- the world: one folder, one server ------------------------------------------------------------


@dataclass
class Kept:
    """The world between two steps: a copy of the folder, of the server's database, and how many
    watchdog services ran."""

    folder: Path
    state: Any
    services: int


@dataclass
class World:
    server: AlyxTestServer
    keep: Path
    """Where kept worlds are copied to (outside WORLD)."""
    env: dict[str, str] = field(default_factory=dict)

    def environment(self, online: bool) -> dict[str, str]:
        env = dict(self.env)
        if not online:
            del env["LABLEDGER_ALYX__BASE_URL"]
        return env

    def run(
        self,
        args: tuple[str, ...],
        *,
        online: bool = True,
        kill_at: str | None = None,
        trace: Path | None = None,
        killer: RequestKiller | None = None,
        shim: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        return run_labledger(
            args,
            self.environment(online),
            WORLD,
            shim=shim,
            kill_at=kill_at,
            trace=trace,
            killer=killer,
        )

    def plain(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.run(args, shim=False)
        assert done.returncode != 70 and "Traceback" not in done.stderr, done.stderr
        return done

    def sync(self) -> None:
        """`sync`, which ends with everything done (0), or only a transfer the watchdog has not
        confirmed yet (75): no service runs here."""
        done = self.plain("sync", "--json")
        assert done.returncode in (0, 75), (
            f"sync exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )

    def kept(self, name: str) -> Kept:
        folder = self.keep / name
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(WORLD, folder, symlinks=True)
        return Kept(folder, copy.deepcopy(self.server.state), len(find_service(SERVICE)))

    def restore(self, kept: Kept) -> None:
        stop_services()
        shutil.rmtree(WORLD, ignore_errors=True)
        shutil.copytree(kept.folder, WORLD, symlinks=True)
        self.server.state = copy.deepcopy(kept.state)
        self.server.faults = Faults()
        for _ in range(kept.services):
            start_service()
        if kept.services:
            # a service started just before a restart is requested counts as started by it
            time.sleep(START_TIME_SLACK_S + 0.5)

    def end(self) -> dict[str, Any]:
        """What the day left, in the terms of the comparison: Alyx, files, manifests, status."""
        status = self.plain("status", "--json")
        assert status.returncode == 0, status.stderr
        return {
            "alyx": self.server.state.snapshot(),
            "files": tree(WORLD / "data"),
            "manifests": tree(WORLD / "watchdog" / "flags"),
            "services": len(find_service(SERVICE)),
            "status": [status_row(row) for row in as_json(status.stdout)],
        }


def as_json(text: str) -> Any:
    return json.loads(text)


def tree(root: Path) -> dict[str, str]:
    """Every file (md5) and folder under `root`, by relative path."""
    entries: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            entries[rel + "/"] = "folder"
        else:
            entries[rel] = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    return entries


VOLATILE = ("alyx_eid", "registered_at", "last_event", "emitted_at", "first_seen")
"""Status fields a new server or another moment changes (an eid is checked for being set)."""


def start_service() -> None:
    """The stand-in service, started as the rig's own start-up would: not through labledger, and
    not a child of this test process (which would never reap it: a stopped child stays a zombie,
    and labledger's stop waits for it to go)."""
    config = WORLD / "watchdog" / "config.yml"
    launcher = (
        "import subprocess, sys; "
        "subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL, start_new_session=True)"
    )
    subprocess.run([sys.executable, "-c", launcher, str(SERVICE), "-c", str(config)], check=True)


def stop_services() -> None:
    """Stop every stand-in service of this test process's world."""
    stop(find_service(SERVICE))


def status_row(row: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in row.items() if not key.endswith(VOLATILE)}
    kept["alyx_eid"] = row.get("alyx_eid") is not None
    return kept


# -- the uninterrupted day ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    before: dict[str, Kept]
    """The world before each step."""
    after: dict[str, dict[str, Any]]
    """What each step left, after one sync."""
    steps: dict[str, list[dict[str, Any]]]
    """Each step's trace: its saves, requests, moves and manifest writes, in order."""
    today: str
    """The rig's date when the day ran: it names the revision the protected file moves into."""

    def comparable(self, end: dict[str, Any]) -> dict[str, Any]:
        """What a run left (or the reference), with the revision's date written as TODAY, the
        reference's date and the date now alike: a run after midnight (the test run's clock is
        moved to 23:40 once) names today's revision by the next day."""
        text = json.dumps(end, sort_keys=True)
        for day in {self.today, dt.date.today().isoformat()}:
            text = text.replace(day, "TODAY")
        result: dict[str, Any] = json.loads(text)
        return result


SERVERS: list[AlyxTestServer] = []


def test_server() -> AlyxTestServer:
    """One server for the whole test process (its port stays, so the token cache of a kept world
    stays valid): the request numbers of a restored world are those of the reference."""
    if not SERVERS:
        server = AlyxTestServer().start()
        SERVERS.append(server)
    return SERVERS[0]


def new_world(server: AlyxTestServer, keep: Path) -> World:
    shutil.rmtree(WORLD, ignore_errors=True)
    (WORLD / "home").mkdir(parents=True)
    SERVICE.parent.mkdir(parents=True)
    SERVICE.write_text(SERVICE_SCRIPT.format(python=sys.executable))
    SERVICE.chmod(0o755)
    service = watched_service(WORLD, executable=str(SERVICE), restart_check_seconds=0.3)
    for session in (*SESSIONS, LATE):
        shutil.copytree(SAMPLE, folder(session))
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LABLEDGER_", "CRASH_SHIM_", "XDG_"))
    }
    env.update(alyx_env(server, WORLD))
    env.update(
        HOME=str(WORLD / "home"),
        LABLEDGER_CONFIG=str(service.settings),
        LABLEDGER_SQLITE_PATH=str(WORLD / "ledger.sqlite3"),
    )
    return World(server, keep, env)


def _clean_up(keep: Path) -> None:
    """At the end of the test process: no stand-in service left running, no world left behind."""
    stop_services()
    shutil.rmtree(WORLD, ignore_errors=True)
    shutil.rmtree(keep, ignore_errors=True)


@functools.cache
def uninterrupted_day() -> tuple[World, Reference]:
    server = test_server()
    server.state = type(server.state)()
    server.state.base_url = server.base_url
    keep = Path(tempfile.mkdtemp(prefix="labledger-crash-matrix-kept-"))
    atexit.register(_clean_up, keep)
    world = new_world(server, keep)
    before: dict[str, Kept] = {}
    after: dict[str, dict[str, Any]] = {}
    steps: dict[str, list[dict[str, Any]]] = {}
    today = dt.date.today().isoformat()
    for step in STEPS:
        if step.prepare is not None:
            step.prepare(server)
        before[step.name] = world.kept(step.name)
        trace = keep / f"trace-{step.name}.jsonl"
        with noting_requests(server, trace):
            done = world.run(step.args, online=step.online, trace=trace)
        if done.returncode != 0:
            raise RuntimeError(
                f"the uninterrupted step {step.name} exited {done.returncode}:\n"
                f"{done.stdout}{done.stderr}"
            )
        steps[step.name] = steps_of(trace)
        after_step = world.kept(f"{step.name}-done")
        world.sync()
        after[step.name] = world.end()
        world.restore(after_step)  # the next step starts where this one ended, unsynced
    return world, Reference(before, after, steps, today)
