"""`labledger sync`: perform every pending intent, in the order it was recorded."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from ..adapters.database.event_store import open_ledger
from ..adapters.database.views import open_views
from ..adapters.executors import build_executors, scan_options, session_ids_of
from ..adapters.settings import Settings
from ..adapters.sync import perform_pending
from ..domain.errors import LabledgerError
from ..domain.outcomes import SyncResult
from ..projections.render import table, to_json
from .options import add_global_options, warner


def add_commands(commands: Any) -> None:
    sync = commands.add_parser(
        "sync",
        help="perform every pending intent (Alyx, watchdog) in the order it was recorded",
        description="Performs what earlier commands queued: sessions and files to register, "
        "moves into revision folders, weighings, water, manifests; then notes finished or "
        "stalled transfers. Safe to run at any time and as often as wanted: nothing is done "
        "twice.",
    )
    sync.add_argument(
        "sessions",
        nargs="*",
        type=Path,
        metavar="SESSION_PATH",
        help="only the work of these session folders (default: everything pending)",
    )
    sync.add_argument("--json", action="store_true", help="print the results as JSON")
    add_global_options(sync)
    sync.set_defaults(handler=run)


def report(console: Console, results: list[SyncResult], as_json: bool = False) -> int:
    """Print what sync did; exit 1 when an operator must act: something was refused (closed), or
    pending work waits for a fix (a login, a setting, a name on Alyx)."""
    rows = [
        {"target": r.target, "action": r.action, "outcome": r.outcome, "detail": r.detail}
        for r in results
    ]
    if as_json:
        console.print_json(to_json(rows))
    elif rows:
        table(console, "sync", rows, ["target", "action", "outcome", "detail"])
    else:
        console.print("nothing pending", markup=False)
    failed = [r for r in results if r.outcome == "failed"]
    queued = [r for r in results if r.outcome == "queued"]
    if queued and not as_json:
        console.print(
            "queued: the work is recorded in the ledger; `labledger sync` performs it once "
            "what it waits for is there (the server, the watchdog's folder)",
            markup=False,
        )
    blocked = [r for r in results if r.outcome == "blocked"]
    if failed:
        first = failed[0]
        # a detail that names its own command (retry, transfer again) needs no other advice
        advice = "" if "`labledger " in first.detail else "; fix the cause, then `labledger retry`"
        raise LabledgerError(
            f"{len(failed)} refused and closed, first {first.target}: {first.detail}{advice}"
        )
    if blocked:
        raise LabledgerError(
            f"{len(blocked)} waiting for a fix, nothing lost: {blocked[0].detail}; then run "
            "`labledger sync`"
        )
    return 0


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    ledger = open_ledger(settings)
    sessions = session_ids_of(args.sessions, scan_options(settings)) if args.sessions else None
    views = open_views(settings, ledger)
    with build_executors(settings, views, warner()) as executors:
        results = perform_pending(views, executors, sessions)
    return report(console, results, args.json)
