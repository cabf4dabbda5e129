"""`--help` says what every command and argument is, with examples; a mistyped command or choice
is answered with the nearest valid one.

The parser is walked as `labledger` builds it, so a command added later is held to the same rule;
what a user sees (the text, its width, the exit status of a typo) is checked through the installed
command.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shlex
from collections.abc import Iterator

from labledger.scripts.cli import build_parser
from tests.doors import Door

WIDEST = 100
"""The widest help line: readable in a terminal of 80 to 100 columns."""


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ("labledger",)
) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """Every command and sub-command (`labledger watchdog status`), its parser, and the one-line
    help the parent lists it with."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                command = (*words, name)
                yield " ".join(command), sub, listed.get(name)
                yield from _commands(sub, command)


COMMANDS = sorted(command for command, _, _ in _commands(build_parser()))
"""Every command and sub-command, `labledger watchdog` as well as `labledger watchdog status`."""


def leaf_commands() -> list[str]:
    """The commands that do something (a handler), not the groups of sub-commands."""
    return sorted(
        command
        for command, parser, _ in _commands(build_parser())
        if parser.get_default("handler") is not None
    )


def test_the_walk_finds_every_command() -> None:
    """A guard for the tests below: the walk sees the commands, nested ones too."""
    assert {"labledger scan", "labledger weigh", "labledger watchdog status"} <= set(COMMANDS)


def test_every_command_says_what_it_does_with_examples() -> None:
    missing: list[str] = []
    for command, parser, listed in _commands(build_parser()):
        if not listed:
            missing.append(f"{command}: no help line in its parent's list")
        if not parser.description:
            missing.append(f"{command}: no description")
        epilog = parser.epilog or ""
        if "examples:" not in epilog or f"  {command}" not in epilog:
            missing.append(f"{command}: no 'examples:' with a `{command} ...` line")
    assert not missing, "\n".join(missing)


def test_every_example_is_a_valid_command_line() -> None:
    """Each example parses as written (options that exist, values they accept); parsing runs
    nothing."""
    wrong: list[str] = []
    for command, parser, _ in _commands(build_parser()):
        shown = (parser.epilog or "").partition("examples:")[2]
        for line in shown.splitlines():
            words = shlex.split(line.partition("  # ")[0])
            if words[:1] != ["labledger"]:
                continue
            errors = io.StringIO()
            try:
                with contextlib.redirect_stderr(errors):
                    build_parser().parse_args(words[1:])
            except SystemExit:
                wrong.append(f"{command}: {line.strip()}\n    {errors.getvalue().splitlines()[-1]}")
    assert not wrong, "examples that do not parse:\n" + "\n".join(wrong)


def test_every_argument_says_what_it_is() -> None:
    missing: list[str] = []
    parsers = [("labledger", build_parser())]
    parsers += [(command, parser) for command, parser, _ in _commands(build_parser())]
    for command, parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue  # its commands are checked above
            if not action.help or action.help == argparse.SUPPRESS:
                name = "/".join(action.option_strings) or action.metavar or action.dest
                missing.append(f"{command}: {name}")
    assert not missing, "arguments without a help text:\n" + "\n".join(missing)


HELP_OF_EVERY_COMMAND = """
import contextlib, io, json, sys
from labledger.scripts.cli import main

shown = {}
for command in json.loads(sys.argv[1]):
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
        main([*command.split()[1:], "--help"])
    shown[command] = text.getvalue()
print(json.dumps(shown))
"""
"""Prints what `COMMAND --help` prints to a pipe (80 columns), for every command, in one fresh
interpreter (one process for all of them, instead of one installed command each)."""


def test_help_fits_100_columns_and_shows_the_examples(door: Door) -> None:
    """As printed to a pipe: wrapped text, and each example on its own line."""
    every = ["labledger", *COMMANDS]
    ran = door.python(HELP_OF_EVERY_COMMAND.replace("sys.argv[1]", repr(json.dumps(every))))
    shown: dict[str, str] = ran.ok().json()
    assert sorted(shown) == sorted(every)
    problems: list[str] = []
    for command, text in shown.items():
        problems += [f"{command}: {line}" for line in text.splitlines() if len(line) > WIDEST]
        if "\nexamples:\n" not in text:
            problems.append(f"{command}: no examples shown")
    assert not problems, f"help lines over {WIDEST} columns, or no examples:\n" + "\n".join(
        problems
    )


