"""A refusal (failed: refused by Alyx, closed) is reported by the run that meets it and not by
later runs, as `sync --help` and the README's "Running sync on a schedule" say: a refusal the
operator chooses to leave does not alert a scheduled job for ever; `audit` keeps the reason and
`retry` asks again.
"""

from __future__ import annotations

import re
from pathlib import Path

from labledger.domain.exit_status import ALL_DONE, MUST_ACT
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import ROOT
from tests.doors import Door


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_a_refusal_is_reported_by_the_sync_that_meets_it_only(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    env = alyx_env(server, tmp_path)
    door.env.update({name: value for name, value in env.items() if "BASE_URL" not in name})
    door("weigh", "newmouse", "21.5").ok()  # no server: queued
    door.env.update(env)

    first = door("sync", "--quiet")

    assert first.code == MUST_ACT and first.out == ""
    (line,) = first.err.splitlines()
    assert line.startswith("labledger: failed: newmouse: 21.5 g at ")
    assert door("sync", "--quiet") == (ALL_DONE, "", ""), "closed: not reported again"
    reasons = [e["summary"] for e in door("audit", "--kind", "outcome", "--json").ok().json()]
    assert any("newmouse does not exist on Alyx" in reason for reason in reasons)
    assert "asked again" in door("retry", "--json").json()[0]["outcome"]


def test_the_help_and_the_readme_say_a_refusal_is_reported_once(door: Door) -> None:
    helped = _words(door("sync", "--help").ok().out)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = _words(readme.split("## Running sync on a schedule", 1)[1].split("\n## ", 1)[0])

    assert "the run that meets it reports it (exit 1), later runs do not" in helped
    assert "is reported once, with exit 1, by the run that met it" in section
    assert "later runs do not repeat it" in section
    assert "Every run reports a problem again until it is fixed" not in section
