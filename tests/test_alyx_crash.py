"""`labledger register` killed by SIGKILL at every step, then `labledger sync`: nothing lost,
nothing twice.

Two scenarios on a copy of the sample session, each performed by a real `labledger` process:

- A: a fresh `register SESSION --start-time ...` (the session and its six files);
- B: after A, `alf/probe00/spikes.times.npy` is protected on Alyx and changed on disk, then
  `register SESSION` again: Alyx answers 403 protected, labledger records the decision and the
  move, moves the file into `alf/probe00/#<today>#/` and registers it there.

Once per test run (at collection) both scenarios run uninterrupted under `tests/crash_shim.py`,
which lists every step they take: each ledger save (a committed transaction) and the file move;
the test server lists every request. That run is the reference, and each of its steps a kill
point: the process kills itself right after the N-th save, right before the move, between the
hard link and the unlink of the move, right after the move; or the test server kills it at the
N-th request of its method and path, before acting (then drops the connection) or after acting,
before replying. After
the kill, `labledger sync` (a plain process) must exit 0 and leave Alyx (`snapshot()`) and the
session folder (path and md5 of every file) exactly as the uninterrupted run did, with no
duplicate session or dataset, no file lost and no stray copy.

A process killed before it recorded any intent has asked for nothing the ledger could finish:
there sync must do nothing at all (no side effect without an intent), and running the same
command again must reach the reference.

Subsampled to keep the run near 80 s (see `_points`): a GET is killed only before the server
acts (to the client, a GET killed after the server read its data is the same kill), and of GETs
in a row, with nothing saved, moved or posted between them, only the last one. Every save and
move kill point is kept, in both scenarios, and every POST is killed both before and after the
server acts. `LABLEDGER_TEST_CRASH_EVERY_POINT=1` runs every kill point.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, Cli
from tests.crash_points import (
    KillPoint,
    RequestKiller,
    noting_requests,
    points_of,
    run_labledger,
    steps_of,
)

ROOT = Path(__file__).resolve().parents[1]
START = "2026-11-21T09:30:00"
KEY = "algernon/2026-11-21/001"
PROTECTED = "alf/probe00/spikes.times.npy"
SCENARIOS = ("A", "B")
INTENT = "Requested"
"""Intent events end with this (`Session.RegistrationRequested`, `Dataset.MoveRequested`...)."""

EVERY_POINT = "LABLEDGER_TEST_CRASH_EVERY_POINT"
"""Set to 1 to run every kill point, unsubsampled (about twice as long)."""


# -- the labledger processes ---------------------------------------------------------------------


class Rig:
    """A session copy, a ledger and an environment under `tmp`, pointed at `server`."""

    def __init__(self, server: AlyxTestServer, tmp: Path) -> None:
        self.server = server
        self.ledger = tmp / "data" / "ledger.sqlite3"  # where tests.cli_helpers.Cli keeps it
        self.session = tmp / "cortexlab" / "Subjects" / KEY
        home = tmp / "home"  # as the `cli` fixture sets HOME and the XDG folders
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("LABLEDGER_", "CRASH_SHIM_"))
        }
        self.env.update(alyx_env(server, tmp))
        self.env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
        )

    def copy_session(self) -> None:
        shutil.copytree(SAMPLE, self.session)

    def command(self, scenario: str) -> list[str]:
        if scenario == "A":
            return ["register", str(self.session), "--start-time", START]
        return ["register", str(self.session)]

    def protect_and_change(self) -> None:
        """B's starting point: the file protected on Alyx, and new bytes of it on disk."""
        state = self.server.state
        state.protect_dataset(state.dataset_at(f"{KEY}/{PROTECTED}").id)
        target = self.session / PROTECTED
        target.write_bytes(target.read_bytes() + b"\x00")

    def run(
        self,
        args: list[str],
        *,
        shim: bool = True,
        kill_at: str | None = None,
        trace: Path | None = None,
        killer: RequestKiller | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """One labledger process: under the crash shim, or plain (`shim=False`)."""
        return run_labledger(
            [*args, "--ledger", str(self.ledger)],
            self.env,
            ROOT,
            shim=shim,
            kill_at=kill_at,
            trace=trace,
            killer=killer,
        )

    def sync(self) -> subprocess.CompletedProcess[str]:
        done = self.run(["sync", "--json"], shim=False)
        assert done.returncode == 0, f"sync exited {done.returncode}:\n{done.stdout}{done.stderr}"
        return done

    def tree(self) -> dict[str, str]:
        """Every file (md5) and folder ("folder") under the session folder, by relative path."""
        entries: dict[str, str] = {}
        for path in sorted(self.session.rglob("*")):
            rel = path.relative_to(self.session).as_posix()
            if path.is_dir():
                entries[rel + "/"] = "folder"
            else:
                entries[rel] = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        return entries


# -- the uninterrupted reference and the kill points ---------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What the uninterrupted run of each scenario did (its steps, in order) and left."""

    steps: dict[str, list[dict[str, Any]]]
    snapshots: dict[str, Any]
    trees: dict[str, dict[str, str]]


@functools.cache
def _reference() -> Reference:
    """Run A then B uninterrupted under the shim, once per test run."""
    steps: dict[str, list[dict[str, Any]]] = {}
    snapshots: dict[str, Any] = {}
    trees: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="labledger-crash-") as tmp, AlyxTestServer() as server:
        rig = Rig(server, Path(tmp))
        rig.copy_session()
        for scenario in SCENARIOS:
            if scenario == "B":
                rig.protect_and_change()
            trace = Path(tmp) / f"trace-{scenario}.jsonl"
            with noting_requests(server, trace):
                done = rig.run(rig.command(scenario), trace=trace)
            if done.returncode != 0:
                raise RuntimeError(
                    f"the uninterrupted scenario {scenario} exited {done.returncode}:\n"
                    f"{done.stdout}{done.stderr}"
                )
            steps[scenario] = steps_of(trace)
            snapshots[scenario] = server.state.snapshot()
            trees[scenario] = rig.tree()
    return Reference(steps, snapshots, trees)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "point" in metafunc.fixturenames:
        reference = _reference()
        points = points_of(
            {s: reference.steps[s] for s in SCENARIOS}, every=os.environ.get(EVERY_POINT) == "1"
        )
        metafunc.parametrize("point", points, ids=[point.name for point in points])


