"""The crash matrix: a rig's day of work (`tests/rig_day.py`), killed at every side-effect boundary
of every executor, then `labledger sync`: the same end as the day without a crash, nothing lost,
nothing twice.

The uninterrupted day runs once per test run under `tests/crash_shim.py`, noting every step
(`tests/crash_points.py`): each ledger save, each request (killed before the server acts, and
after it acted but before it replied), the revision move (before, between the hard link and the
unlink, after), the manifest write (before, after the rename into flag_dir) and each restart of
the watchdog service (after the running one was stopped, after the new one started). After each
step, and one `sync`, what it left is that step's reference.

Each kill point restores the world as it was before its step, runs the step killed there, then
`sync`, the step's command again (an operator whose command died runs it again; for `sync`,
sync again), and `sync`. Alyx's records, every file under the sessions (path and md5), the
manifests in flag_dir (name and bytes), how many watchdog services run and `status --json` must
then equal the reference.

Subsampled in the test run (see `_chosen`); `LABLEDGER_TEST_CRASH_EVERY_POINT=1` runs them all.
"""

from __future__ import annotations

import atexit
import dataclasses
import fcntl
import json
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.crash_points import KillPoint, RequestKiller, points_of
from tests.rig_day import BY_NAME, STEPS, uninterrupted_day

pytestmark = pytest.mark.xdist_group("crash-matrix")
"""One worker runs every kill point: each needs the uninterrupted day, which is built once per
process."""

EVERY_POINT = "LABLEDGER_TEST_CRASH_EVERY_POINT"
CI_SHARE = 3
"""In the test run, one of every CI_SHARE saves and requests is killed (all moves and manifest
writes, and the first and last point of every step, always)."""


def _chosen(points: list[KillPoint]) -> list[KillPoint]:
    """All kill points, or (in the test run) every move and manifest point, the first and last
    point of each step, and one of every CI_SHARE of the rest."""
    if os.environ.get(EVERY_POINT) == "1":
        return points
    chosen = []
    for index, point in enumerate(points):
        ends = index == 0 or index == len(points) - 1
        ends = ends or points[index - 1].scenario != point.scenario
        ends = ends or points[index + 1].scenario != point.scenario
        always = not point.step.startswith(("save", "request"))
        if ends or always or index % CI_SHARE == 0:
            chosen.append(point)
    return chosen


def _traced_points() -> list[KillPoint]:
    _, reference = uninterrupted_day()
    return _chosen(points_of(reference.steps, every=os.environ.get(EVERY_POINT) == "1"))


def _points_of_this_run() -> list[KillPoint]:
    """The kill points, traced once per test run.

    Under pytest-xdist every worker collects the tests and all must collect the same ones, but
    the order of a trace (and so the numbers in the points' names) depends on how the threads of
    that run's `sync` took turns. The first worker to get here traces the day and writes the
    points down; the others read them. Any trace's points fit any world: a killed run is
    itself a new interleaving, so requests are found by line and occurrence, saves by count.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return _traced_points()
    shared = Path(tempfile.gettempdir()) / f"labledger-crash-points-{run}.json"
    with shared.open("a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
        file.seek(0)
        written = file.read()
        if written:
            return [KillPoint(**fields) for fields in json.loads(written)]
        points = _traced_points()
        file.write(json.dumps([dataclasses.asdict(point) for point in points]))
    atexit.register(shared.unlink, missing_ok=True)  # the others collected before any test ran
    return points


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "point" in metafunc.fixturenames:
        points = _points_of_this_run()
        metafunc.parametrize("point", points, ids=[point.name for point in points])


# -- the tests ------------------------------------------------------------------------------------


def _differences(got: dict[str, Any], want: dict[str, Any]) -> str:
    lines = []
    for part in want:
        if got[part] != want[part]:
            lines.append(f"{part}: now {got[part]!r}\n   uninterrupted {want[part]!r}")
    return "\n".join(lines)


def test_killed_then_sync_ends_as_the_uninterrupted_day(point: KillPoint) -> None:
    world, reference = uninterrupted_day()
    step = BY_NAME[point.scenario]
    world.restore(reference.before[step.name])
    trace = world.keep / "trace-point.jsonl"
    trace.unlink(missing_ok=True)
    number = point.request
    if number is None:
        killed = world.run(step.args, online=step.online, kill_at=point.step, trace=trace)
    else:
        killer = RequestKiller(point.what, point.occurrence, point.after)
        with killer.armed(world.server):
            killed = world.run(step.args, online=step.online, trace=trace, killer=killer)
        assert killer.line == point.what, f"{point.what} #{point.occurrence} was never sent"
    assert killed.returncode == -signal.SIGKILL, (
        f"{point.name} was never reached (exit {killed.returncode}):\n"
        f"{killed.stdout}{killed.stderr}"
    )

    world.sync()
    if step.name != "sync":
        world.plain(*step.args)  # the operator runs the command that died again
    world.sync()

    got, want = (reference.comparable(end) for end in (world.end(), reference.after[step.name]))
    assert got == want, _differences(got, want)


def test_the_day_has_the_kill_points_the_matrix_promises() -> None:
    """The uninterrupted day did what the kill points assume, and gives at least 80 of them: every
    step has saves, the online ones requests, revise a move, transfer a manifest write and a
    start of the service, restart a stop and a start; one service runs at the end."""
    _, reference = uninterrupted_day()
    points = points_of(reference.steps, every=True)
    assert len(points) >= 80, len(points)
    kinds = {(p.scenario, p.step.split(":")[0]) for p in points}
    for step in STEPS:
        assert (step.name, "save") in kinds, step.name
        if step.online and step.name not in ("transfer", "restart"):  # nothing sent to Alyx
            assert (step.name, "request") in kinds, step.name
    assert {("revise", "move-before"), ("revise", "link-after"), ("revise", "move-after")} <= kinds
    assert {("transfer", "manifest-before"), ("transfer", "manifest-after")} <= kinds
    for name in ("transfer", "restart"):  # transfer starts the stopped service, restart restarts
        assert {(name, "service-stopped"), (name, "service-started")} <= kinds, name
    stopped = {
        name: [trace["stopped"] for trace in traced if trace["step"].startswith("service-stopped")]
        for name, traced in reference.steps.items()
    }
    assert stopped["transfer"] == [0] and stopped["restart"] == [1], stopped
    final = reference.after["restart"]
    assert len(final["alyx"]["sessions"]) == 4
    assert len(final["manifests"]) == 1
    assert reference.after["water"]["services"] == 0
    assert reference.after["transfer"]["services"] == final["services"] == 1
    assert all(row["pending"] == 0 for row in final["status"]), final["status"]
