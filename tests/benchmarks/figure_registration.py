"""Figures of registration against a loopback Alyx: register + sync vs ONE, and resume after a kill.

Why a fresh server and a fresh ledger per run: a second registration onto the same Alyx finds
everything there and times something else (the re-run figure times that on purpose). Each side
registers its own copy of the same files (same names, sizes and contents), so neither reads from
a page cache the other warmed in a way the other did not.

register + sync: `labledger register <sessions>` then `labledger sync`, wall times added, vs one
interpreter running ONE's `register_session` on each session. Requests per session are counted
from the server's log.

resume: `labledger register` is SIGKILLed when 90 % of the sessions' `POST /register-file`
requests have been answered (logged, and 20 ms given to answer the last); `labledger sync` then
finishes the job. Its wall time is compared with an uninterrupted register + sync of the same
job, run interleaved; after each resume the server's sessions and datasets are compared with
those of the uninterrupted runs (no duplicate, nothing missing).
"""

from __future__ import annotations

import json
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.alf_sessions import small_sessions
from tests.benchmarks.figure_table import Row, Target, interleave, paired_ratios
from tests.benchmarks.loopback_alyx import PASSWORD, SUBJECTS, USER, LoopbackAlyx
from tests.benchmarks.processes import MEASURED, PYTHON, clean_env, labledger, timed

ONE_SCRIPT = Path(__file__).with_name("one_register.py")
ANSWER_GRACE = 0.02
"""Seconds between the server logging the request that reaches 90 % and the kill: it logs a
request when it arrives, and answers a file registration in a few milliseconds."""
ONE_HASH_BUFFER = 1 << 20
"""iblutil's md5 buffer for ONE (see one_register.py): 1 MiB, as the project's tests set it."""


@dataclass(frozen=True)
class Job:
    """The sessions one side registers, in its own copy of the data."""

    sessions: list[Path]
    files: int


def make_jobs(root: Path, sessions: int, files: int, copies: int) -> list[Job]:
    """`copies` identical copies of `sessions` sessions of `files` small files each."""
    first = root / "copy0"
    folders = small_sessions(first, sessions, files, SUBJECTS)
    jobs = [Job(folders, files)]
    for index in range(1, copies):
        target = root / f"copy{index}"
        shutil.copytree(first, target)
        jobs.append(Job([target / f.relative_to(first) for f in folders], files))
    return jobs


