"""Kill points of a labledger process, shared by the crash tests: the steps it took, the requests
it sent, and a SIGKILL at any one of them.

A process runs under `tests/crash_shim.py`, which appends each step (a ledger save, a revision
move, a manifest written) to a trace file; the test server adds each request it receives to the
same file (`noting_requests`), so the trace of an uninterrupted run lists, in order, every point
where a crash can leave work half done. `points_of` turns those steps into kill points (each
request twice: before the server acts, and after it acted but before it replied), and
`RequestKiller` kills the process at the N-th request.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
import pytest

import tests.alyx_server.server as wire
from tests.alyx_server import AlyxTestServer, FaultRule

TIMEOUT = 60
"""Seconds a process may take to be killed, or to run."""

SHIM = Path(__file__).resolve().parent / "crash_shim.py"
PLAIN = "import sys; from labledger.scripts.cli import main; sys.exit(main())"
"""labledger without the crash shim (for the runs that finish what a killed one left)."""


def run_labledger(
    args: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    *,
    shim: bool = True,
    kill_at: str | None = None,
    trace: Path | None = None,
    killer: RequestKiller | None = None,
) -> subprocess.CompletedProcess[str]:
    """One labledger process with `env`: under the crash shim (noting its steps in `trace`,
    killed at the step `kill_at` or by `killer`), or plain."""
    env = dict(env)
    if kill_at is not None:
        env["CRASH_SHIM_AT"] = kill_at
    if trace is not None:
        env["CRASH_SHIM_TRACE"] = str(trace)
    entry = [str(SHIM)] if shim else ["-c", PLAIN]
    argv = [sys.executable, *entry, *args]
    with subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        if killer is not None:
            killer.watch(process.pid)
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"labledger {' '.join(args)} ran over {TIMEOUT} s:\n{out}\n{err}")
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def steps_of(trace: Path) -> list[dict[str, Any]]:
    if not trace.exists():
        return []
    return [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]


class RequestKiller:
    """Sends SIGKILL to the labledger process at the `occurrence`-th request of `line` ("POST
    /sessions"): before the server acts (then the connection is dropped), or after it acted and
    before it replies. Counted by line, not by position: a run that works on several sessions at
    once sends its requests in an order the threads choose.

    The server's fault rules are matched by method and path only, so this wraps the server's
    `faults.take` (called once per request, before acting) and the `dispatch` that acts
    (the reply is then lost: a `lose_reply` rule)."""

    def __init__(self, line: str, occurrence: int, after: bool) -> None:
        self.wanted = line
        self.occurrence = occurrence
        self.after = after
        self.seen = 0
        self.line: str | None = None
        """The request killed at, once it was (None: never reached)."""
        self._pid: int | None = None
        self._watching = threading.Event()
        self._lock = threading.Lock()
        self._local = threading.local()

    def watch(self, pid: int) -> None:
        self._pid = pid
        self._watching.set()

    @contextmanager
    def armed(self, server: AlyxTestServer) -> Iterator[RequestKiller]:
        take = server.faults.take
        dispatch = wire.dispatch  # type: ignore[attr-defined]

        def take_or_kill(method: str, path: str) -> FaultRule | None:
            with self._lock:
                if f"{method} {path}" != self.wanted or self.line is not None:
                    return take(method, path)
                self.seen += 1
                if self.seen != self.occurrence:
                    return take(method, path)
                self.line = f"{method} {path}"
            if self.after:
                self._local.kill = True
                return FaultRule(method, path, "lose_reply", times=None)
            self._kill()
            return FaultRule(method, path, "drop", times=None)

        def dispatch_then_kill(*args: Any, **kwargs: Any) -> Any:
            reply = dispatch(*args, **kwargs)
            if getattr(self._local, "kill", False):
                self._local.kill = False
                self._kill()
            return reply

        server.faults.take = take_or_kill  # type: ignore[method-assign]
        wire.dispatch = dispatch_then_kill  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            del server.faults.take  # the class's own again
            wire.dispatch = dispatch  # type: ignore[attr-defined]

    def _kill(self) -> None:
        """SIGKILL, and wait until the process is gone: it never reads another byte."""
        assert self._watching.wait(TIMEOUT) and self._pid is not None
        os.kill(self._pid, signal.SIGKILL)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                if psutil.Process(self._pid).status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            time.sleep(0.005)


@contextmanager
def noting_requests(server: AlyxTestServer, trace: Path) -> Iterator[None]:
    """Append each request the server receives to `trace`, between the process's own steps (the
    process waits for each reply, so the file keeps the order in which things happened)."""
    take = server.faults.take
    count = itertools.count(1)

    def note_then_take(method: str, path: str) -> FaultRule | None:
        step = {"step": f"request:{next(count)}", "line": f"{method} {path}"}
        with trace.open("a", encoding="utf-8") as file:
            file.write(json.dumps(step) + "\n")
        return take(method, path)

    server.faults.take = note_then_take  # type: ignore[method-assign]
    try:
        yield
    finally:
        del server.faults.take


@dataclass(frozen=True)
class KillPoint:
    scenario: str
    step: str
    """A shim step (`save:3`, `move-before:1`, `link-after:1`, `move-after:1`) or `request:N`."""
    what: str
    """The events that save committed, the moved file, or the request line."""
    after: bool = False
    """For a request: killed after the server acted (else before)."""
    occurrence: int = 1
    """For a request: which request of its line (method and path) in the run."""

    @property
    def request(self) -> int | None:
        kind, _, number = self.step.partition(":")
        return int(number) if kind == "request" else None

    @property
    def name(self) -> str:
        kind, _, number = self.step.partition(":")
        if kind == "request":
            when = "after" if self.after else "before"
            return f"{self.scenario}-http{int(number):02d}-{when}-{self.what.replace(' ', '')}"
        label = f"{kind}{int(number):02d}" if kind == "save" else f"{kind}{number}"
        return "-".join(part for part in (self.scenario, label, self.what) if part)


def label(step: dict[str, Any]) -> str:
    if "line" in step:
        return str(step["line"])
    if "events" in step:
        return "+".join(dict.fromkeys(step["events"]))  # distinct, in order
    # the moved file or the manifest, by name: no date or folder in the test's id
    return Path(step.get("source", step.get("target", ""))).name


def is_get(step: dict[str, Any] | None) -> bool:
    return step is not None and str(step.get("line", "")).startswith("GET ")


def points_of(
    steps_by_scenario: dict[str, list[dict[str, Any]]], every: bool = False
) -> list[KillPoint]:
    """Every step of every scenario, in order; a request twice (before and after the server
    acts). Unless `every`, a GET is killed only before the server acts (to the client, a GET
    killed after the server read its data is the same kill), and of GETs in a row, with nothing
    saved, moved or posted between them, only the last one."""
    points: list[KillPoint] = []
    for scenario, steps in steps_by_scenario.items():
        seen: dict[str, int] = {}
        for index, step in enumerate(steps):
            if "line" not in step:
                points.append(KillPoint(scenario, step["step"], label(step)))
                continue
            seen[step["line"]] = seen.get(step["line"], 0) + 1
            point = KillPoint(scenario, step["step"], label(step), occurrence=seen[step["line"]])
            following = steps[index + 1] if index + 1 < len(steps) else None
            if every or not (is_get(step) and is_get(following)):
                points.append(point)
            if every or not is_get(step):
                points.append(replace(point, after=True))
    return points
