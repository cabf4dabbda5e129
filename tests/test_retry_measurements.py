"""`retry` re-asks every refused weighing and water record of a subject, each its own measurement,
and the weigh, water and retry tables name the measurement of each row.

A subject holds many records of one kind: an open intent of the same kind is not the same work
unless it is the same measurement (its idempotency key). Entered as the operator does (the
installed `labledger` against the loopback Alyx server) and row by row on the pure aggregate.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from labledger.domain.measurements import shown_local
from labledger.domain.pending import intent_details
from labledger.domain.subject import Subject, describe_record
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.doors import Door

DAY = (dt.date.today() - dt.timedelta(days=2)).isoformat()
"""The measurements' day: two days ago, whatever day the tests run."""


def _water(subject: Subject, amount: float, at: str) -> str:
    return subject.request_water(amount, "Water", False, at, None, "u").operation_id


def _weighing(subject: Subject, amount: float, at: str) -> str:
    return subject.request_weighing(amount, at, "u").operation_id


def _intents(subject: Subject) -> dict[str, Any]:
    """The intents recorded so far (collected: the next call gives only newer ones)."""
    events: list[Any] = list(subject.collect_events())
    return {e.operation_id: e for e in events if e.KIND == "intent"}


@pytest.mark.usefixtures("actor")
@pytest.mark.parametrize("ask", [_water, _weighing], ids=["water", "weighing"])
def test_each_refused_measurement_is_asked_again_with_its_own_fields(ask: Any) -> None:
    subject = Subject(lab="cortexlab", nickname="algernon")
    first = ask(subject, 0.8, f"{DAY}T10:00:00")
    second = ask(subject, 0.5, f"{DAY}T11:00:00")
    for operation in (first, second):
        subject.record_failure(operation, "unknown water type", retryable=False)
    asked = _intents(subject)

    reopened = [
        subject.retry(op, type(asked[op]), intent_details(asked[op])) for op in (first, second)
    ]

    assert len(set(reopened)) == 2 and set(subject.open_intents) == set(reopened)
    assert subject.refused == {}
    again = _intents(subject)
    keys = [again[op].idempotency_key for op in reopened]
    assert keys == [asked[first].idempotency_key, asked[second].idempotency_key]


@pytest.mark.usefixtures("actor")
def test_the_same_measurement_asked_again_meanwhile_stands_for_its_retry() -> None:
    subject = Subject(lab="cortexlab", nickname="algernon")
    at = f"{DAY}T10:00:00"
    refused = _water(subject, 0.8, at)
    subject.record_failure(refused, "unknown water type", retryable=False)
    asked_anew = _water(subject, 0.8, at)  # the operator typed it again
    other = _water(subject, 0.5, at)  # another measurement, open too
    event = _intents(subject)[refused]

    operation = subject.retry(refused, type(event), intent_details(event))

    assert operation == asked_anew != other
    assert set(subject.open_intents) == {asked_anew, other}


@pytest.mark.parametrize(
    ("intent", "fields", "named"),
    [
        ("Subject.WeighingRequested", {"weight": 25.3, "date_time": f"{DAY}T10:00:00"}, "25.3 g"),
        (
            "WaterAdministrationRequested",
            {"volume": 0.8, "water_type": "Water 10% Sucrose", "adlib": False},
            "0.8 mL Water 10% Sucrose at",
        ),
        (
            "WaterAdministrationRequested",
            {"volume": 1.0, "water_type": "Water", "adlib": True},
            "1 mL Water adlib at",
        ),
    ],
)
def test_a_record_is_named_by_its_measurement(
    intent: str, fields: dict[str, Any], named: str
) -> None:
    text = describe_record(intent, {"date_time": f"{DAY}T10:00:00", **fields})
    assert text.startswith(named) and text.endswith(f"at {DAY} 10:00 (local)")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (f"{DAY}T10:00:00", f"{DAY} 10:00"),
        (f"{DAY}T10:00:07", f"{DAY} 10:00:07"),
        ("not a time", "not a time"),
    ],
)
def test_local_times_are_shown_to_the_minute_unless_seconds_were_given(
    value: str, shown: str
) -> None:
    assert shown_local(value) == shown


def test_retry_posts_every_refused_record_of_a_subject(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Two waters and two weighings of an animal Alyx does not have yet are refused; once it
    is created, `retry` posts all four, each row naming its own measurement."""
    door.env.update(alyx_env(server, tmp_path))
    asks = [
        ("water", "newmouse", "0.8", "--date-time", f"{DAY}T10:00:00"),
        ("water", "newmouse", "0.5", "--date-time", f"{DAY}T11:00:00"),
        ("weigh", "newmouse", "21.5", "--date-time", f"{DAY}T10:00:00"),
        ("weigh", "newmouse", "21.7", "--date-time", f"{DAY}T11:00:00"),
    ]
    for ask in asks:
        assert door(*ask).code == 1
    server.state.add_subject("newmouse")

    ran = door("retry", "--json").ok().json()

    asked = [row["target"] for row in ran if row["outcome"] == "asked again"]
    done = [row["target"] for row in ran if row["outcome"] == "done"]
    assert len(set(asked)) == 4 and sorted(done) == sorted(asked)
    assert f"newmouse: 0.5 mL Water at {DAY} 11:00 (local)" in done
    assert f"newmouse: 21.7 g at {DAY} 11:00 (local)" in done
    snapshot = server.state.snapshot()
    waters = sorted(w["water_administered"] for w in snapshot["water_administrations"])
    assert waters == [0.5, 0.8]
    assert sorted(w["weight"] for w in snapshot["weighings"]) == [21.5, 21.7]
    assert door("retry").ok().out.strip() == "nothing to retry: no work was refused"
    assert door("pending", "--json").ok().json() == []


def test_weigh_reports_its_own_weighing_only(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """A water record queued earlier (no server then) is sync's work: `weigh` lists one row."""
    env = alyx_env(server, tmp_path)
    door.env.update({name: value for name, value in env.items() if "BASE_URL" not in name})
    door("water", "algernon", "0.8").ok()
    door.env.update(env)

    rows = door("weigh", "algernon", "25.3", "--date-time", f"{DAY}T10:00:00", "--json").json()

    assert [(r["target"], r["outcome"]) for r in rows] == [
        (f"algernon: 25.3 g at {DAY} 10:00 (local)", "done")
    ]
    assert len(door("pending", "--json").ok().json()) == 1  # the water still waits for sync
