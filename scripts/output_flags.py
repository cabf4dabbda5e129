"""`--wide` and `--quiet`: how much of a command's output the terminal shows."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

WIDE_HELP = (
    "show every column, each cell whole, even when the table is wider than the terminal (page "
    "it with `less -S`); without it a narrow terminal leaves out the least important columns "
    "and names them under the table"
)


def add_wide(parser: argparse.ArgumentParser) -> None:
    """The `--wide` flag of a command that prints a table."""
    parser.add_argument("--wide", action="store_true", help=WIDE_HELP)


def add_quiet(parser: argparse.ArgumentParser, what: str) -> None:
    """The `--quiet` flag of a command that lists what it left out under its summary."""
    parser.add_argument("--quiet", action="store_true", help=f"do not list {what}")


def apply_wide(console: Console, args: argparse.Namespace) -> None:
    """With `--wide`, tables on this console show every column."""
    if getattr(args, "wide", False):
        from ..projections.render import show_all_columns

        show_all_columns(console)