def test_a_mistyped_command_names_the_nearest(door: Door) -> None:
    typo = door("stauts")
    assert typo.code == 2
    assert typo.err.splitlines()[-1] == (
        "labledger: error: unknown command 'stauts'; did you mean 'status'?"
    )
    nested = door("watchdog", "restrat")
    assert nested.code == 2
    assert "unknown action 'restrat'; did you mean 'restart' or 'status'?" in nested.err
    nothing_close = door("frobnicate")
    assert nothing_close.code == 2
    assert "unknown command 'frobnicate'; choose from scan, history," in nothing_close.err


def test_a_mistyped_option_names_the_nearest_option_of_that_command(door: Door) -> None:
    """Before, `status --wdie` printed the top-level usage and `unrecognized arguments`."""
    typo = door("status", "--wdie")
    assert typo.code == 2 and typo.out == ""
    lines = typo.err.splitlines()
    assert lines[0].startswith("usage: labledger status ")  # the command's own usage
    assert lines[-1] == (
        "labledger: error: unknown option '--wdie' for 'labledger status'; did you mean '--wide'?"
    )
    nested = door("config", "show", "--jsn=1")
    assert nested.code == 2
    assert nested.err.splitlines()[-1].endswith(
        "unknown option '--jsn' for 'labledger config show'; did you mean '--json'?"
    )
    far = door("status", "--zzzzzz")
    assert far.code == 2 and far.err.splitlines()[-1].endswith(
        "choose from the options of 'labledger status --help'"
    )
    assert not door.ledger_file.exists(), "a usage error records nothing"


def test_a_mistyped_choice_names_the_nearest(door: Door) -> None:
    typo = door("--store", "sqlit", "status")
    assert typo.code == 2
    assert "argument --store: unknown choice 'sqlit'; did you mean 'sqlite'?" in typo.err
    assert not door.ledger_file.exists(), "a usage error records nothing"


def test_an_unknown_audit_kind_is_a_usage_error_naming_the_nearest(door: Door) -> None:
    """Before, `audit --kind Bogus` said "nothing matches these filters" and exited 0."""
    close = door("audit", "--kind", "Registerd")
    assert close.code == 2
    assert "unknown kind 'Registerd'; did you mean 'Registered'" in close.err
    qualified = door("audit", "--kind", "Session.Registerd")
    assert "did you mean 'Session.Registered'" in qualified.err
    far = door("audit", "--kind", "Bogus")
    assert far.code == 2
    line = far.err.splitlines()[-1]
    assert "unknown kind 'Bogus'; choose from intent, outcome, fact, or an event name:" in line
    assert "Registered" in line and "WeighingRecorded" in line
    assert not door.ledger_file.exists(), "a usage error opens no ledger"
    valid = ("--kind", "intent", "--kind", "Registered", "--kind", "Session.Registered")
    assert door("audit", *valid, "--json").ok().json() == []


def test_a_scan_refused_for_its_path_makes_no_ledger(door: Door) -> None:
    """Before, `scan` of a folder under an unknown lab printed the refusal but had already made
    an empty ledger file in the scratch home."""
    folder = door.cwd / "data" / "nolab" / "Subjects" / "algernon" / "2026-11-30" / "001"
    (folder / "alf").mkdir(parents=True)
    (folder / "alf" / "spikes.times.npy").write_bytes(b"x")
    refused = door("scan", folder)
    assert refused.code == 1 and "Traceback" not in refused.err
    assert refused.err.strip().startswith('labledger: error: lab folder "nolab"'), refused.err
    assert 'lab = "nolab"' in refused.err
    assert not door.ledger_file.exists(), "a refused scan records nothing and makes no ledger"
    door("--lab", "nolab", "scan", folder).ok()
    assert door.ledger_file.exists()
