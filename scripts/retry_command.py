"""`labledger retry`: re-open refused work once its cause is fixed, then perform it."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .command_parser import SESSION, examples
from .options import add_global_options, say, warner
from .output_flags import add_wide, apply_wide
from .sync_command import report

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Settings


def add_commands(commands: Any) -> None:
    retry = commands.add_parser(
        "retry",
        help="ask again for work Alyx refused, once you fixed the cause",
        description="Work that Alyx (or the file system) refused for good is closed, with the "
        "reason in `labledger status` and `audit`. Once the cause is fixed (the subject created "
        "on Alyx, a conflicting file moved away, ...), retry records it again (the refusal "
        "stays in the log) and performs it like sync. Work that waits for a login, a setting "
        "or the server is never closed: `labledger sync` performs it once fixed.",
        epilog=examples(
            "labledger retry   # everything refused",
            f"labledger retry {SESSION}   # or its key, or its Alyx eid",
            "labledger retry algernon   # a subject's weighings and water",
            "labledger retry 3f6c1c7e   # one operation, as `pending --json` shows it",
        ),
    )
    retry.add_argument(
        "targets",
        nargs="*",
        metavar="SESSION|SUBJECT|OPERATION",
        help="a session (folder, key or eid), a subject, or an operation id (8+ characters); "
        "default: everything refused",
    )
    retry.add_argument("--json", action="store_true", help="print the results as JSON")
    add_wide(retry)
    add_global_options(retry)
    retry.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from rich.console import Console

    from ..adapters.database.event_store import open_ledger
    from ..adapters.database.views import open_views
    from ..adapters.registration import Registrar
    from ..adapters.retry_refused import choose, reopen
    from ..projections.render import table, to_json

    apply_wide(console, args)
    ledger = open_ledger(settings)
    views = open_views(settings, ledger)
    chosen = choose(views, ledger.refused_intents(), args.targets)
    if not chosen:
        if args.json:
            console.print_json("[]")
        else:
            say(console, "nothing to retry: no work was refused")
        return 0
    reopened = reopen(views, chosen)
    asked = [
        {
            "target": r.target,
            "action": r.action,
            "outcome": "asked again",
            "detail": f"refused because: {r.reason}",
        }
        for r in reopened
    ]
    if not args.json:
        table(console, "retry: asked again", asked, ["target", "action", "detail"])
    registrar = Registrar(settings, ledger, warner())
    sessions = frozenset(r.session_id for r in reopened if r.session_id is not None)
    results = registrar.perform(sessions) if sessions else []
    records = frozenset(r.operation_id for r in reopened if r.session_id is None)
    if records:
        results += registrar.perform_records(records)
    if args.json:
        performed = [asdict(result) for result in results]
        console.print_json(to_json(asked + performed))
        return report(Console(quiet=True), "retry", results, as_json=True)
    return report(console, "retry", results)
