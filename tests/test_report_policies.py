"""The pure pieces of the reports, row by row: the sync order table, the event phrases, which
session an operator means, and operator times as UTC bounds."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from uuid import UUID, uuid4

import pytest

from labledger.domain.errors import LabledgerError
from labledger.domain.event_catalog import event_classes
from labledger.domain.pending import PendingIntent
from labledger.domain.sync_order import STAGES, UNKNOWN, stage_of, sync_order
from labledger.projections.rows import SessionRow
from labledger.projections.selection import select_sessions
from labledger.projections.summaries import PHRASES
from labledger.scripts.report_commands import utc_bound

A, B = uuid4(), uuid4()


def intent(position: int, name: str, session: UUID | None) -> PendingIntent:
    return PendingIntent(position, uuid4(), session, name, f"op{position}", "", "who")


@pytest.mark.parametrize(
    ("name", "system", "rank", "per_session"),
    [
        ("Session.RegistrationRequested", "Alyx", 0, True),
        ("Dataset.MoveRequested", "Alyx", 1, True),
        ("Dataset.RegistrationRequested", "Alyx", 2, True),
        ("Subject.WeighingRequested", "Alyx", 3, False),
        ("Subject.WaterAdministrationRequested", "Alyx", 3, False),
        ("Session.ManifestRequested", "watchdog", 4, False),
        ("WatchdogService.RestartRequested", "watchdog", 5, False),
    ],
)
def test_each_stage_row(name: str, system: str, rank: int, per_session: bool) -> None:
    stage = STAGES[name]
    assert (stage.system, stage.rank, stage.per_session) == (system, rank, per_session)


def test_every_intent_class_has_a_stage() -> None:
    intents = {
        cls.__qualname__ for cls in event_classes().values() if getattr(cls, "KIND", "") == "intent"
    }
    assert intents == set(STAGES)
    assert stage_of(intent(1, "Future.SomethingRequested", None)) is UNKNOWN


def test_sync_order_groups_sessions_then_records_then_watchdog() -> None:
    log = [
        intent(1, "Session.ManifestRequested", A),
        intent(2, "Dataset.RegistrationRequested", B),
        intent(3, "Subject.WaterAdministrationRequested", None),
        intent(4, "Dataset.RegistrationRequested", A),
        intent(5, "Session.RegistrationRequested", A),
        intent(6, "Dataset.MoveRequested", A),
        intent(7, "Session.RegistrationRequested", B),
        intent(8, "WatchdogService.RestartRequested", None),
        intent(9, "Subject.WeighingRequested", None),
    ]
    assert [i.position for i in sync_order(log)] == [
        # B's work was recorded first (2): B's session (7), then its file (2)
        7,
        2,
        # then A: session, move, file
        5,
        6,
        4,
        # weighings and water in log order, then the manifest, then the restart
        3,
        9,
        1,
        8,
    ]


def test_every_event_class_has_a_phrase() -> None:
    assert {cls.__qualname__ for cls in event_classes().values()} == set(PHRASES)


def _session(key: str, folder: str, eid: str | None = None) -> SessionRow:
    return SessionRow(str(uuid4()), key=key, folder=folder, eid=eid)


ROWS = [
    _session(
        "cortexlab/algernon/2026-11-21/001",
        "/data/cortexlab/Subjects/algernon/2026-11-21/001",
        "e-1",
    ),
    _session(
        "cortexlab/algernon/2026-11-21/002", "/data/cortexlab/Subjects/algernon/2026-11-21/002"
    ),
    _session("hoferlab/algernon/2026-11-21/001", "/data/hoferlab/Subjects/algernon/2026-11-21/001"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cortexlab/algernon/2026-11-21/001", [0]),
        ("algernon/2026-11-21/002", [1]),
        ("algernon/2026-11-21/001", [0, 2]),  # the same tail in two labs: both
        ("e-1", [0]),
        ("/data/hoferlab/Subjects/algernon/2026-11-21/001", [2]),
        ("/data/cortexlab/Subjects/algernon/2026-11-21/002/alf/licks.times.npy", [1]),
    ],
)
def test_sessions_by_key_tail_eid_folder_or_file(text: str, expected: list[int]) -> None:
    path = PurePath(text) if text.startswith("/") else PurePath("/x") / text
    chosen = select_sessions(ROWS, [text], [(path,)])
    assert chosen == [ROWS[i] for i in expected]


def test_an_unknown_session_is_refused_with_the_fix() -> None:
    with pytest.raises(LabledgerError, match=r"no session 'algernon/2026-11-22/001' in the ledger"):
        select_sessions(ROWS, ["algernon/2026-11-22/001"], [(PurePath("/x/a/2026-11-22/001"),)])


def test_times_become_utc_bounds() -> None:
    assert utc_bound("2026-11-21T10:00:00+01:00", "--since", end_of_day=False) == (
        "2026-11-21T09:00:00+00:00"
    )
    assert utc_bound("2026-11-21T00:00:00Z", "--until", end_of_day=True) == (
        "2026-11-21T00:00:00+00:00"
    )
    local_midnight = dt.datetime(2026, 11, 22).astimezone().astimezone(dt.UTC).isoformat()
    assert utc_bound("2026-11-21", "--until", end_of_day=True) == local_midnight, (
        "a date-only --until includes that whole (local) day"
    )
    assert utc_bound(None, "--since", end_of_day=False) is None
    with pytest.raises(LabledgerError, match="--since 'yesterday' is not an ISO date"):
        utc_bound("yesterday", "--since", end_of_day=False)
