"""The questions of `labledger config init`, as data: the setting each one fills, the flag that
answers it without asking, and what is asked.

Light on purpose (see scripts/cli.py): the parser's flags are made from this table. A question
of a section is asked only when the section is wanted: the Alyx user and password when an Alyx
address is given, the watchdog's when the rig hands sessions to the AIND watchdog service.
"""

from __future__ import annotations

from dataclasses import dataclass

ALYX = "alyx.base_url"
"""The answer that makes the other Alyx questions worth asking."""

FROM_ONE_DEFAULT = "default"
"""`--from-one` without a URL: ONE's default server."""

WATCHDOG = "watchdog"
"""The section asked about only when the rig uses the watchdog service (a flag of it, or yes)."""


@dataclass(frozen=True)
class Question:
    """One setting `config init` asks for."""

    key: str  # the dotted setting, as in the file: alyx.base_url
    flag: str  # the flag that answers it ("": asked only, never on the command line)
    metavar: str
    text: str  # the question, and the flag's help
    secret: bool = False  # read without echo (getpass), never printed
    after: str = ""  # asked only when this answer is given, or this section wanted

    @property
    def dest(self) -> str:
        return dest_of(self.flag)


def dest_of(flag: str) -> str:
    """The attribute argparse stores a flag's value in: --alyx-url -> alyx_url."""
    return flag.removeprefix("--").replace("-", "_")


QUESTIONS = (
    Question("lab", "--lab", "LAB", "this rig's lab: the folder before Subjects/, e.g. cortexlab"),
    Question("sqlite_path", "--ledger", "FILE", "the ledger file (SQLite) of this rig"),
    Question(
        ALYX,
        "--alyx-url",
        "URL",
        "the lab's Alyx address, e.g. https://alyx.example.org (none: work offline, queued)",
    ),
    Question("alyx.username", "--alyx-user", "USER", "your Alyx user", after=ALYX),
    Question(
        "alyx.password",
        "",
        "",
        "your Alyx password (not shown; none: no password is stored)",
        secret=True,
        after=ALYX,
    ),
    Question(
        "watchdog.config",
        "--watchdog-config",
        "FILE",
        "the watchdog service's configuration file (it names the manifest folder, flag_dir)",
        after=WATCHDOG,
    ),
    Question(
        "watchdog.executable",
        "--watchdog-executable",
        "FILE",
        "the watchdog service's program, started when it is not running",
        after=WATCHDOG,
    ),
    Question(
        "watchdog.destination",
        "--watchdog-destination",
        "PATH",
        "the staging share sessions are copied to (each subject gets its own folder)",
        after=WATCHDOG,
    ),
    Question(
        "watchdog.project_name",
        "--watchdog-project",
        "NAME",
        "the AIND project name of this rig's sessions",
        after=WATCHDOG,
    ),
    Question(
        "watchdog.user_email",
        "--watchdog-email",
        "EMAIL",
        "who the transfer service notifies, e.g. jdoe@example.org",
        after=WATCHDOG,
    ),
    Question(
        "watchdog.transfer_endpoint",
        "--watchdog-endpoint",
        "URL",
        "the upload service's address (null: copy without uploading)",
        after=WATCHDOG,
    ),
)


def nested(answers: dict[str, str]) -> dict[str, object]:
    """Dotted answers as the file nests them: {"alyx.base_url": u} -> {"alyx": {"base_url": u}}."""
    values: dict[str, object] = {}
    for key, answer in answers.items():
        section, _, name = key.rpartition(".")
        node = values.setdefault(section, {}) if section else values
        assert isinstance(node, dict)
        node[name] = answer
    return values