# -- the test ------------------------------------------------------------------------------------


def _dataset_key(dataset: dict[str, Any]) -> tuple[str, str, str, str]:
    return (dataset["session"], dataset["collection"], dataset["revision"], dataset["name"])


def _assert_like_reference(rig: Rig, online: Cli, reference: Reference, scenario: str) -> None:
    state = rig.server.state.snapshot()
    sessions = [session["key"] for session in state["sessions"]]
    assert sessions == [KEY], f"sessions on Alyx: {sessions} (a duplicate, or none)"
    keys = [_dataset_key(d) for d in state["datasets"]]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    assert not twice, f"datasets registered twice on Alyx: {twice}"

    tree, expected = rig.tree(), reference.trees[scenario]
    lost = sorted(set(expected) - set(tree))
    extra = sorted(set(tree) - set(expected))
    changed = sorted(p for p in set(tree) & set(expected) if tree[p] != expected[p])
    assert not lost, f"files lost from the session folder: {lost}"
    assert not extra, f"files left over in the session folder: {extra}"
    assert not changed, f"files whose bytes differ: {changed}"

    wanted = reference.snapshots[scenario]
    have = {_dataset_key(d): d for d in state["datasets"]}
    want = {_dataset_key(d): d for d in wanted["datasets"]}
    differ = {
        "/".join(key[1:]): {
            f: (have[key].get(f), v) for f, v in want[key].items() if have[key].get(f) != v
        }
        for key in set(have) & set(want)
        if have[key] != want[key]
    }
    assert set(have) == set(want) and not differ, (
        "Alyx datasets differ from the uninterrupted run: "
        f"missing {sorted('/'.join(k[1:]) for k in set(want) - set(have))}, "
        f"unexpected {sorted('/'.join(k[1:]) for k in set(have) - set(want))}, "
        f"different (field: (now, uninterrupted)) {differ}"
    )
    assert state == wanted

    (status,) = online("status", "--json").json()
    assert status["pending"] == 0, f"still pending in the ledger: {status}"


def test_killed_then_sync_ends_as_uninterrupted(
    point: KillPoint, server: AlyxTestServer, online: Cli, tmp_path: Path
) -> None:
    reference = _reference()
    rig = Rig(server, tmp_path)
    assert online.ledger == rig.ledger
    rig.copy_session()
    if point.scenario == "B":
        first = online("register", str(rig.session), "--start-time", START, "--json")
        assert first.code == 0, first.err + first.out
        assert server.state.snapshot() == reference.snapshots["A"]
        rig.protect_and_change()
    before = server.state.snapshot()

    trace = tmp_path / "trace.jsonl"
    number = point.request
    if number is None:
        killed = rig.run(rig.command(point.scenario), kill_at=point.step, trace=trace)
    else:
        killer = RequestKiller(point.what, point.occurrence, point.after)
        with killer.armed(server):
            killed = rig.run(rig.command(point.scenario), trace=trace, killer=killer)
        assert killer.line == point.what, f"{point.what} #{point.occurrence} was never sent"
    assert killed.returncode == -signal.SIGKILL, (
        f"{point.name} was never reached (exit {killed.returncode}):\n"
        f"{killed.stdout}{killed.stderr}"
    )

    steps = steps_of(trace)
    intents = [e for step in steps for e in step.get("events", []) if e.endswith(INTENT)]
    if not intents:
        # killed before it recorded anything asked of it: nothing to finish, nothing to send
        rig.sync()
        assert server.state.snapshot() == before, "a side effect without a recorded intent"
        again = online(*rig.command(point.scenario), "--json")
        assert again.code == 0, again.err + again.out
    rig.sync()
    _assert_like_reference(rig, online, reference, point.scenario)


def test_reference_runs_register_and_move() -> None:
    """The uninterrupted runs did what the kill points assume: a session and six datasets, then
    the protected file moved into today's revision and registered there."""
    reference = _reference()
    today = dt.date.today().isoformat()
    assert [s["key"] for s in reference.snapshots["A"]["sessions"]] == [KEY]
    assert len(reference.snapshots["A"]["datasets"]) == 6
    moved = f"alf/probe00/#{today}#/spikes.times.npy"
    assert moved in reference.trees["B"] and PROTECTED not in reference.trees["B"]
    steps = [step["step"] for step in reference.steps["B"]]
    assert {"move-before:1", "link-after:1", "move-after:1"} <= set(steps)
    by_revision = {
        d["revision"]: d
        for d in reference.snapshots["B"]["datasets"]
        if d["name"] == "spikes.times.npy"
    }
    assert set(by_revision) == {"", today}
    assert by_revision[today]["default"] and not by_revision[""]["default"]
