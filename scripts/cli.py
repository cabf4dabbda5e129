"""The `labledger` command: parse, call the domain and adapters, print. Nothing else.

Errors a user can cause arrive as `LabledgerError` and are printed as one line with exit status 1;
usage errors exit 2 (argparse), and so do an unknown command or choice, with the nearest valid
ones suggested. Nothing else ever prints a traceback, unless --debug asks for it.

Fast start: heavy imports go inside handlers. Building the parser (for `--version`, `--help` and
before every command) imports only this package's parser definitions and the standard library, so
at module level a command module (and this one) imports only `argparse`, `pathlib`, `typing` and
the light modules `options` and `command_parser`; settings, the ledger, the Alyx client, rich and
the AIND models are imported inside the handler that uses them (types for annotations under
`if TYPE_CHECKING:`). A `choices` list the parser needs lives in a light module, or is checked by
a `type=` function that imports what it needs when called. tests/test_fast_start.py checks which
modules each command loads.

Every command is added with `add_parser(name, help=..., description=..., epilog=examples(...))`
and every argument with a `help=`; tests/test_cli_help.py walks the parser to check it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..adapters.identity import tool_version
from . import (
    alyx_arguments,
    config_commands,
    database_commands,
    folder_commands,
    report_arguments,
    retry_command,
    sync_command,
    transfer_commands,
)
from .command_parser import SESSION, CommandParser, examples
from .options import add_global_options, flag_overrides
from .output_flags import add_quiet, add_wide

if TYPE_CHECKING:
    from .options import Handler

COMMAND_GROUPS = (
    alyx_arguments,
    transfer_commands,
    sync_command,
    retry_command,
    report_arguments,
    database_commands,
    config_commands,
)
"""Modules that add their own commands: each has `add_commands(subparsers)` (in the module of
the handlers, or in an `_arguments` module beside it when together they would be too long)."""

LOG_WIDTH = 160
"""Columns of tables written to a file or pipe (a rig's cron log), where 80 would cut them."""


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="labledger",
        description="The event-sourced ledger of a lab's experiment sessions and files.",
        epilog=examples(
            f"labledger scan {SESSION}",
            f"labledger register {SESSION}",
            "labledger status",
            "labledger sync",
            "labledger COMMAND --help   # what COMMAND does, its arguments and examples",
        ),
    )
    parser.add_argument(
        "--version", action="version", version=tool_version(), help="print the version and exit"
    )
    add_global_options(parser, suppress=False)
    commands_ = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND"
    )

    scan = commands_.add_parser(
        "scan",
        help="find, classify and hash the files of session folders",
        description="Record every file of each session as discovered (size, mtime, md5) or "
        "rejected with its reason. Files unchanged since the last scan are not hashed again.",
        epilog=examples(
            f"labledger scan {SESSION}",
            "labledger scan --workers 2 cortexlab/Subjects/algernon/2026-11-2?/*   # several",
            f"labledger scan --json {SESSION}",
        ),
    )
    scan.add_argument(
        "sessions",
        nargs="+",
        type=Path,
        metavar="SESSION_PATH",
        help="session folder: [lab/Subjects/]subject/YYYY-MM-DD/NNN",
    )
    scan.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=None,
        help="files hashed in parallel (setting hash_workers; default: cores)",
    )
    scan.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_wide(scan)
    add_quiet(scan, "the files left out and why (listed under the summary)")
    add_global_options(scan)
    scan.set_defaults(handler=folder_commands.scan)

    history = commands_.add_parser(
        "history",
        help="print the events of a session or a file",
        description="Every event recorded for a session folder or one of its files: when, "
        "what, who (Alyx and OS user), from which host, and the operation it belongs to.",
        epilog=examples(
            f"labledger history {SESSION}",
            f"labledger history --files {SESSION}   # with its files' events",
            f"labledger history {SESSION}/alf/licks.times.npy",
        ),
    )
    history.add_argument(
        "path", type=Path, metavar="PATH", help="a session folder or a file inside one"
    )
    history.add_argument(
        "--files", action="store_true", help="for a session, include the events of its files"
    )
    history.add_argument("--json", action="store_true", help="print the events as JSON")
    add_global_options(history)
    history.set_defaults(handler=folder_commands.history)

    for group in COMMAND_GROUPS:
        group.add_commands(commands_)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # imported after parsing: `--help`, `--version` and usage errors never load them
    from rich.console import Console

    from ..adapters.alyx.command_run import one_run
    from ..adapters.database.event_store import store_errors
    from ..adapters.identity import this_run
    from ..adapters.settings import Settings, load_settings
    from ..domain import provenance
    from ..domain.errors import LabledgerError
    from .options import say, stderr_console
    from .waiting_line import WaitingLine

    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, soft_wrap=True, width=LOG_WIDTH)
    errors = stderr_console()
    handler: Handler = args.handler
    try:
        # `config init` writes the settings file: a missing or broken one must not stop it
        if getattr(args, "reads_settings", True):
            settings = load_settings(getattr(args, "config", None), flag_overrides(args))
        else:
            settings = Settings()
        who = settings.alyx_user or settings.alyx.username
        # an operator waits for every command but `sync` (run by schedules): fewer Alyx tries
        interactive = not getattr(args, "keeps_retries", False)
        with (
            provenance.acting_as(this_run(who)),
            WaitingLine(sys.stderr, lambda line: say(errors, line)) as waiting,
            one_run(
                interactive=interactive,
                watcher=waiting if getattr(args, "live_line", True) else None,
            ),
            store_errors(settings),
        ):
            return handler(args, settings, console)
    except LabledgerError as error:
        say(errors, f"labledger: error: {error}")
        return 1
    except KeyboardInterrupt:
        say(errors, "labledger: interrupted; nothing half-recorded (run the command again)")
        return 130
    except Exception as error:
        if getattr(args, "debug", False):
            raise
        say(
            errors,
            f"labledger: internal error: {type(error).__name__}: {error} "
            "(this is a bug; run again with --debug and report the traceback)",
        )
        return 70
