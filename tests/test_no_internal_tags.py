"""No internal contract tags in what users and reviewers read.

The references behind labledger (the Alyx registration and watchdog manifest contracts, kept
outside the package) number their rules: ONE and Alyx quirks, watchdog and clabe quirks, sections,
and the rows of the protected-revision decision table. Nobody reading a message, a `--help` or
the README can look those numbers up, so the text says the thing in words. This test scans the
package's source (messages, warnings, docstrings and comments are all in it), the README and other
text files outside tests/, and the help of the installed `labledger` and of every command, and
names each tag it finds by file:line (or by command and line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.checkout import ROOT, checkout_files
from tests.doors import Door
from tests.test_cli_help import COMMANDS

TAG = re.compile(
    r"(?<![\w-])[ACDKSW]-\d{1,2}(?![\w-])"  # a numbered quirk: "(W-4)", "C-10:", "S-1,"
    r"|§"  # a section of a reference: "§8.4"
    r"|\b[Rr]ows?[ -][A-F][12]?\b"  # the decision table's rows: "row A", "rows A-F", "Row E1"
    r"|(?<![\w#])[BDE][12](?![\w-])"  # a row alone: "(B2: ...)", "D1 reuses", "the row-D1 move"
)
"""An internal tag, precise enough to spare ordinary text: a UUID, an ISO date, `UTF-8`, a
hyphenated word, a revision folder such as `#2026-11-21a#`."""

TEXT_SUFFIXES = (".py", ".md", ".toml", ".txt", ".html", ".cfg", ".ini", ".rst")
"""Files people read: source, documentation, settings examples (the shipped Alyx lists are JSON
data from the server, not our words)."""

NOT_SCANNED = ("tests/", ".ci/")
"""The tests cite the references they check; CI scripts are not part of the package."""

TAGGED = [
    "Timeouts on every phase (C-10: ONE has none)",
    "Alyx never de-duplicates them (quirk S-11)",
    "never deleted nor rewritten (W-4)",
    "Said at every restart (K-3).",
    "a 500 for extension-less files (S-7)",
    "how the tool should confirm (§8.4)",
    "never registered: row A",
    "rows A-F of the contract",
    "Row E1 with an unprotected revision",
    "the new path (B2: replaces the old one)",
    "except D1, which reuses the latest",
    "the row-D1 move onto other bytes",
]

ORDINARY = [
    "session 3f6c1c7e-2a51-5d0b-9a3e-0b9c6f1d2e47 registered",
    "SESSION 3F6C1C7E-2A51-5D0B-9A3E-0B9C6F1D2E47 REGISTERED",
    "eid a1b2c3d4-e5f6-4a1b-8c2d-d1e2f3a4b5c6",
    "2026-11-21T09:30:00, dated 2024-01-02, at 20:00:00Z",
    "encoded as UTF-8, hashed with SHA-256, times in ISO 8601",
    "the X-Request-ID header, a T-shirt, non-W-related text, letters A-Z",
    "moved into alf/#2026-11-21a#/spikes.times.npy",
    "rows of the table, an arrow A to B, two rows",
    "the S3 prefix, Alyx 3.6.1, ruff E501, md5 D41D8CD98F00B204E9800998ECF8427E",
]


@pytest.mark.parametrize("text", TAGGED)
def test_the_pattern_finds_each_kind_of_tag(text: str) -> None:
    assert TAG.search(text), text


@pytest.mark.parametrize("text", ORDINARY)
def test_the_pattern_spares_ordinary_text(text: str) -> None:
    assert not TAG.search(text), TAG.findall(text)


def _tags(text: str, where: str) -> Iterator[str]:
    for number, line in enumerate(text.splitlines(), start=1):
        for found in TAG.finditer(line):
            yield f"{where}:{number}: {found.group()!r} in: {line.strip()}"


def test_no_tag_in_the_package_source_or_its_documents() -> None:
    files = [
        name
        for name in checkout_files()
        if name.endswith(TEXT_SUFFIXES) and not name.startswith(NOT_SCANNED)
    ]
    assert "README.md" in files and "scripts/cli.py" in files, files
    found = [
        tag for name in files for tag in _tags((ROOT / name).read_text(encoding="utf-8"), name)
    ]
    assert not found, "internal tags; say what they stand for instead:\n" + "\n".join(found)


def test_no_tag_in_any_help(door: Door) -> None:
    """`labledger --help` and `labledger COMMAND --help` (sub-commands too) as a user runs them."""
    commands = ["labledger", *COMMANDS]  # every command, walked from the parser labledger builds
    assert len(commands) > 10 and "labledger watchdog restart" in commands, commands
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda command: door(*command.split()[1:], "--help"), commands))
    found: list[str] = []
    for command, ran in zip(commands, runs, strict=True):
        shown = f"{command} --help"
        assert ran.code == 0 and ran.out, f"{shown}: exit {ran.code}\n{ran.err}"
        found += _tags(ran.out + ran.err, shown)
    assert not found, "internal tags in --help; say what they stand for:\n" + "\n".join(found)
