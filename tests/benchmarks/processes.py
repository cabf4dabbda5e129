"""Timed runs of whole processes: the installed `labledger` as a user runs it, and the references.

Why whole processes: a user pays for start-up (imports, opening the ledger) on every command, so
the figures time the process from its start to its exit, never a function called in-process.
No shell: every command is a list. Each labledger run gets a scratch HOME (no settings file, no
token cache of an earlier run) and the environment the caller gives, nothing of the caller's own
`LABLEDGER_*` settings.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout (the package `labledger`), where the test server module runs from."""
BIN = Path(sys.executable).parent
LABLEDGER = BIN / "labledger"
"""The installed labledger, beside the interpreter running the benchmark."""
PYTHON = sys.executable


class RunFailed(RuntimeError):
    """A timed process exited with an error: the figure cannot be trusted, so it stops."""


@dataclass(frozen=True)
class Timed:
    """What a timed process did: its wall time, output and exit code, and its peak memory."""

    seconds: float
    out: str
    err: str
    code: int
    max_rss_kib: int


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its labledger and XDG settings, HOME at `home`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LABLEDGER_", "XDG_", "ONE_"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env.update(extra or {})
    return env


def timed(
    command: Sequence[str | Path],
    env: Mapping[str, str],
    *,
    stdin: bytes | None = None,
    cwd: Path = ROOT,
    check: bool = True,
) -> Timed:
    """Run `command` to its end; wall time from start to exit. Peak memory is the growth of
    this process's RUSAGE_CHILDREN maximum, which is exact for the first child that beats the
    earlier ones and a lower bound otherwise (`peak_rss` runs it alone to be exact)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(part) for part in command],
        env=dict(env),
        input=stdin,
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = Timed(
        seconds,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        done.returncode,
        rss,
    )
    if check and done.returncode != 0:
        raise RunFailed(
            f"{' '.join(str(p) for p in command)} exited {done.returncode}:\n"
            f"{result.out[-2000:]}\n{result.err[-3000:]}"
        )
    return result


def peak_rss_kib(command: Sequence[str | Path], env: Mapping[str, str]) -> tuple[float, int]:
    """Wall time and exact peak resident memory (KiB) of one process, measured in a fresh
    intermediate interpreter so RUSAGE_CHILDREN holds that process alone."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "t = time.perf_counter() - t\n"
        "print(json.dumps([code, t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    import json

    result = timed([PYTHON, "-c", probe, *command], env)
    code, seconds, rss = json.loads(result.out.strip().splitlines()[-1])
    if code != 0:
        raise RunFailed(f"{' '.join(str(p) for p in command)} exited {code}: {result.err[-2000:]}")
    return float(seconds), int(rss)


def labledger(args: Sequence[str | Path], env: Mapping[str, str], *, check: bool = True) -> Timed:
    """The installed `labledger` with `args`, timed as a whole process."""
    return timed([LABLEDGER, *args], env, check=check)
