"""Fast start: `--version` and `--help` load no heavy library, and no command loads what it does
not use. Measured as the modules a run imports, never as time (a loaded machine would make a
time threshold fail for nothing).

The commands run one after the other in one fresh interpreter with a scratch home, as the
installed `labledger` runs them, and the runner notes the modules loaded after each. They run from
the strictest to the least strict: what a command must not load, no command before it may load
either, so a module it loaded itself is never hidden by an earlier one.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, NamedTuple

from labledger.scripts.command_parser import SESSION
from tests.cli_helpers import sample_session
from tests.doors import Door
from tests.test_cli_help import COMMANDS, leaf_commands

EVERY_HEAVY = ("eventsourcing", "psycopg", "httpx", "pydantic", "aind_")
"""The libraries that made `labledger --version` take 0.75-2.3 s: the event store, the
PostgreSQL driver, the HTTP client, the settings models and the AIND models."""

NO_LEDGER = ("eventsourcing", "psycopg", "httpx", "aind_")
"""What a command that reads only the settings never needs."""

OFFLINE = ("psycopg", "httpx", "aind_")
"""What a command on the SQLite ledger that talks to no server and no watchdog never needs."""

NO_WATCHDOG = ("psycopg", "aind_")
"""What a command that does not touch the watchdog never needs (nor, on SQLite, psycopg)."""

ON_SQLITE = ("psycopg",)
"""What no command needs on the SQLite ledger (the watchdog's commands load the AIND models)."""


class Run(NamedTuple):
    """One command of the table: its arguments, the libraries it must not load, and the exit
    statuses it may end with (a run that failed early would prove nothing)."""

    command: str
    argv: tuple[str, ...]
    forbidden: tuple[str, ...]
    exits: frozenset[int] = frozenset({0})


RUNS = (
    Run("labledger config show", ("config", "show"), NO_LEDGER),
    # offline commands on the SQLite ledger: they read folders and the ledger, nothing else
    Run("labledger scan", ("scan", SESSION), OFFLINE),
    Run("labledger history", ("history", SESSION), OFFLINE),
    Run("labledger status", ("status",), OFFLINE),
    Run("labledger audit", ("audit", "--kind", "Registered"), OFFLINE),
    Run("labledger pending", ("pending",), OFFLINE),
    Run("labledger replay", ("replay",), OFFLINE),
    Run("labledger project", ("project",), OFFLINE),
    # Alyx's commands (no server configured: their work is queued) never touch the watchdog
    Run("labledger register", ("register", SESSION), NO_WATCHDOG),
    Run(
        "labledger new-session",
        ("new-session", "algernon", "--root", "cortexlab/Subjects", "--no-register"),
        NO_WATCHDOG,
    ),
    Run("labledger check-protected", ("check-protected", SESSION), NO_WATCHDOG, frozenset({1})),
    Run("labledger weigh", ("weigh", "algernon", "24.3"), NO_WATCHDOG),
    Run("labledger water", ("water", "algernon", "0.8"), NO_WATCHDOG),
    Run("labledger retry", ("retry",), NO_WATCHDOG),
    # sync writes manifests, the others are the watchdog's: they may load the AIND models
    Run("labledger sync", ("sync",), ON_SQLITE, frozenset({0, 75})),
    Run("labledger transfer", ("transfer", "--status", SESSION), ON_SQLITE, frozenset({0, 1})),
    Run("labledger watchdog validate", ("watchdog", "validate"), ON_SQLITE, frozenset({1})),
    Run("labledger watchdog status", ("watchdog", "status"), ON_SQLITE),
    # last: it writes the settings file the commands above would read
    Run("labledger config init", ("config", "init", "--yes"), ON_SQLITE),
)
"""Every command a user runs, with what it must not load, from the strictest to the least."""

NOT_RUN = {
    "labledger migrate": "copies the ledger into the lab's PostgreSQL: loading psycopg is its job",
    "labledger watchdog restart": "would start the rig's watchdog service",
}
"""Commands whose `--help` is checked but which are not run here, and why."""

RUNNER = """
import json, sys
from labledger.scripts.cli import main

seen = []
for argv in json.loads(sys.argv[1]):
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    seen.append({"argv": argv, "code": code, "modules": sorted(sys.modules)})
with open("modules.json", "w") as file:
    json.dump(seen, file)
"""
"""Runs commands one after the other in this interpreter, as `labledger ARGS` would, and writes
the modules loaded after each (to a file: the commands print on stdout)."""


def _run_all(door: Door, runs: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    script = RUNNER.replace("sys.argv[1]", repr(json.dumps(runs)))
    ran = door.python(script, name="run_commands.py")
    assert ran.code == 0, ran.err
    seen: list[dict[str, Any]] = json.loads((door.cwd / "modules.json").read_text())
    assert [tuple(run["argv"]) for run in seen] == runs
    return seen


def _loaded(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The forbidden libraries among these modules, by top-level name."""
    return sorted({name.split(".")[0] for name in modules if name.startswith(forbidden)})


def test_the_table_covers_every_command_from_the_strictest() -> None:
    """A command added later is run here too (or says why not); no command may load what a
    later one must not (else it would hide that the later one loads it)."""
    assert sorted([*(run.command for run in RUNS), *NOT_RUN]) == leaf_commands()
    for earlier, later in itertools.pairwise(RUNS):
        assert set(later.forbidden) <= set(earlier.forbidden), (earlier.command, later.command)


def test_version_and_help_load_no_heavy_library(door: Door) -> None:
    """`--version`, `--help` and every `COMMAND --help`: the parser is built from light modules,
    each handler imports what it uses when it runs."""
    runs = [("--version",), ("--help",), *((*c.split()[1:], "--help") for c in COMMANDS)]
    seen = _run_all(door, runs)
    assert [run["code"] for run in seen] == [0] * len(runs)
    modules = set(seen[-1]["modules"])
    assert "labledger.scripts.cli" in modules  # the runner ran the real command
    heavy = _loaded(modules, EVERY_HEAVY)
    assert not heavy, f"--version and --help loaded {heavy}"


def test_no_command_loads_what_it_does_not_use(door: Door) -> None:
    sample_session(door.cwd)
    door.env["LABLEDGER_LAB"] = "cortexlab"
    seen = _run_all(door, [run.argv for run in RUNS])
    problems: list[str] = []
    before: set[str] = set()
    for run, after in zip(RUNS, seen, strict=True):
        if after["code"] not in run.exits:
            problems.append(f"{run.command} exited {after['code']}, not {sorted(run.exits)}")
        modules = set(after["modules"])
        loaded = _loaded(modules - before, run.forbidden)
        if loaded:
            problems.append(f"{run.command} loaded {loaded}")
        before = modules
    assert "eventsourcing" in _loaded(before, EVERY_HEAVY), "the commands opened no ledger"
    assert not problems, "\n".join(problems)


def test_sync_with_nothing_for_alyx_loads_no_http_client(door: Door) -> None:
    """A sync run by a timer every few minutes, with a server configured but nothing pending,
    builds no Alyx client: it imports no HTTP code and opens no connection (the port named
    here has nothing listening, and the run still ends done)."""
    door.env.update(
        {
            "LABLEDGER_LAB": "cortexlab",
            "LABLEDGER_ALYX__BASE_URL": "http://127.0.0.1:9",
            "LABLEDGER_ALYX__USERNAME": "test_user",
        }
    )
    [run] = _run_all(door, [("sync",)])
    assert run["code"] == 0
    assert "labledger.domain.ledger" in run["modules"]  # it did open the ledger
    assert _loaded(set(run["modules"]), ("httpx", "httpcore")) == []
