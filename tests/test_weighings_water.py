"""Weighings and water (issue 10): impossible values refused, a water record that waits for its
session, a re-run after a timeout or crash recognised, and JSON that stays JSON.

Entered as users enter: the CLI (`online`/`cli`), the installed `labledger` in a subprocess with a
scratch HOME, and the RegistrationClient, against the loopback Alyx server; the value and window
rules also row by row on the pure domain. Dates are relative to now.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from labledger import RegistrationClient
from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.settings import Settings
from labledger.domain import provenance
from labledger.domain.exit_status import STILL_QUEUED
from labledger.domain.measurements import (
    MAX_WATER_ML,
    MAX_WEIGHT_G,
    InvalidMeasurement,
    water_millilitres,
    weight_grams,
)
from labledger.domain.session import Session
from labledger.domain.session_link import link_to, parse_link
from labledger.domain.subject import REPEAT_WINDOW, Asked, Subject
from labledger.projections.render import to_csv, to_json
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE, Cli
from tests.conftest import new_run

TODAY = dt.date.today()
DAY = (TODAY - dt.timedelta(days=3)).isoformat()
"""The sessions' day: a few days ago, whatever day the tests run."""
START = f"{DAY}T09:30:00"
KEY = f"cortexlab/algernon/{DAY}/001"


