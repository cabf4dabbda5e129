"""Offline first: with no Alyx configured every command records its work, says it is queued and
exits 0; the queue is visible, nothing is sent, and bad input changes nothing."""

from __future__ import annotations

import pytest

from labledger.domain.exit_status import STILL_QUEUED
from tests.cli_helpers import Cli


@pytest.fixture
def offline(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("LABLEDGER_LAB", "cortexlab")
    monkeypatch.setenv("LABLEDGER_ALYX_USER", "test_user")
    return cli


def _pending(cli: Cli) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = cli("status", "--json").json()
    return rows


def test_register_offline_is_queued(offline: Cli) -> None:
    session = offline.session()
    result = offline("register", str(session), "--start-time", "2026-11-21T09:30:00")
    assert result.code == 0, result.err
    assert "queued" in result.out and "no Alyx server configured" in result.out
    (row,) = _pending(offline)
    assert row["pending"] == 7  # the session and its 6 datasets
    again = offline("register", str(session), "--start-time", "2026-11-21T09:30:00")
    assert again.code == 0
    (row,) = _pending(offline)
    assert row["pending"] == 7  # asking twice queues nothing new


def test_sync_offline_keeps_the_queue(offline: Cli) -> None:
    session = offline.session()
    offline("register", str(session))
    events = offline.event_count()
    result = offline("sync")
    assert result.code == STILL_QUEUED and "queued" in result.out
    assert offline.event_count() == events


def test_weigh_and_water_offline_are_queued_once(offline: Cli) -> None:
    for _ in range(2):
        result = offline("weigh", "algernon", "25.3", "--date-time", "2026-11-21T10:00:00")
        assert result.code == 0 and "queued" in result.out
        result = offline(
            "water",
            "algernon",
            "0.8",
            "--date-time",
            "2026-11-21T10:05:00",
            "--water-type",
            "Water 10% Sucrose",
        )
        assert result.code == 0
    sync = offline("sync", "--json")
    (row,) = sync.json()
    assert row["action"] == "2 pending" and row["outcome"] == "queued"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("weigh", "algernon", "0"), "weight of algernon 0 g must be greater than 0"),
        (("weigh", "algernon", "-3"), "must be greater than 0"),
        (("water", "algernon", "0"), "water volume for algernon 0 mL must be greater than 0"),
        (("weigh", "algernon", "20", "--date-time", "2026-11-21T10:00:00+02:00"), "UTC offset"),
        (("weigh", "algernon", "20", "--date-time", "07/14/21"), "not ISO 8601"),
    ],
)
def test_bad_values_change_nothing(offline: Cli, args: tuple[str, ...], message: str) -> None:
    result = offline(*args)
    assert result.code == 1 and message in result.err and result.err.count("\n") == 1
    assert offline.event_count() == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--start-time", "2026-11-22T10:00:00"), "is not on the session's date 2026-11-21"),
        (("--start-time", "2026-11-21T10:00:00+01:00"), "UTC offset"),
        (("--versions", "a", "b"), "2 versions given for 6 files"),
        (("--field", "path=x"), "would override what labledger computes"),
        (("--field", "nonsense"), "is not KEY=VALUE"),
        (("--n-trials", "-1"), "must be a whole number"),
    ],
)
def test_bad_register_input_changes_nothing(
    offline: Cli, flags: tuple[str, ...], message: str
) -> None:
    session = offline.session()
    result = offline("register", str(session), *flags)
    assert result.code == 1, result.out
    assert message in result.err and result.err.count("\n") == 1
    assert offline.event_count() == 0


def test_dry_run_prints_ones_bodies_and_records_nothing(offline: Cli) -> None:
    session = offline.session()
    result = offline("register", str(session), "--dry-run", "--start-time", "2026-11-21T09:30:00")
    assert result.code == 0
    create, files = result.json()
    assert create["request"] == "POST /sessions"
    assert list(create["body"]) == ["subject", "users", "type", "number", "lab", "start_time"]
    assert create["body"]["users"] == ["test_user"] and create["body"]["number"] == "001"
    body = files["body"]
    assert list(body) == [
        *("created_by", "path", "filenames", "hashes", "filesizes", "name", "exists"),
        *("server_only", "default", "versions", "check_protected", "labs"),
    ]
    assert body["path"] == "algernon/2026-11-21/001" and body["labs"] == "cortexlab"
    assert len(body["filenames"]) == 6 and all(len(h) == 32 for h in body["hashes"])
    assert offline.event_count() == 0
