"""Timed runs of whole processes: the installed `labledger` as a user runs it, and the references.

Why whole processes: a user pays for start-up (imports, opening the ledger) on every command, so
the figures time the process from its start to its exit, never a function called in-process.
No shell: every command is a list. Each labledger run gets a scratch HOME (no settings file, no
token cache of an earlier run) and the environment the caller gives, nothing of the caller's own
`LABLEDGER_*` settings.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout (the package `labledger`), where the test server module runs from."""
PYTHON = sys.executable
"""The benchmark's own interpreter: the test server, ONE and md5sum's helpers run with it."""


@dataclass
class Installation:
    """The labledger that is measured: the `labledger` beside `python` (by default the
    interpreter running the benchmark; `figures.py --user-install` switches to a venv installed
    as the README's command (a) installs it, see `user_install`)."""

    python: Path

    @property
    def labledger(self) -> Path:
        return self.python.parent / "labledger"


MEASURED = Installation(Path(sys.executable))


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
    """The measured `labledger` with `args`, timed as a whole process."""
    return timed([MEASURED.labledger, *args], env, check=check)


def user_install(cache: Path, log: Callable[[str], None]) -> Path:
    """A venv with labledger installed as a user installs it (no test extra), editable so that it
    runs this checkout's code; built once into `cache`, again when pyproject.toml changes.
    Returns its interpreter.

    Why: the test extra brings trio (through selenium), and httpcore imports trio whenever it
    is installed, which adds about 0.15 s to every command that loads the HTTP client here; a
    rig's labledger has no trio."""
    venv = cache / "user-venv"
    python = venv / "bin" / "python"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = venv / "pyproject.sha256"
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    log(f"installing labledger into {venv} as a user does (once) ...")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True)
    stamp.write_text(wanted)
    return python
