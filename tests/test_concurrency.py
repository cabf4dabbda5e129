"""Two writers on one ledger: a conflicting save is refused, the command reloads and re-decides.

Run on SQLite and PostgreSQL (the memory store is private to one process, so it has no rivals).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.settings import Settings
from labledger.domain.alf import SessionRef
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.domain.observations import Observed, SessionScan

pytestmark = pytest.mark.usefixtures("actor")  # they drive the ledger directly, as rig-01

REF = SessionRef("cortexlab", "algernon", datetime.date(2026, 11, 21), "001")
FOLDER = "/data/cortexlab/Subjects/algernon/2026-11-21/001"


def _scan(*names: str) -> SessionScan:
    files = tuple(
        Observed(f"alf/{n}", "alf", "", n, 1, 1, "a" * 32, ".".join(n.split(".")[:2]), "npy")
        for n in names
    )
    return SessionScan(REF, FOLDER, files)


def test_conflicting_scan_is_decided_again(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store_settings.store == "memory":
        pytest.skip("an in-memory ledger has no other writer")
    mine, rival = open_ledger(store_settings), open_ledger(store_settings)
    real_save = mine.save
    calls: list[int] = []

    def save_after_rival(*aggregates: Any) -> Any:
        calls.append(len(aggregates))
        if len(calls) == 1:  # another rig records the same session first
            rival.record_scans([_scan("licks.times.npy")])
        return real_save(*aggregates)

    monkeypatch.setattr(mine, "save", save_after_rival)
    [summary] = mine.record_scans([_scan("spikes.times.npy")])

    assert len(calls) == 2, "the first save conflicted and the scan was decided again"
    assert summary.discovered == 1
    session = mine.session(session_id_of(REF))
    assert set(session.files) == {"alf/spikes.times.npy", "alf/licks.times.npy"}
    created = [e for _, e in mine.read_log() if type(e).__qualname__ == "Session.Created"]
    assert len(created) == 1, "one session, not two"
    mine.close()
    rival.close()


def test_outcome_after_a_concurrent_change(store_settings: Settings) -> None:
    if store_settings.store == "memory":
        pytest.skip("an in-memory ledger has no other writer")
    first, second = open_ledger(store_settings), open_ledger(store_settings)
    operation = first.request_session_registration(REF, FOLDER)
    second.record_scans([_scan("spikes.times.npy")])  # moves the session to a newer version
    first.record_session_registered(session_id_of(REF), operation, "eid-1", {})
    assert second.session(session_id_of(REF)).eid == "eid-1"
    assert isinstance(first, Ledger) and second.pending_intents() == []
