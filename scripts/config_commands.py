"""`labledger config show` and `labledger config init`: parse, call the settings adapters, print.

Light at import (see scripts/cli.py): the settings model, the Alyx client and rich are imported
inside the handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .command_parser import examples
from .config_questions import FROM_ONE_DEFAULT, QUESTIONS, WATCHDOG
from .options import SETTING_FLAGS, add_global_options, flag_overrides, say
from .output_flags import add_wide, apply_wide

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.settings import Origin, Settings

ESSENTIAL = frozenset(q.key for q in QUESTIONS if q.after != WATCHDOG)
"""Settings `config show` lists even at their defaults: what every rig needs (`init` asks)."""


def add_commands(commands: Any) -> None:
    """Add `config show` and `config init` to the `labledger` parser."""
    config = commands.add_parser(
        "config",
        help="show the effective settings, or write a rig's settings file",
        description="labledger's settings come from the defaults, the settings file, LABLEDGER_* "
        "variables and flags, later ones winning. `config show` lists them with where each "
        "value comes from; `config init` asks for what a rig needs and writes the file.",
        epilog=examples("labledger config show", "labledger config init"),
    )
    actions = config.add_subparsers(title="actions", dest="action", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="list the effective settings and where each value comes from",
        description="Each setting with its value and its source: the default, the settings file "
        "or a clabe.yml (listed under the table), a LABLEDGER_* variable, or a flag. Settings "
        "at their defaults are counted, not listed, unless --all. A password is shown as "
        "******** when set, and never itself.",
        epilog=examples(
            "labledger config show",
            "labledger config show --all",
            "LABLEDGER_LAB=mainenlab labledger config show --json",
        ),
    )
    show.add_argument("--all", action="store_true", help="list the settings at their defaults too")
    show.add_argument(
        "--json", action="store_true", help="print every setting as JSON (key, value, source)"
    )
    add_wide(show)
    add_global_options(show)
    show.set_defaults(handler=run_show)
    _add_init(actions)


def _add_init(actions: Any) -> None:
    init = actions.add_parser(
        "init",
        help="ask for what a rig needs, test the Alyx connection, write the settings file",
        description="Asks for the lab, the Alyx address and user (and password, not shown), the "
        "ledger file and, if the rig hands sessions to the AIND watchdog service, where the "
        "service and its configuration are. Each question has a flag; a flag given is not "
        "asked, and with --yes, or when input is not a terminal, nothing is asked: the flags "
        "and defaults are used. --from-one takes the Alyx address and user from ONE's "
        "parameters (~/.one), never its token. Then it tests the connection to Alyx and "
        "writes the settings file (readable by you alone when it holds a password).",
        epilog=examples(
            "labledger config init",
            "labledger config init --from-one",
            "labledger config init --yes --lab cortexlab --alyx-url https://alyx.example.org "
            "--alyx-user jdoe",
        ),
    )
    for question in QUESTIONS:
        if question.flag:
            init.add_argument(
                question.flag,
                metavar=question.metavar,
                default=argparse.SUPPRESS,
                help=f"{question.text} (setting {question.key})",
            )
    init.add_argument(
        "--from-one",
        nargs="?",
        const=FROM_ONE_DEFAULT,
        metavar="URL",
        help="take the Alyx address and user from ONE's parameters in ~/.one (of URL, or of "
        "ONE's default server)",
    )
    init.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="write this file (default: LABLEDGER_CONFIG, else the user's settings file)",
    )
    init.add_argument("--force", action="store_true", help="replace an existing settings file")
    init.add_argument("--no-test", action="store_true", help="do not test the Alyx connection")
    init.add_argument("--yes", action="store_true", help="ask nothing: use the flags and defaults")
    init.set_defaults(handler=run_init, reads_settings=False)


# -- show ---------------------------------------------------------------------------------------


def run_show(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.settings import load_settings_with_sources
    from ..projections.render import table, to_json
    from ..projections.table_layout import rules

    apply_wide(console, args)
    overrides = flag_overrides(args)
    effective, sources = load_settings_with_sources(getattr(args, "config", None), overrides)
    files = list(dict.fromkeys(o.source for o in sources.values() if o.kind == "file"))
    if args.json:
        rows = [
            {
                "key": key,
                "value": value,
                "source": _source(sources[key], None),
                "kind": sources[key].kind,
            }
            for key, value in effective.effective().items()
        ]
        console.print_json(to_json(rows))
        return 0
    described = effective.describe()
    listed = [
        key for key in described if args.all or key in ESSENTIAL or sources[key].kind != "default"
    ]
    rows = [
        {"key": key, "value": described[key], "source": _source(sources[key], files)}
        for key in listed
    ]
    layout = rules(("key", 1), ("value", 1, "words", 24), ("source", 1))
    table(
        console,
        "config show: effective settings",
        rows,
        ["key", "value", "source"],
        layout=layout,
        row_line=_setting_line,
    )
    for label, path in _file_labels(files).items():
        say(console, f"{label}: {path}")
    left_out = len(described) - len(listed)
    if left_out:
        say(
            console,
            f"{left_out} more at their defaults (`labledger config show --all` lists them)",
        )
    return 0


EMPTY_VALUE = '""'
"""An empty setting on its line (`postgres.password = ""  (default)`), not a blank."""


def _setting_line(cells: Sequence[str]) -> str:
    """One setting on a line, when the table of key, value and source does not fit the terminal
    (a long key beside a long path): one line per setting reads better than a block each."""
    key, value, source = cells
    return f"{key} = {value or EMPTY_VALUE}  ({source})"


def _file_labels(files: list[str]) -> dict[str, str]:
    """Short names of the settings and clabe files for the table, each path listed under it."""
    if len(files) == 1:
        return {"file": files[0]}
    return {f"file {number}": path for number, path in enumerate(files, start=1)}


def _source(origin: Origin, files: list[str] | None) -> str:
    """Where a value came from, as `config show` names it: the flag, the variable, the file (its
    path, or its short name in a table whose files are listed under it), or "default"."""
    if origin.kind == "flag":
        return SETTING_FLAGS.get(origin.name, origin.name)
    if origin.kind == "environment":
        return origin.name
    if origin.kind == "file":
        if files is None:
            return origin.source
        return next(k for k, v in _file_labels(files).items() if v == origin.source)
    return "default"


# -- init ---------------------------------------------------------------------------------------


def run_init(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from .config_init import run

    return run(args, console)
