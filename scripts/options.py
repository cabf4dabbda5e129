"""Options shared by every `labledger` command, and the shape of a command handler.

Light on purpose (see scripts/cli.py): every command's parser imports it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Settings

Handler: TypeAlias = "Callable[[argparse.Namespace, Settings, Console], int]"
"""A command: parsed arguments, effective settings, the output console -> exit status."""


SETTING_FLAGS = {
    "store": "--store",
    "sqlite_path": "--ledger",
    "lab": "--lab",
    "alyx_user": "--alyx-user",
    "hash_workers": "--workers",
}
"""The settings a command-line flag gives, and the flag (as the shared options name them)."""


def flag_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The settings given as flags (None where a flag was not given or the command lacks it)."""
    return {
        key: getattr(args, flag.removeprefix("--").replace("-", "_"), None)
        for key, flag in SETTING_FLAGS.items()
    }


def add_global_options(parser: argparse.ArgumentParser, suppress: bool = True) -> None:
    """Options accepted before or after the command (after it, they must not reset defaults)."""
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("settings (flags win over LABLEDGER_* and the file)")
    group.add_argument(
        "--config",
        type=Path,
        default=default,
        metavar="FILE",
        help="settings file (default: LABLEDGER_CONFIG or the user config file)",
    )
    group.add_argument(
        "--store",
        choices=["sqlite", "postgres", "memory"],
        default=default,
        help="event store of the ledger (default: sqlite)",
    )
    group.add_argument(
        "--ledger",
        type=Path,
        default=default,
        metavar="PATH",
        help="SQLite ledger file (setting sqlite_path)",
    )
    group.add_argument("--lab", default=default, help="the lab of this rig (ALF lab name)")
    group.add_argument(
        "--alyx-user", default=default, metavar="USER", help="Alyx username recorded as who did it"
    )
    group.add_argument(
        "--debug", action="store_true", default=default, help="show tracebacks of unexpected errors"
    )


def say(console: Console, text: str) -> None:
    """Prose for the operator (a message, a warning, an error) on `console`, stdout or stderr.

    The consoles never wrap (`soft_wrap`): rich would break an eid, a path or a URL at the last
    column. Here a terminal gets the text broken between words at its width (or COLUMNS), an eid,
    path, URL or time that does not fit what is left of a line going whole onto the next; a pipe
    or a file gets each line of `text` as one line, so a log stays greppable.
    """
    from ..domain.printable import printable
    from ..projections.render import print_lines

    print_lines(console, printable(text).splitlines() or [""])


def stderr_console() -> Console:
    """The console of warnings and errors: stderr, written through `say` (never rich's wrap)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def warner() -> Callable[[str], None]:
    """Warnings go to stderr as `labledger: warning: ...`: one line each into a pipe or a log,
    wrapped between words on a terminal (`say`)."""
    errors = stderr_console()
    return lambda text: say(errors, f"labledger: warning: {text}")