class Runner:
    """Runs the sides of the registration figures, each on a fresh server and ledger."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.runs = 0
        self.requests: dict[str, list[int]] = {}
        self.keep_contents = False
        self.datasets: dict[str, list[int]] = {}
        """Datasets on the server after each run, by side: all the job's files, or a bug."""
        self.contents: list[dict[str, list[str]]] = []
        self.resumed: list[dict[str, list[str]]] = []
        self.notes: list[str] = []

    def _scratch(self) -> Path:
        self.runs += 1
        folder = self.work / f"run{self.runs}"
        folder.mkdir(parents=True)
        return folder

    def labledger_full(self, job: Job, label: str = "labledger") -> float:
        """register + sync of the job; the wall time of both commands. The server's contents
        after it are kept in `contents` (the resume figure compares with them)."""
        scratch = self._scratch()
        with LoopbackAlyx(scratch / "server_home") as alyx:
            env = clean_env(scratch / "home", alyx.env(scratch / "ledger.sqlite3"))
            seconds = labledger(["register", *job.sessions], env).seconds
            seconds += labledger(["sync"], env).seconds
            alyx.settle()
            self.requests.setdefault(label, []).append(alyx.count())
            contents = server_contents(alyx.url)
            self.datasets.setdefault(label, []).append(len(contents["datasets"]))
            if self.keep_contents:
                self.contents.append(contents)
        shutil.rmtree(scratch, ignore_errors=True)
        return seconds

    def one(self, job: Job, hash_buffer: int = ONE_HASH_BUFFER) -> float:
        """ONE's register_session on each session, in one fresh interpreter."""
        scratch = self._scratch()
        with LoopbackAlyx(scratch / "server_home") as alyx:
            command: list[str | Path] = [PYTHON, ONE_SCRIPT, alyx.url, scratch / "one_cache"]
            command += [*job.sessions, "--hash-buffer", str(hash_buffer)]
            seconds = timed(command, clean_env(scratch / "home")).seconds
            alyx.settle()
            self.requests.setdefault("ONE", []).append(alyx.count())
            registered = len(server_contents(alyx.url)["datasets"])
            self.datasets.setdefault("ONE", []).append(registered)
        shutil.rmtree(scratch, ignore_errors=True)
        return seconds

    def resume(self, job: Job) -> float:
        """Kill `register` at 90 % of its file requests, then time `sync`; the server's
        contents after it are kept in `resumed`, its notes in `notes`."""
        scratch = self._scratch()
        sessions = len(job.sessions)
        kill_at = max(1, round(0.9 * sessions))
        with LoopbackAlyx(scratch / "server_home") as alyx:
            env = clean_env(scratch / "home", alyx.env(scratch / "ledger.sqlite3"))
            process = subprocess.Popen(
                [str(MEASURED.labledger), "register", *map(str, job.sessions)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # stop waiting also when register ends on its own (then there is nothing to kill)
            alyx.wait_until(
                lambda server: (
                    server.count("POST /register-file") >= kill_at or process.poll() is not None
                ),
                timeout=600,
            )
            reached = process.poll() is None
            time.sleep(ANSWER_GRACE)  # the server logs a request as it comes: let it answer
            process.send_signal(signal.SIGKILL)
            process.wait()
            answered = alyx.count("POST /register-file")
            seconds = labledger(["sync"], env).seconds
            alyx.settle()
            self.resumed.append(server_contents(alyx.url))
        if not reached:
            self.notes.append("register ended before 90 % of its file requests: not killed")
        self.notes.append(
            f"killed {ANSWER_GRACE * 1000:.0f} ms after request {kill_at} of {sessions} "
            f"sessions' file requests ({answered} received by then)"
        )
        shutil.rmtree(scratch, ignore_errors=True)
        return seconds


def _get(url: str, token: str | None = None) -> object:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as reply:
        return json.loads(reply.read())


def server_contents(url: str) -> dict[str, list[str]]:
    """Every session (subject/date/number) and dataset (session, collection, name, revision) on
    the server, duplicates kept (so a duplicate shows as a difference)."""
    request = urllib.request.Request(
        f"{url}/auth-token",
        data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request) as reply:
        token = json.loads(reply.read())["token"]
    sessions = _listed(_get(f"{url}/sessions?limit=100000", token))
    datasets = _listed(_get(f"{url}/datasets?limit=1000000", token))
    keys = {
        _tail(s.get("id") or s.get("url")): (
            f"{s['subject']}/{str(s['start_time'])[:10]}/{str(s['number']).zfill(3)}"
        )
        for s in sessions
    }
    return {
        "sessions": sorted(keys.values()),
        "datasets": sorted(
            f"{keys.get(_tail(d.get('session')), d.get('session'))}|{d.get('collection')}|"
            f"{d.get('name')}|{d.get('revision')}|{d.get('hash')}|{d.get('file_size')}"
            for d in datasets
        ),
    }


def _tail(reference: object) -> str:
    """An eid from an id or a URL ending in it."""
    return str(reference).rstrip("/").rpartition("/")[2]


def _listed(page: object) -> list[dict[str, object]]:
    if isinstance(page, dict):
        return list(page.get("results", []))
    assert isinstance(page, list)
    return page


def _difference(expected: dict[str, list[str]], found: dict[str, list[str]]) -> str:
    return "; ".join(
        f"{kind}: {len(found.get(kind, []))} found, {len(items)} expected"
        for kind, items in expected.items()
    )


def per_session(counts: Sequence[int], sessions: int) -> str:
    """Median requests of a run and their share per session, start-up requests included."""
    median = statistics.median(counts)
    return f"{median:.0f} ({median / sessions:.1f} per session)"


def register_sync(
    sessions: int, files: int, repeat: int, hash_buffer: int = ONE_HASH_BUFFER
) -> list[Row]:
    """Figure: register + sync of `sessions` × `files` vs ONE's register_session."""
    with tempfile.TemporaryDirectory(prefix="labledger-bench-reg-") as tmp:
        started = time.perf_counter()
        ours, theirs = make_jobs(Path(tmp) / "data", sessions, files, copies=2)
        built = time.perf_counter() - started
        runner = Runner(Path(tmp) / "runs")
        measured = interleave(
            {
                "labledger": lambda: runner.labledger_full(ours),
                "ONE": lambda: runner.one(theirs, hash_buffer),
            },
            repeat,
        )
    row = Row(
        f"register + sync, {sessions} sessions × {files} files",
        measured["labledger"],
        measured["ONE"],
        "ONE RegistrationClient",
        paired_ratios(measured["labledger"], measured["ONE"]),
        Target("<=", 0.5),
    )
    row.notes.append(
        f"requests per run: labledger {per_session(runner.requests['labledger'], sessions)}, "
        f"ONE {per_session(runner.requests['ONE'], sessions)}; datasets on the server after "
        f"each run: labledger {runner.datasets['labledger']}, ONE {runner.datasets['ONE']} "
        f"(of {sessions * files} files); data built in {built:.1f} s; ONE hashes through "
        + (f"a {hash_buffer / (1 << 20):g} MiB buffer" if hash_buffer else "its own 256 MiB buffer")
    )
    return [row]


def resume(sessions: int, files: int, repeat: int) -> list[Row]:
    """Figure: sync after a register killed at 90 %, vs an uninterrupted register + sync; the
    server after each resume must hold what it holds after an uninterrupted run."""
    with tempfile.TemporaryDirectory(prefix="labledger-bench-resume-") as tmp:
        jobs = make_jobs(Path(tmp) / "data", sessions, files, copies=2)
        runner = Runner(Path(tmp) / "runs")
        runner.keep_contents = True
        measured = interleave(
            {
                "resume": lambda: runner.resume(jobs[0]),
                "full": lambda: runner.labledger_full(jobs[1]),
            },
            repeat,
        )
    row = Row(
        f"resume: sync after SIGKILL at 90 % of register, {sessions} × {files}",
        measured["resume"],
        measured["full"],
        "uninterrupted register + sync",
        paired_ratios(measured["resume"], measured["full"]),
        Target("<=", 0.15),
    )
    row.notes.extend(sorted(set(runner.notes)))
    expected = runner.contents[0]
    same = all(found == expected for found in runner.resumed + runner.contents)
    row.notes.append(
        "server after each resume: "
        + ("same sessions and datasets as uninterrupted (no duplicate)" if same else "DIFFERS")
    )
    if not same:
        row.notes.extend(
            f"difference: {_difference(expected, found)}"
            for found in runner.resumed
            if found != expected
        )
    return [row]
