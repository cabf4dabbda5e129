"""Figure: the share of register + sync's time spent in the ledger, from a sampling profile.

Why sampled in the user's process: the share is of the commands as a user runs them, start-up
and worker threads included. Each repetition runs `register` then `sync` of the 20 × 50 job on a
fresh server and ledger, each command under ledger_sampler.py (which defines a working sample
and a ledger sample); the share is the ledger samples over the working samples of both commands.
The same job without the sampler runs interleaved, as the reference column, so the sampler's
own cost shows (left out by `--quick`). The notes name where the ledger's samples were
(innermost ledger frame).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from tests.benchmarks.figure_registration import Job, Runner, make_jobs
from tests.benchmarks.figure_table import Row, Target, interleave
from tests.benchmarks.loopback_alyx import LoopbackAlyx
from tests.benchmarks.processes import MEASURED, clean_env, timed

SAMPLER = Path(__file__).with_name("ledger_sampler.py")


class SampledRuns:
    """register + sync under the sampler; keeps each repetition's counts."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.shares: list[float] = []
        self.samples: list[int] = []
        self.where: Counter[str] = Counter()

    def run(self, job: Job) -> float:
        scratch = self.runner.work / f"sampled{len(self.shares)}"
        scratch.mkdir(parents=True)
        working = ledger = 0
        with LoopbackAlyx(scratch / "server_home") as alyx:
            env = clean_env(scratch / "home", alyx.env(scratch / "ledger.sqlite3"))
            seconds = 0.0
            commands: list[list[str | Path]] = [["register", *job.sessions], ["sync"]]
            for index, args in enumerate(commands):
                out = scratch / f"profile{index}.json"
                seconds += timed([MEASURED.python, SAMPLER, out, *args], env).seconds
                counts = json.loads(out.read_text(encoding="utf-8"))
                working += counts["working"]
                ledger += counts["ledger"]
                self.where.update(counts["where"])
        shutil.rmtree(scratch, ignore_errors=True)
        self.shares.append(ledger / working if working else 0.0)
        self.samples.append(working)
        return seconds


def ledger_share(sessions: int, files: int, repeat: int, plain: bool = True) -> list[Row]:
    """The share; with `plain`, the same runs without the sampler interleaved (its cost)."""
    with tempfile.TemporaryDirectory(prefix="labledger-bench-share-") as tmp:
        (job,) = make_jobs(Path(tmp) / "data", sessions, files, copies=1)
        runner = Runner(Path(tmp) / "runs")
        sampled = SampledRuns(runner)
        arms = {"sampled": lambda: sampled.run(job)}
        if plain:
            arms["plain"] = lambda: runner.labledger_full(job)
        measured = interleave(arms, repeat)
    row = Row(
        f"ledger share of register + sync, {sessions} × {files} (share of working samples)",
        measured["sampled"],
        measured.get("plain", []),
        "not sampled" if plain else "not sampled (not run with --quick)",
        sampled.shares,
        Target("<=", 0.10),
    )
    total = sum(sampled.where.values()) or 1
    top = ", ".join(f"{where} {count / total:.0%}" for where, count in sampled.where.most_common(6))
    row.notes.append(
        f"working samples per run {sampled.samples}; the ledger's samples by innermost ledger "
        f"frame: {top}"
    )
    return [row]
