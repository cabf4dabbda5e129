"""`labledger migrate --to postgres`: move this rig's SQLite ledger into the lab's PostgreSQL."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .command_parser import examples
from .options import add_global_options, say

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Settings


def add_commands(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="copy this rig's SQLite ledger into the lab's PostgreSQL (postgres.* settings)",
        description="Copies every event of the SQLite ledger (sqlite_path or --ledger) into the "
        "PostgreSQL ledger the postgres.* settings name, in the same order, and folds its read "
        "models. The SQLite file is only read. Running it again copies only what is missing; a "
        "target holding other events is refused and nothing is copied. Afterwards set "
        "`store: postgres` so the rig writes there.",
        epilog=examples(
            "labledger migrate --to postgres   # the postgres.* settings name the target",
            "LABLEDGER_POSTGRES__SCHEMA=lab labledger migrate --to postgres --ledger rig.sqlite3",
        ),
    )
    migrate.add_argument(
        "--to",
        required=True,
        choices=["postgres"],
        help="the store to copy into: postgres (the only shared store)",
    )
    add_global_options(migrate)
    migrate.set_defaults(handler=run_migrate)


def run_migrate(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.database.migrate import migrate  # imported here: only this command needs it
    from ..projections.words import plural

    done = migrate(settings)
    if done.copied:
        kept = f", after the {done.already} copied before" if done.already else ""
        say(
            console,
            f"copied {plural(done.copied, 'event')}{kept} from {done.source} into {done.target}; "
            "the "
            f"SQLite file is unchanged. Read models at position {done.position}. Set "
            "`store: postgres` for this rig to write there.",
        )
    else:
        later = f" (and {done.after} written there since)" if done.after else ""
        say(
            console,
            f"nothing to copy: {done.target} already holds all {plural(done.events, 'event')} of "
            f"{done.source}{later}",
        )
    return 0