def _strict_json(text: str) -> Any:
    """JSON as any other language reads it: `Infinity` and `NaN` are errors."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def _one_line_error(result: Any, *words: str) -> None:
    assert result.code == 1, result.out + result.err
    assert result.err.count("\n") == 1, result.err
    for word in words:
        assert word in result.err, (word, result.err)


# -- values: pure rules, row by row --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (math.inf, ("weight inf g", "not a finite number", "in g")),
        (-math.inf, ("weight -inf g", "not a finite number")),
        (math.nan, ("weight nan g", "not a finite number")),
        (0.0, ("weight 0 g", "must be greater than 0")),
        (-3.0, ("weight -3 g", "must be greater than 0")),
        (MAX_WEIGHT_G + 0.1, ("weight 20000.1 g", "more than 20000 g", "lab animal weighs")),
        (25300.0, ("weight 25300 g", "more than 20000 g")),
    ],
)
def test_weights_refused(value: float, words: tuple[str, ...]) -> None:
    with pytest.raises(InvalidMeasurement) as caught:
        weight_grams(value)
    assert "\n" not in str(caught.value)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("value", "kept"),
    [(25.31234, 25.31), (0.0004, 0.0004), (MAX_WEIGHT_G, MAX_WEIGHT_G), (1.2345e3, 1234.0)],
)
def test_weights_accepted(value: float, kept: float) -> None:
    assert weight_grams(value) == kept


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (math.inf, ("water volume inf mL", "not a finite number", "in mL")),
        (math.nan, ("water volume nan mL", "not a finite number")),
        (0.0, ("water volume 0 mL", "must be greater than 0")),
        (-0.5, ("must be greater than 0",)),
        (MAX_WATER_ML + 1, ("water volume 2001 mL", "more than 2000 mL", "given at once")),
        (1e9, ("more than 2000 mL",)),
    ],
)
def test_volumes_refused(value: float, words: tuple[str, ...]) -> None:
    with pytest.raises(InvalidMeasurement) as caught:
        water_millilitres(value)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(("value", "kept"), [(0.123456, 0.1235), (MAX_WATER_ML, MAX_WATER_ML)])
def test_volumes_accepted(value: float, kept: float) -> None:
    assert water_millilitres(value) == kept


@pytest.mark.usefixtures("actor")
@pytest.mark.parametrize("value", [math.inf, math.nan, MAX_WEIGHT_G * 2])
def test_the_subject_itself_refuses_what_cannot_be_true(value: float) -> None:
    """The domain refuses too, whoever calls it, and records nothing."""
    subject = Subject(lab="cortexlab", nickname="algernon")
    before = len(subject.pending_events)
    with pytest.raises(InvalidMeasurement, match="weight for algernon"):
        subject.request_weighing(value, "2026-01-01T10:00:00", "u")
    with pytest.raises(InvalidMeasurement, match="water volume for algernon"):
        subject.request_water(value, "Water", False, "2026-01-01T10:00:00", None, "u")
    assert len(subject.pending_events) == before


# -- values through the doors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("weigh", "algernon", "inf"), ("weight of algernon inf g", "not a finite number")),
        (("weigh", "algernon", "nan"), ("weight of algernon nan g", "not a finite number")),
        (("weigh", "algernon", "1e400"), ("weight of algernon inf g",)),
        (("weigh", "algernon", "25300"), ("weight of algernon 25300 g", "more than 20000 g")),
        (("water", "algernon", "inf"), ("water volume for algernon inf mL", "finite")),
        (("water", "algernon", "NaN"), ("water volume for algernon nan mL", "finite")),
        (("water", "algernon", "2500"), ("water volume for algernon 2500 mL", "more than 2000")),
    ],
)
def test_impossible_values_are_refused_in_one_line(
    online: Cli, server: AlyxTestServer, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    _one_line_error(online(*args), *words, "give the measured value")
    assert online.event_count() == 0
    state = server.state.snapshot()
    assert state["weighings"] == [] and state["water_administrations"] == []


def test_api_refuses_impossible_values(client: RegistrationClient, server: AlyxTestServer) -> None:
    with pytest.raises(InvalidMeasurement, match="weight of algernon inf g"):
        client.register_weight("algernon", math.inf)
    with pytest.raises(InvalidMeasurement, match="more than 2000 mL"):
        client.register_water_administration("algernon", 5000)
    assert server.state.snapshot()["weighings"] == []


def test_json_stays_json_with_an_infinite_weight_of_an_old_ledger(online: Cli) -> None:
    """An old ledger may hold `inf` (it was accepted before): every JSON report still parses,
    the value shown as the text "inf"."""
    ledger = open_ledger(Settings(store="sqlite", sqlite_path=online.ledger))
    with provenance.acting_as(new_run()):  # written as an old version did, without the checks
        subject = Subject(lab="cortexlab", nickname="algernon")
        key = "weighing/2026-01-01T10:00:00/inf"
        subject._trigger_intent(
            Subject.WeighingRequested,
            key,
            idempotency_key=key,
            weight=math.inf,
            date_time="2026-01-01T10:00:00",
            user="test_user",
        )
        ledger.save(subject)
    ledger.close()
    for command in (("audit", "--json"), ("pending", "--json")):
        result = online(*command)
        assert result.code == 0, result.err
        rows = _strict_json(result.out)
        assert any(row.get("details", {}).get("weight") == "inf" for row in rows), command
    csv_text = online("pending", "--csv").out
    assert "Infinity" not in csv_text and '"weight":"inf"' in csv_text.replace('""', '"')


@pytest.mark.parametrize(
    ("value", "shown"),
    [(math.inf, "inf"), (-math.inf, "-inf"), (math.nan, "nan"), (1.5, 1.5)],
)
def test_to_json_never_writes_invalid_json(value: float, shown: Any) -> None:
    rows = [{"weight": value, "details": {"nested": [value, {"deeper": (value,)}]}}]
    (row,) = _strict_json(to_json(rows))
    assert row == {"weight": shown, "details": {"nested": [shown, {"deeper": [shown]}]}}
    assert "Infinity" not in to_csv(rows, ["weight", "details"])


# -- a water record that waits for its session ---------------------------------------------------


def _session(root: Path, day: str = DAY, number: str = "001") -> Path:
    target = root / "cortexlab" / "Subjects" / "algernon" / day / number
    shutil.copytree(SAMPLE, target)
    return target


def _waters(server: AlyxTestServer) -> list[dict[str, Any]]:
    waters: list[dict[str, Any]] = server.state.snapshot()["water_administrations"]
    return waters


def test_water_for_a_session_not_yet_registered_waits_for_it(
    online: Cli, server: AlyxTestServer, tmp_path: Path
) -> None:
    """The folder is unknown to the ledger and to Alyx: the record is queued behind the session,
    later commands work, and registering the session lets sync send it, linked."""
    folder = _session(tmp_path)
    asked = online("water", "algernon", "0.8", "--session", str(folder), "--json")
    assert asked.code == 0, asked.err
    (row,) = asked.json()
    assert row["outcome"] == "queued"
    assert f"waits for session {KEY}, not on Alyx yet" in row["detail"]
    assert "labledger register" in row["detail"]

    (step,) = online("pending", "--json").json()
    assert step["action"] == "post the water administration"
    assert step["waits_for"].startswith(f"waits for session {KEY}")
    assert "register it" in step["waits_for"] and step["last_error"] is None
    assert "waits for" in online("pending").out  # the terminal shows the column

    weighed = online("weigh", "algernon", "25.3", "--json")
    assert weighed.code == 0, weighed.err
    assert {r["action"]: r["outcome"] for r in weighed.json()} == {"weighing": "done"}
    synced = online("sync", "--json")
    assert synced.code == STILL_QUEUED and [r["outcome"] for r in synced.json()] == ["queued"]
    assert _waters(server) == []

    registered = online("register", str(folder), "--start-time", START)
    assert registered.code == 0, registered.err
    (step,) = online("pending", "--json").json()
    assert step["waits_for"] is None, "the session is on Alyx now: nothing to wait for"
    synced = online("sync", "--json")
    assert synced.code == 0 and [r["outcome"] for r in synced.json()] == ["done"]
    (water,) = _waters(server)
    assert water["session"] == f"algernon/{DAY}/001" and water["water_administered"] == 0.8
    assert online("pending", "--json").json() == []


def test_water_for_a_session_only_alyx_knows_is_sent_linked(
    online: Cli, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Registered from another rig (another ledger): this ledger never saw the folder, Alyx has
    the session by subject, date and number, and the record is sent with its eid."""
    folder = _session(tmp_path)
    other = tmp_path / "other-rig.sqlite3"
    elsewhere = online(
        "register",
        str(folder),
        "--no-files",
        "--start-time",
        START,
        "--ledger",
        str(other),
        ledger=False,
    )
    assert elsewhere.code == 0, elsewhere.err
    result = online("water", "algernon", "0.5", "--session", str(folder), "--json")
    assert result.code == 0, result.err
    assert [r["outcome"] for r in result.json()] == ["done"]
    (water,) = _waters(server)
    assert water["session"] == f"algernon/{DAY}/001"


