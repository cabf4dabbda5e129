"""`labledger config init`: ask (or take from flags), check, test the Alyx connection, write.

The questions are `config_questions.QUESTIONS`. On a terminal each one not answered by a flag is
asked, with its default in brackets; an answer the settings refuse is asked again. With --yes, or
when input is not a terminal (a rig's script), nothing is asked: flags and defaults are used.
Nothing is written before every answer is valid, and an existing file only with --force.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

from ..adapters.alyx.connection_check import check_connection
from ..adapters.filesystem.user_dirs import LEDGER_FILE_NAME, default_data_dir
from ..adapters.one_params import read_one_parameters
from ..adapters.settings import MASK, Settings, check_values
from ..adapters.settings_file import (
    PRIVATE,
    refuse_to_replace,
    settings_file_to_write,
    write_settings_file,
)
from ..adapters.settings_sources import env_name
from ..adapters.watchdog.service_config import read_watch_config
from ..domain.errors import LabledgerError
from .config_questions import ALYX, FROM_ONE_DEFAULT, QUESTIONS, WATCHDOG, Question, nested
from .options import say, warner

YES_NO = {"y": True, "yes": True, "n": False, "no": False}
"""The answers a yes/no question takes; anything else is asked again."""
WRITTEN_ANYWAY = "; the settings are written anyway (change them with config init --force)"
"""What follows a failed connection test when nothing is asked (--yes, or not a terminal)."""
FROM_THE_COMMAND_LINE = "the command line"
YOUR_ANSWER = "your answer"


class InitStopped(LabledgerError):
    """The operator ended `config init` before anything was written."""


class Interview:
    """Questions on the terminal, or none: `ask` returns the default when not interactive."""

    def __init__(self, console: Console, interactive: bool) -> None:
        self.console = console
        self.interactive = interactive

    def ask(self, question: Question, default: str | None) -> str | None:
        """The answer (the default when none is typed); asked again until the settings take it."""
        if not self.interactive:
            return default
        shown = f" [{default}]" if default and not question.secret else ""
        prompt = f"{question.text[:1].upper()}{question.text[1:]}{shown}: "
        while True:
            answer = self._read(prompt, question.secret) or default
            if not answer:
                return None
            try:
                check_values(nested({question.key: answer}), YOUR_ANSWER, "answer")
            except LabledgerError as error:
                say(self.console, f"  {error} (empty: leave it unset)")
                continue
            return answer

    def yes(self, text: str, default: bool) -> bool:
        """A yes/no question; the default when not interactive or nothing is typed."""
        if not self.interactive:
            return default
        while True:
            answer = self._read(f"{text} [{'Y/n' if default else 'y/N'}]: ", secret=False)
            if not answer:
                return default
            if answer.lower() in YES_NO:
                return YES_NO[answer.lower()]
            say(self.console, "  answer y or n (empty: the default)")

    def _read(self, prompt: str, secret: bool) -> str:
        try:
            text = getpass.getpass(prompt) if secret else input(prompt)
        except EOFError:
            raise InitStopped("config init stopped at the end of input; nothing written") from None
        return text.strip()


def run(args: argparse.Namespace, console: Console) -> int:
    """`config init` from parsed arguments: the exit status."""
    target = settings_file_to_write(getattr(args, "config", None), os.environ)
    refuse_to_replace(target, args.force)
    flags = {q.key: getattr(args, q.dest, None) for q in QUESTIONS if q.flag}
    given = {key: str(value) for key, value in flags.items() if value is not None}
    check_values(nested(given), FROM_THE_COMMAND_LINE)  # a bad flag stops before any question
    interview = Interview(console, interactive=sys.stdin.isatty() and not args.yes)
    defaults = {"sqlite_path": str(default_data_dir(os.environ) / LEDGER_FILE_NAME)}
    if args.from_one is not None:
        defaults |= _from_one(console, args.from_one)
    answers = _answers(interview, given, defaults)
    checked = check_values(nested(answers), "the answers and flags")
    _show_plan(console, answers, target)
    if checked.watchdog.config is not None:
        _check_watch_config(console, checked.watchdog.config)
    tested = (
        not checked.alyx.base_url
        or args.no_test
        or _connection_ok(console, checked, asked=interview.interactive)
    )
    if not tested and not interview.yes("Write the settings anyway?", default=True):
        raise InitStopped(f"nothing written to {target}")
    mode = write_settings_file(target, nested(answers), force=args.force)
    private = " (readable by you alone: it holds the password)" if mode == PRIVATE else ""
    say(console, f"wrote {target}{private}")
    say(
        console,
        "`labledger config show` lists every setting and where it comes from",
    )
    return 0


def _answers(
    interview: Interview, given: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, str]:
    """Every question's answer: the flag's, else asked (or its default when not interactive);
    the Alyx user and password only with an Alyx address, the watchdog's only when wanted."""
    answers: dict[str, str] = {}
    watchdog: bool | None = any(key.startswith(f"{WATCHDOG}.") for key in given) or None
    for question in QUESTIONS:
        if question.key in given:
            answers[question.key] = given[question.key]
            continue
        if question.after == ALYX and not answers.get(ALYX):
            continue
        if question.after == WATCHDOG and watchdog is None:
            watchdog = interview.yes(
                "Does this rig hand sessions to the AIND watchdog service?", default=False
            )
        if question.after == WATCHDOG and not watchdog:
            continue
        answer = interview.ask(question, defaults.get(question.key))
        if answer:
            answers[question.key] = answer
    return answers


def _from_one(console: Console, url: str) -> dict[str, str]:
    """The defaults ONE's parameters give (its Alyx address and user), said as they are taken."""
    one = read_one_parameters(None if url == FROM_ONE_DEFAULT else url, os.environ)
    taken = {ALYX: one.base_url, "alyx.username": one.username}
    found = {key: value for key, value in taken.items() if value}
    listed = ", ".join(f"{key} {value}" for key, value in found.items()) or "nothing labledger uses"
    unused = f"; not used by labledger: {', '.join(one.unused)}" if one.unused else ""
    say(
        console,
        f"from ONE's {one.file}: {listed}{unused} (ONE's token is not read)",
    )
    return found


def _show_plan(console: Console, answers: Mapping[str, str], target: Path) -> None:
    say(console, f"settings for {target}:")
    for key, value in answers.items():
        shown = MASK if key.endswith("password") else value
        say(console, f"  {key}: {shown}")


def _check_watch_config(console: Console, path: Path) -> None:
    """Say which folder the service watches for manifests, or why its configuration is unusable
    (a warning: the service may be installed later)."""
    try:
        config = read_watch_config(path)
    except LabledgerError as error:
        warner()(f"{error} (the setting is written as given)")
        return
    say(console, f"the watchdog service watches {config.flag_dir} for manifests")


def _connection_ok(console: Console, settings: Settings, asked: bool) -> bool:
    """Test the Alyx connection with the answers; a password not answered may come from the
    environment, as it would when the settings are used (it is not written). A failure is a
    warning that says what happens next: a question when ``asked``, else the file is written."""
    alyx = settings.alyx
    variable = os.environ.get(env_name(("alyx", "password")))
    if alyx.password is None and variable:
        alyx = alyx.model_copy(update={"password": SecretStr(variable)})
    say(console, f"testing the connection to Alyx at {alyx.base_url} ...")
    result = check_connection(alyx, alyx.username)
    if result.ok:
        say(console, f"connection: {result.message}")
    else:
        then = "" if asked else WRITTEN_ANYWAY
        warner()(f"the Alyx connection test failed: {result.message}{then}")
    return result.ok
