"""Run labledger exactly as a user does: the installed `labledger` command, or a script in a fresh
Python interpreter, in a subprocess with a scratch home and nothing else.

In-process tests (`tests/cli_helpers.py`) share the test process's state: a context variable, a
monkeypatched module, a cached setting can make them pass where a user's run fails (issue 10:
`sync` of several sessions and the README's Python example failed with `NoProvenance` while every
in-process test passed). Here each run starts from what a user has:

* the console script installed beside `sys.executable` (what `pip install` made);
* a scratch `HOME`, with `XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_CACHE_HOME` and
  `XDG_STATE_HOME` under it, so the default ledger and settings file are the user's own;
* an environment of `PATH` (the system's, not the venv: the command is run by its path, as
  the README does), `LANG` and those variables only, plus the `LABLEDGER_*` (and the
  watchdog's `WATCHDOG_EXE`/`WATCHDOG_CONFIG`) variables the test names;
* nothing else from the test's environment but the machine's clock: when the test run's clock is
  moved (libfaketime, `.ci/faketime-pytest`), the run inherits it, so the command, the test and
  the loopback server agree on what "today" is;
* a working directory inside the test's folder, and a timeout.

No fixture here sets provenance, settings or a clock: a test that needs settings passes them as
variables or a `--config` file, as a user would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest

LABLEDGER = Path(sys.executable).parent / "labledger"
"""The console script `pip install` put beside this interpreter."""

TIMEOUT = 60.0
"""Seconds a single run may take before the test fails (a hung run is a failure, not a wait)."""

PASSED_THROUGH = re.compile(r"LABLEDGER_[A-Z0-9_]+|WATCHDOG_EXE|WATCHDOG_CONFIG|COLUMNS")
"""The only variables a test may add: labledger's settings, the two the README documents, and
COLUMNS, the width a user's shell gives a terminal."""

MACHINE_CLOCK = re.compile(r"LD_PRELOAD|FAKETIME(_[A-Z0-9_]+)?|DONT_FAKE_MONOTONIC")
"""Variables inherited as they are: the machine's clock. `.ci/faketime-pytest` moves the clock of
the whole test run with libfaketime; a run started here must live at the same time as the test
(and the loopback server) that checks it, as a user's command lives on the user's machine."""


def ctrl_c_as_at_a_terminal() -> None:
    """For `preexec_fn`: the child takes Ctrl-C (SIGINT) as a command started in a terminal does.
    A test runner started in the background of a script inherits SIGINT ignored, and so would
    every command it starts, so a test that sends SIGINT would see it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Ran(NamedTuple):
    """What a run left: its exit status and everything it printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def ok(self) -> Ran:
        """This run, after checking it exited 0 (the failure shows what it printed)."""
        assert self.code == 0, f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"
        return self


class Door:
    """Runs the installed command (`door("status", "--json")`) or a Python script
    (`door.python(text)`) with a scratch home under `root`; `env` holds the variables every run of
    this test gets (tests add to it), `cwd` the working directory."""

    def __init__(self, root: Path) -> None:
        if not LABLEDGER.is_file():
            pytest.fail(
                f"the installed `labledger` command is missing ({LABLEDGER}); install the project "
                "into this interpreter's environment: `.venv/bin/pip install -e '.[test]'`",
                pytrace=False,
            )
        self.home = root / "home"
        self.cwd = root / "work"
        self.home.mkdir(parents=True, exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {}

    @property
    def ledger_file(self) -> Path:
        """Where the default SQLite ledger lands under the scratch home (XDG data directory)."""
        return self.home / ".local" / "share" / "labledger" / "ledger.sqlite3"

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment of a run: the minimum a login gives, plus the chosen variables."""
        chosen = {**self.env, **(extra or {})}
        stray = sorted(name for name in chosen if not PASSED_THROUGH.fullmatch(name))
        if stray:
            raise ValueError(
                f"only LABLEDGER_*, WATCHDOG_* and COLUMNS variables may be set: {stray}"
            )
        home = str(self.home)
        clock = {name: value for name, value in os.environ.items() if MACHINE_CLOCK.fullmatch(name)}
        return {
            **clock,
            "PATH": os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
            **chosen,
        }

    def __call__(
        self,
        *args: str | Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = TIMEOUT,
    ) -> Ran:
        """`labledger ARGS...` as typed in a shell."""
        return self._run([str(LABLEDGER), *map(str, args)], env, cwd, timeout)

    def start(self, *args: str | Path) -> subprocess.Popen[str]:
        """`labledger ARGS...` started in the background (output piped, as text), for a test that
        signals it, races it against another, or reads it while it runs."""
        return subprocess.Popen(
            [str(LABLEDGER), *map(str, args)],
            cwd=self.cwd,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            preexec_fn=ctrl_c_as_at_a_terminal,
        )

    def python(
        self,
        script: str,
        name: str = "rig_script.py",
        env: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT,
    ) -> Ran:
        """`python SCRIPT` in a fresh interpreter: the script is written to the working directory
        (so only the installed packages are importable, not this repository's `tests`)."""
        path = self.cwd / name
        path.write_text(script, encoding="utf-8")
        return self._run([sys.executable, path.name], env, None, timeout)

    def _run(
        self, argv: list[str], env: Mapping[str, str] | None, cwd: Path | None, timeout: float
    ) -> Ran:
        try:
            done = subprocess.run(
                argv,
                cwd=cwd or self.cwd,
                env=self.environment(env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            pytest.fail(f"{' '.join(argv)} ran longer than {timeout} s: {expired.stderr!r}")
        return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def door(tmp_path: Path) -> Door:
    """The installed command and a fresh interpreter, with a scratch home in `tmp_path/home` and
    `tmp_path/work` as the working directory."""
    return Door(tmp_path)
