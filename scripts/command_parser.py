"""The parser every `labledger` command is built with: help that fits, examples, suggestions.

Only the standard library is imported here: building the whole parser (for `--help`, `--version`
or any command) must stay cheap, so nothing a handler needs is loaded before it runs.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
from collections.abc import Iterable
from typing import Any

HELP_WIDTH = 100
"""Widest help text, whatever the terminal: lines longer than this are hard to read."""


class HelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions and argument help to the terminal (at most `HELP_WIDTH` columns), but
    prints a text that has line breaks (an epilog of examples) as written, so each example stays
    on its own line."""

    def __init__(self, prog: str) -> None:
        columns = shutil.get_terminal_size().columns - 2
        super().__init__(prog, width=max(40, min(columns, HELP_WIDTH)), max_help_position=30)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


EXAMPLES_HEADING = "examples:"

SESSION = "cortexlab/Subjects/algernon/2026-11-21/001"
"""The session folder the examples use (relative to the data folder they are run from)."""


def examples(*lines: str) -> str:
    """An epilog of example command lines, one per line; `  # ...` after one explains it."""
    return "\n".join([EXAMPLES_HEADING, *(f"  {line}" for line in lines)])


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose sub-commands inherit its help layout, and which answers a word
    that is not among the choices with the nearest valid ones (exit 2, as any usage error)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            what = action.metavar.lower() if isinstance(action.metavar, str) else "command"
            raise argparse.ArgumentError(None, unknown(what, str(value), choices))
        raise argparse.ArgumentError(action, unknown("choice", str(value), choices))


def unknown(what: str, word: str, choices: Iterable[Any], listing: str | None = None) -> str:
    """`unknown command 'stauts'; did you mean 'status'?`, or, when no choice is close, the
    valid ones (`listing`, or all of them)."""
    names = [str(choice) for choice in choices]
    close = difflib.get_close_matches(word, names, n=3, cutoff=0.6)
    if close:
        quoted = [repr(name) for name in close]
        either = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
        return f"unknown {what} {word!r}; did you mean {either}?"
    return f"unknown {what} {word!r}; choose from {listing or ', '.join(names)}"
