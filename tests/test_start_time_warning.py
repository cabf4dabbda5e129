"""The "no start time given" warning appears only when the start time Alyx will get really is the
folder's date at midnight: a `register` (or the README's `register_session`) after `new-session`
sends the start time `new-session` asked for, so it says nothing.

Entered as the operator does, offline (the work is queued): the installed `labledger` and the
README's Python example in a fresh interpreter; the merge of fields row by row on the aggregate.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from labledger.domain.session import Session
from tests.doors import Door
from tests.test_doors_readme_python import python_blocks

WARNING = "no start time given"
OFFLINE = {"LABLEDGER_LAB": "cortexlab"}
"""No Alyx server: every registration stays queued, as on a rig without network."""


def _new_session(door: Door, *more: str) -> Path:
    (door.cwd / "d/cortexlab/Subjects").mkdir(parents=True, exist_ok=True)  # the data root exists
    made = door("new-session", "algernon", "--root", "d/cortexlab/Subjects", *more).ok()
    folder = door.cwd / made.out.splitlines()[0].strip()
    (folder / "alf").mkdir()
    (folder / "alf" / "licks.times.csv").write_text("1.25\n", encoding="utf-8")
    return folder


def _start_times(door: Door) -> list[str | None]:
    events = door("audit", "--kind", "Session.RegistrationRequested", "--json").ok().json()
    return [event["details"]["fields"].get("start_time") for event in events]


def test_register_after_new_session_keeps_its_start_time_without_a_warning(door: Door) -> None:
    door.env.update(OFFLINE)
    folder = _new_session(door)

    ran = door("register", folder).ok()

    assert WARNING not in ran.err, ran.err
    started = _start_times(door)
    assert started[-1] is not None and started[-1].startswith(folder.parent.name)


def test_a_session_of_another_day_without_a_start_time_is_warned_of(door: Door) -> None:
    door.env.update(OFFLINE)
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    folder = _new_session(door, "--date", day)

    ran = door("register", folder).ok()

    assert f"{WARNING}; Alyx gets {day}T00:00:00" in ran.err
    assert _start_times(door)[-1] is None


def test_the_readme_python_example_gives_no_false_warning(door: Door) -> None:
    (block,) = [block for block in python_blocks() if "RegistrationClient()" in block]
    door.env.update(OFFLINE)

    ran = door.python(block + "\nimport json\nprint(json.dumps(client.warnings))\n").ok()

    warnings = json.loads(ran.out.splitlines()[-1])
    assert not [line for line in warnings if WARNING in line], warnings


@pytest.mark.usefixtures("actor")
@pytest.mark.parametrize(
    ("open_fields", "given", "sent"),
    [
        (None, {}, {}),
        (None, {"n_trials": 4}, {"n_trials": 4}),
        ({"start_time": "T1"}, {}, {"start_time": "T1"}),
        ({"start_time": "T1"}, {"n_trials": 4}, {"start_time": "T1", "n_trials": 4}),
        ({"start_time": "T1"}, {"start_time": "T2"}, {"start_time": "T2"}),
    ],
    ids=["nothing", "fields only", "open start", "merged", "newer wins"],
)
def test_the_fields_a_registration_will_send(
    open_fields: dict[str, Any] | None, given: dict[str, Any], sent: dict[str, Any]
) -> None:
    session = Session(
        lab="cortexlab", subject="algernon", date="2026-11-21", number="001", folder="f"
    )
    if open_fields is not None:
        session.request_registration(open_fields)
    assert session.fields_to_send(given) == sent
