"""`labledger sync`: perform every pending intent, in the order it was recorded.

`report` prints what a run performed and gives its exit status; every command that performs work
uses it. The statuses come from one table (`domain.exit_status`): `sync`, the command a scheduler
runs, tells apart all done, still queued and the operator must act.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.errors import LabledgerError
from ..domain.exit_status import MUST_ACT, SYNC_MEANINGS, URGENCY, exit_status
from .options import add_global_options, say, stderr_console, warner
from .output_flags import add_wide, apply_wide

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Settings
    from ..domain.outcomes import SyncResult


def _epilog() -> str:
    """The exit statuses of `sync` (from `domain.exit_status`) and examples, wrapped to 80."""
    codes = [
        textwrap.fill(
            SYNC_MEANINGS[code], 78, initial_indent=f"  {code:<4}", subsequent_indent=" " * 6
        )
        for code in reversed(URGENCY)
    ]
    return "\n".join(
        [
            "exit status:",
            *codes,
            "  2   usage error; 70 internal error; 130 interrupted",
            "register, weigh, water, new-session, transfer and retry exit 0 when their work",
            "stays queued.",
            "Work refused by Alyx (failed) is closed: the run that meets it reports it (exit",
            "1), later runs do not. `labledger audit` keeps the reason (`status` too, for a",
            "session or a file); `labledger retry` asks again once the cause is fixed.",
            "Blocked work and a stalled transfer stay pending: every run reports them.",
            "",
            "examples:",
            "  labledger sync",
            "  labledger sync --quiet    # from cron or a timer: prints only what needs you",
            "  labledger sync cortexlab/Subjects/algernon/2026-11-21/001",
        ]
    )


class ForLogs(argparse.Action):
    """`sync --quiet`: a run for a log, so besides the short report there is no live line while
    Alyx keeps it waiting (`main` reads `live_line`); the exit status says the rest."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        namespace.quiet = True
        namespace.live_line = False


def add_commands(commands: Any) -> None:
    sync = commands.add_parser(
        "sync",
        help="perform every pending intent (Alyx, then the watchdog) in the order "
        "`labledger pending` shows",
        description="Performs what earlier commands queued, in the order `labledger pending` "
        "shows: Alyx first, session by session (the session, its moves into revision folders, "
        "its files), then weighings and water, then the watchdog's manifests; after writing "
        "manifests it checks those written earlier for a finished or stalled transfer, and a "
        "requested service restart comes last. Safe to run at any time and as often as wanted, "
        "also several at once: nothing is done twice.",
        epilog=_epilog(),
    )
    sync.add_argument(
        "sessions",
        nargs="*",
        type=Path,
        metavar="SESSION_PATH",
        help="only the work of these session folders (default: everything pending)",
    )
    output = sync.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the results as JSON")
    output.add_argument(
        "--quiet",
        action=ForLogs,
        nargs=0,
        default=False,
        help="print nothing when all is done or still queued, else one line per item that "
        "needs the operator (for cron logs and timers; the exit status says the rest)",
    )
    add_wide(sync)
    add_global_options(sync)
    sync.set_defaults(handler=run, keeps_retries=True)  # run by schedules: no operator waits


def report(
    console: Console,
    title: str,
    results: list[SyncResult],
    as_json: bool = False,
    *,
    scheduled: bool = False,
    quiet: bool = False,
) -> int:
    """Print what a command performed (a table titled `title`, or JSON) and return its exit
    status. `scheduled` is for `sync`, whose status tells queued work apart from all done;
    `quiet` prints only one line per item the operator must act on, on stderr.

    Work refused (closed), blocked until a fix or, for `sync`, a stalled transfer is raised as
    one line naming the first of them, the most urgent kind first."""
    from ..projections.render import table, to_json

    status = exit_status((result.outcome for result in results), scheduled)
    if quiet:
        errors = stderr_console()
        for result in results:
            if exit_status([result.outcome], scheduled) == MUST_ACT:
                line = f"{result.outcome}: {result.target}: {result.action}: {result.detail}"
                say(errors, f"labledger: {line}{_advice(result)}")
        return status
    rows = [
        {"target": r.target, "action": r.action, "outcome": r.outcome, "detail": r.detail}
        for r in results
    ]
    if as_json:
        console.print_json(to_json(rows))
    elif rows:
        table(console, title, rows, ["target", "action", "outcome", "detail"])
    else:
        say(console, "nothing pending")
    if any(r.outcome == "queued" for r in results) and not as_json:
        say(
            console,
            "queued: the work is recorded in the ledger; `labledger sync` performs it once "
            "what it waits for is there (the server, the watchdog's folder)",
        )
    failed = [r for r in results if r.outcome == "failed"]
    blocked = [r for r in results if r.outcome == "blocked"]
    stalled = [r for r in results if r.outcome == "stalled"]
    if failed:
        first = failed[0]
        raise LabledgerError(
            f"{len(failed)} refused and closed, first {first.target}: {first.detail}"
            f"{_advice(first)}"
        )
    if blocked:
        first = blocked[0]
        raise LabledgerError(
            f"{len(blocked)} waiting for a fix, nothing lost: {first.detail}{_advice(first)}"
        )
    if stalled and status == MUST_ACT:
        first = stalled[0]
        transfers = "transfer" if len(stalled) == 1 else "transfers"
        raise LabledgerError(
            f"{len(stalled)} {transfers} stalled, first {first.target}: {first.detail}"
            f"{_advice(first)}"
        )
    return status


ADVICE = {
    "failed": "; fix the cause, then `labledger retry`",
    "blocked": "; then run `labledger sync`",
    "stalled": "; fix the cause, then `labledger watchdog restart`",
}
"""What to do after a problem whose detail does not name its own command already."""


def _advice(result: SyncResult) -> str:
    if result.outcome == "blocked":
        return ADVICE["blocked"]
    return "" if "`labledger " in result.detail else ADVICE.get(result.outcome, "")


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    # imported here, not above: `report` is imported by every command that performs work
    from ..adapters.database.event_store import open_ledger
    from ..adapters.database.views import open_views
    from ..adapters.executors import build_executors, scan_options, session_ids_of
    from ..adapters.sync import perform_pending

    apply_wide(console, args)
    ledger = open_ledger(settings)
    sessions = session_ids_of(args.sessions, scan_options(settings)) if args.sessions else None
    views = open_views(settings, ledger)
    with build_executors(settings, views, warner()) as executors:
        results = perform_pending(views, executors, sessions)
    return report(console, "sync", results, args.json, scheduled=True, quiet=args.quiet)