def test_water_for_a_session_registered_in_the_same_sync(
    cli: Cli, server: AlyxTestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Both queued offline: `pending` shows the water step behind the session's registration,
    and one sync performs the session first, then the linked water record."""
    env = alyx_env(server, tmp_path)
    for name, value in env.items():
        if name != "LABLEDGER_ALYX__BASE_URL":
            monkeypatch.setenv(name, value)
    folder = _session(tmp_path)
    assert cli("register", str(folder), "--no-files", "--start-time", START).code == 0
    assert cli("water", "algernon", "0.8", "--session", str(folder)).code == 0
    steps = cli("pending", "--json").json()
    assert [s["action"] for s in steps] == [
        "create or update the session",
        "post the water administration",
    ]
    assert steps[1]["waits_for"] == f"session {KEY}, registered first (step 1)"
    monkeypatch.setenv("LABLEDGER_ALYX__BASE_URL", env["LABLEDGER_ALYX__BASE_URL"])
    synced = cli("sync", "--json")
    assert synced.code == 0, synced.err
    assert [r["outcome"] for r in synced.json()] == ["done", "done"]
    (water,) = _waters(server)
    assert water["session"] == f"algernon/{DAY}/001"


def test_links_stored_by_earlier_versions_are_still_read(
    online: Cli, server: AlyxTestServer, tmp_path: Path
) -> None:
    """`ledger:<uuid>`: a session the ledger knows is resolved through its key (here on Alyx);
    one it does not know waits, saying so, and blocks nothing."""
    folder = _session(tmp_path)
    assert online("register", str(folder), "--no-files", "--start-time", START).code == 0
    known = Session.create_id("cortexlab", "algernon", DAY, "001")
    unknown = Session.create_id("cortexlab", "algernon", DAY, "009")
    ledger = open_ledger(Settings(store="sqlite", sqlite_path=online.ledger))
    for volume, session_id in ((0.4, known), (0.6, unknown)):
        with provenance.acting_as(new_run()):  # as an earlier version recorded them
            ledger.ask_water(
                "cortexlab",
                "algernon",
                volume,
                "Water",
                False,
                f"{DAY}T12:00:00",
                f"ledger:{session_id}",
                "test_user",
            )
    ledger.close()
    (waiting,) = [s for s in online("pending", "--json").json() if s["waits_for"]]
    assert waiting["details"]["volume"] == 0.6
    assert "which this ledger does not know" in waiting["waits_for"]
    synced = online("sync", "--json")
    assert synced.code == STILL_QUEUED, synced.err
    assert sorted(r["outcome"] for r in synced.json()) == ["done", "queued"]
    (water,) = _waters(server)
    assert water["water_administered"] == 0.4 and water["session"] == f"algernon/{DAY}/001"
    assert online("weigh", "algernon", "24").code == 0, "later commands are not blocked"


def test_session_of_another_subject_is_refused(online: Cli, tmp_path: Path) -> None:
    folder = _session(tmp_path)
    _one_line_error(
        online("water", "ZM_1085", "0.8", "--session", str(folder)),
        f"session {KEY} is of subject algernon, not ZM_1085",
    )
    assert online.event_count() == 0


@pytest.mark.parametrize(
    ("text", "eid", "key"),
    [
        (None, None, None),
        ("4e0b3320-47b7-416e-b842-c34dc9073be4", "4e0b3320-47b7-416e-b842-c34dc9073be4", None),
        (f"session:{KEY}", None, KEY),
        (f"session:algernon/{DAY}/002", None, f"algernon/{DAY}/002"),
        ("session:algernon/not-a-date/001", "session:algernon/not-a-date/001", None),
        ("ledger:not-a-uuid", "ledger:not-a-uuid", None),
    ],
)
def test_session_links_row_by_row(text: str | None, eid: str | None, key: str | None) -> None:
    link = parse_link(text)
    if text is None:
        assert link is None
        return
    assert link is not None and link.eid == eid
    assert (link.ref.key if link.ref else None) == key
    if key is not None:
        assert link.ref is not None and link_to(link.ref) == text
        lab = link.ref.lab or ""
        assert link.session_id == Session.create_id(
            lab, link.ref.subject, link.ref.date.isoformat(), link.ref.number
        )


# -- a re-run after a timeout or crash -----------------------------------------------------------


def _asked_records(cli: Cli) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = cli("audit", "--json").json()
    return [
        r
        for r in rows
        if r["event"] in ("Subject.WeighingRequested", "Subject.WaterAdministrationRequested")
    ]


@pytest.mark.parametrize(
    ("command", "endpoint", "collection"),
    [
        (("weigh", "algernon", "25.3"), "/weighings", "weighings"),
        (
            ("water", "algernon", "0.8", "--water-type", "Water 10% Sucrose", "--adlib"),
            "/water-administrations",
            "water_administrations",
        ),
    ],
)
def test_rerun_after_a_timeout_records_once_and_again_records_another(
    online: Cli,
    server: AlyxTestServer,
    command: tuple[str, ...],
    endpoint: str,
    collection: str,
) -> None:
    server.faults.lose_reply("POST", endpoint)  # the server stores it, the reply never comes
    first = online(*command)
    assert first.code == 0 and "queued" in first.out, first.err
    time.sleep(1.1)  # the re-run's "now" is another second: another idempotency key
    again = online(*command)
    assert again.code == 0, again.err
    notice = again.out.splitlines()[0]
    assert "the same" in notice and "was already recorded at" in notice
    assert "nothing new recorded (--again records another)" in notice
    assert TODAY.isoformat() in notice
    assert "already on Alyx" in again.out, "the first one's lost reply is adopted"
    assert len(server.state.snapshot()[collection]) == 1
    assert len(_asked_records(online)) == 1

    deliberate = online(*command, "--again")
    assert deliberate.code == 0, deliberate.err
    assert "already recorded" not in deliberate.out and "posted" in deliberate.out
    assert len(server.state.snapshot()[collection]) == 2
    assert len(_asked_records(online)) == 2


def test_rerun_with_json_keeps_stdout_json(online: Cli, server: AlyxTestServer) -> None:
    assert online("weigh", "algernon", "25.3", "--json").code == 0
    again = online("weigh", "algernon", "25.3", "--json")
    assert again.code == 0 and again.json() == []
    assert "was already recorded at" in again.err
    assert len(server.state.snapshot()["weighings"]) == 1


def test_other_values_and_given_times_are_other_records(
    online: Cli, server: AlyxTestServer
) -> None:
    assert online("weigh", "algernon", "25.3").code == 0
    other = online("weigh", "algernon", "25.4")
    assert other.code == 0 and "already recorded" not in other.out
    earlier = (dt.datetime.now() - dt.timedelta(hours=2)).replace(microsecond=0).isoformat()
    given = online("weigh", "algernon", "25.3", "--date-time", earlier)
    assert given.code == 0 and "already recorded" not in given.out
    twice = online("weigh", "algernon", "25.3", "--date-time", earlier)
    assert twice.code == 0 and f"already recorded at {earlier}" in twice.out
    assert len(server.state.snapshot()["weighings"]) == 3


# -- the Python API ------------------------------------------------------------------------------


def test_api_rerun_returns_the_first_record_and_again_records_another(
    client: RegistrationClient, server: AlyxTestServer
) -> None:
    first = client.register_weight("algernon", 25.3)
    assert first is not None and first["url"]
    time.sleep(1.1)
    assert client.register_weight("algernon", 25.3) == first
    assert any("was already recorded at" in w and "again=True" in w for w in client.warnings)
    second = client.register_weight("algernon", 25.3, again=True)
    assert second is not None and second["url"] != first["url"]
    assert len(server.state.snapshot()["weighings"]) == 2
    at = (dt.datetime.now() - dt.timedelta(hours=1)).replace(microsecond=0)
    assert client.register_weight("algernon", 26, at, "test_user") is not None  # ONE's params
    assert len(server.state.snapshot()["weighings"]) == 3


def test_api_water_waits_for_its_session(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    folder = _session(tmp_path)
    assert client.register_water_administration("algernon", 0.8, session=folder) is None
    (result,) = client.last_results
    assert result.outcome == "queued" and f"waits for session {KEY}" in result.detail
    again = client.register_water_administration("algernon", 0.8, session=str(folder))
    assert again is None and any("already recorded" in w for w in client.warnings)
    client.register_session(folder, file_list=False, start_time=START)
    record = client.register_water_administration("algernon", 0.8, session=folder, again=True)
    assert record is not None
    waters = _waters(server)
    assert len(waters) == 2 and {w["session"] for w in waters} == {f"algernon/{DAY}/001"}
    with pytest.raises(Exception, match="unknown water keyword"):
        client.register_water_administration("algernon", 0.8, sesion=folder)


# -- the installed command -----------------------------------------------------------------------


def test_installed_command_water_before_its_session(server: AlyxTestServer, tmp_path: Path) -> None:
    """The headline defect, exactly as a user meets it: exit 0 and queued, not exit 70; later
    weigh and sync work."""
    command = Path(sys.executable).parent / "labledger"
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env |= alyx_env(server, tmp_path)
    folder = _session(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), *args], env=env, capture_output=True, text=True, timeout=60
        )

    water = run("water", "algernon", "0.8", "--session", str(folder))
    assert water.returncode == 0, water.stderr
    assert "queued" in water.stdout and "waits for session" in water.stdout
    assert run("weigh", "algernon", "25.3").returncode == 0
    assert run("sync").returncode == STILL_QUEUED  # the water still waits for its session
    audit = run("audit", "--json")
    assert audit.returncode == 0
    assert [r for r in _strict_json(audit.stdout) if "Water" in r["event"]]
    assert len(server.state.snapshot()["weighings"]) == 1 and _waters(server) == []


# -- the repeat rule, row by row on the pure domain ----------------------------------------------

T0 = dt.datetime(2026, 3, 2, 10, 0, 0)
"""Any moment: the domain is given its times (no clock is read)."""


def _at(offset: dt.timedelta) -> str:
    return (T0 + offset).isoformat()


SECOND, MINUTE = dt.timedelta(seconds=1), dt.timedelta(minutes=1)


@pytest.mark.usefixtures("actor")
@pytest.mark.parametrize(
    ("later", "kwargs", "repeat"),
    [
        (0 * SECOND, {}, True),
        (1 * SECOND, {}, True),
        (9 * MINUTE + 59 * SECOND, {}, True),
        (10 * MINUTE, {}, True),
        (10 * MINUTE + SECOND, {}, False),
        (-5 * MINUTE, {}, True),
        (2 * SECOND, {"weight": 25.4}, False),
        (2 * SECOND, {"taken_now": False}, False),
        (0 * SECOND, {"taken_now": False}, True),
        (0 * SECOND, {"again": True}, False),
        (2 * SECOND, {"again": True}, False),
    ],
)
def test_weighing_repeat_rule(later: dt.timedelta, kwargs: dict[str, Any], repeat: bool) -> None:
    subject = Subject(lab="cortexlab", nickname="algernon")
    first = subject.request_weighing(25.3, _at(0 * SECOND), "u", taken_now=True)
    assert first.repeat_of is None
    options = {"weight": 25.3, "taken_now": True} | kwargs
    weight = options.pop("weight")
    asked = subject.request_weighing(weight, _at(later), "u", **options)
    assert (asked.operation_id == first.operation_id) is repeat
    assert asked.repeat_of == (_at(0 * SECOND) if repeat else None)
    assert len(subject.open_intents) == (1 if repeat else 2)


@pytest.mark.usefixtures("actor")
@pytest.mark.parametrize(
    ("change", "repeat"),
    [
        ({}, True),
        ({"volume": 0.9}, False),
        ({"water_type": "Hydrogel"}, False),
        ({"adlib": True}, False),
        ({"session": f"session:{KEY}"}, False),
    ],
)
def test_water_repeat_rule(change: dict[str, Any], repeat: bool) -> None:
    subject = Subject(lab="cortexlab", nickname="algernon")
    fields: dict[str, Any] = {"volume": 0.8, "water_type": "Water", "adlib": False}
    fields["session"] = None
    first = subject.request_water(**fields, date_time=_at(0 * SECOND), user="u", taken_now=True)
    asked = subject.request_water(
        **(fields | change), date_time=_at(30 * SECOND), user="u", taken_now=True
    )
    assert (asked.operation_id == first.operation_id) is repeat


@pytest.mark.usefixtures("actor")
def test_a_refused_record_is_no_reason_to_skip_the_next() -> None:
    subject = Subject(lab="cortexlab", nickname="algernon")
    first = subject.request_weighing(25.3, _at(0 * SECOND), "u", taken_now=True)
    subject.record_failure(first.operation_id, "subject unknown", retryable=False)
    asked = subject.request_weighing(25.3, _at(5 * SECOND), "u", taken_now=True)
    assert asked.operation_id != first.operation_id and asked.repeat_of is None


@pytest.mark.usefixtures("actor")
def test_again_takes_the_next_free_key_and_each_is_recorded_once() -> None:
    subject = Subject(lab="cortexlab", nickname="algernon")
    ops = [subject.request_weighing(25.3, _at(0 * SECOND), "u", again=True) for _ in range(3)]
    assert len({a.operation_id for a in ops}) == 3 and all(a.repeat_of is None for a in ops)
    base = f"weighing/{_at(0 * SECOND)}/25.3"
    assert sorted(subject.records) == [base, f"{base}#2", f"{base}#3"]
    assert dt.timedelta(minutes=10) == REPEAT_WINDOW
    assert Asked("op").repeat_of is None
