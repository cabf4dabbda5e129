"""The parser every `labledger` command is built with: help that fits, examples, suggestions.

Only the standard library is imported here: building the whole parser (for `--help`, `--version`
or any command) must stay cheap, so nothing a handler needs is loaded before it runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

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

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        """As argparse's, but an option this command does not know stops here, where the
        command's own options are known (argparse would pass it up to the top-level parser and
        say only `unrecognized arguments` under the top-level usage)."""
        parsed, extras = super().parse_known_args(args, namespace)
        for word in extras:
            if word.startswith("-") and len(word) > 1 and word not in ("-", "--"):
                self.unknown_option(word.split("=", 1)[0])
        return parsed, extras

    def unknown_option(self, option: str) -> NoReturn:
        """Exit 2 with this command's usage and one line suggesting its nearest options."""
        names = [name for action in self._actions for name in action.option_strings]
        line = unknown(
            "option", option, names, f"the options of '{self.prog} --help'", command=self.prog
        )
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog.split()[0]}: error: {line}\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            what = action.metavar.lower() if isinstance(action.metavar, str) else "command"
            raise argparse.ArgumentError(None, unknown(what, str(value), choices))
        raise argparse.ArgumentError(action, unknown("choice", str(value), choices))


def unknown(
    what: str,
    word: str,
    choices: Iterable[Any],
    listing: str | None = None,
    command: str | None = None,
) -> str:
    """`unknown command 'stauts'; did you mean 'status'?`, or, when no choice is close, the
    valid ones (`listing`, or all of them); `command` names whose option or choice it is
    (`unknown option '--wdie' for 'labledger status'; ...`)."""
    names = [str(choice) for choice in choices]
    # options are compared without their dashes: '--wdie' is near '--wide', not '--debug'
    bare = {name.lstrip("-"): name for name in names}
    found = difflib.get_close_matches(word.lstrip("-"), list(bare), n=3, cutoff=0.6)
    close = [bare[name] for name in found]
    whose = f" for {command!r}" if command else ""
    if close:
        quoted = [repr(name) for name in close]
        either = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
        return f"unknown {what} {word!r}{whose}; did you mean {either}?"
    return f"unknown {what} {word!r}{whose}; choose from {listing or ', '.join(names)}"


# Argument types: argparse says only "invalid float value: '25,3'" for a bad value; these say
# what was given and how to write it (the argument's name is put before it by argparse).


def number(text: str) -> float:
    """A decimal number: `25.3`; a decimal comma gets the hint to write a point."""
    try:
        return float(text)
    except ValueError:
        hint = "give a number such as 25.3"
        if "," in text:
            hint = f"write {text.replace(',', '.')!r} with a decimal point"
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; {hint}") from None


def whole_number(text: str) -> int:
    """A whole number: `3`."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, e.g. 3") from None


def calendar_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD; an impossible one (month 13, 30 February) is named."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date of the calendar; write YYYY-MM-DD, e.g. 2026-11-21"
        ) from None
