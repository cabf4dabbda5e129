"""The read models on every store: incremental catch-up equals replay equals a fold in memory;
a page that fails part-way leaves the views at the previous page and the next catch-up ends in
the same state; the reports say what the scenario did.
"""

from __future__ import annotations

from typing import Any

import pytest

from labledger.adapters.database import view_store
from labledger.adapters.database.views import Views
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.projections.audit_query import AuditQuery
from labledger.projections.fold import MemoryRows, fold_pages
from labledger.projections.reports import pending_rows, status_rows
from labledger.projections.rows import ROW_CLASSES, DatasetRow, IntentRow, SessionRow
from tests.projection_scenario import EID, MOVED_TO, OTHER, SERVICE_ID, STEPS, run_all, run_step
from tests.test_ledger_scenarios import REF


def snapshot(views: Views) -> dict[str, Any]:
    """Everything the views hold, in the order reports list it."""
    rows = {kind: [row.to_doc() for row in views.rows(cls)] for kind, cls in ROW_CLASSES.items()}
    return {"rows": rows, "audit": [e.as_row() for e in views.audit(AuditQuery())]}


def memory_snapshot(ledger: Ledger) -> dict[str, Any]:
    """The same views folded in memory from the whole log, in one go."""
    memory = MemoryRows()
    fold_pages(memory, ledger.read_log(), page=1000)
    rows = {kind: [row.to_doc() for row in memory.rows(cls)] for kind, cls in ROW_CLASSES.items()}
    return {"rows": rows, "audit": [e.as_row() for e in memory.audit]}


def test_incremental_equals_replay_equals_memory(ledger: Ledger, views: Views) -> None:
    small_pages = Views(ledger, views.store, page=3)
    for step in STEPS:
        run_step(ledger, step)
        small_pages.catch_up()
        assert small_pages.pending_intents() == ledger.pending_intents()
    incremental = snapshot(views)
    assert views.position() == max(position for position, _ in ledger.read_log())
    assert views.replay() == views.position()
    assert snapshot(views) == incremental
    assert memory_snapshot(ledger) == incremental
    assert len(incremental["audit"]) == len(list(ledger.read_log()))


def test_catch_up_reads_only_new_events(ledger: Ledger, views: Views) -> None:
    run_step(ledger, STEPS[0])
    first = views.catch_up()
    assert views.catch_up() == first, "nothing new: nothing folded"
    run_step(ledger, STEPS[1])
    assert views.catch_up() > first
    assert len(views.audit(AuditQuery())) == len(list(ledger.read_log()))


def test_status_rows_of_the_scenario(ledger: Ledger, views: Views) -> None:
    run_all(ledger)
    views.catch_up()
    rows = status_rows(views.sessions(), views.datasets(), views.intents())
    by_key = {row["session"]: row for row in rows}
    first = by_key["cortexlab/algernon/2026-11-21/001"]
    counts = ("discovered", "rejected", "registered", "protected", "moved")
    assert {k: first[k] for k in counts} == {
        "discovered": 2,  # licks, and spikes at its new path
        "rejected": 1,
        "registered": 2,
        "protected": 1,
        "moved": 1,
    }
    assert (first["alyx_eid"], first["transfer"], first["manifest"]) == (
        EID,
        "confirmed",
        "manifest_algernon.yml",
    )
    assert first["pending"] == 0 and first["last_error"] is None, "the retry succeeded"
    second = by_key["cortexlab/algernon/2026-11-21/002"]
    assert second["pending"] == 0 and second["alyx_eid"] is None
    assert second["last_error"] == "alf/wheel.position.npy: Alyx refused: unknown repository"
    datasets = {row.rel_path: row for row in views.datasets([str(session_id_of(REF))])}
    assert datasets["alf/spikes.times.npy"].moved_to == MOVED_TO
    assert datasets[MOVED_TO].moved_from == "alf/spikes.times.npy"
    assert datasets[MOVED_TO].revision == "2026-11-21"


def test_pending_rows_follow_the_sync_order(ledger: Ledger, views: Views) -> None:
    run_all(ledger)
    views.catch_up()
    rows = pending_rows(views.intents(), views.sessions())
    assert [(r["step"], r["system"], r["intent"], r["target"]) for r in rows] == [
        (1, "Alyx", "Subject.WaterAdministrationRequested", "algernon"),
        (2, "watchdog", "WatchdogService.RestartRequested", "rig-01"),
    ]
    water = rows[0]
    assert (water["attempts"], water["last_error"]) == (1, "Alyx timed out")
    assert water["who"] == "night_op"
    assert rows[1]["aggregate_id"] == SERVICE_ID


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the subject, the weighing asked and recorded, the water asked and failed
        (AuditQuery(users=("night_op",)), 5),
        (AuditQuery(kinds=("Moved",)), 1),
        (AuditQuery(kinds=("Dataset.Moved", "MovedIn")), 2),
        (AuditQuery(kinds=("outcome",), subjects=("algernon",)), None),
        (AuditQuery(since="2999-01-01T00:00:00+00:00"), 0),
        (AuditQuery(until="2000-01-01T00:00:00+00:00"), 0),
        (AuditQuery(limit=3), 3),
    ],
)
def test_audit_filters_in_sql_match_the_filter_in_memory(
    ledger: Ledger, views: Views, query: AuditQuery, expected: int | None
) -> None:
    run_all(ledger)
    views.catch_up()
    everything = views.audit(AuditQuery())
    wanted = [entry for entry in everything if query.matches(entry)]
    if query.limit:
        wanted = wanted[-query.limit :]
    found = views.audit(query)
    assert found == wanted
    if expected is not None:
        assert len(found) == expected


def test_audit_by_session_keeps_its_files_and_leaves_the_other_session(
    ledger: Ledger, views: Views
) -> None:
    run_all(ledger)
    views.catch_up()
    other = str(session_id_of(OTHER))
    entries = views.audit(AuditQuery(session_ids=(other,)))
    assert {entry.session for entry in entries} == {"cortexlab/algernon/2026-11-21/002"}
    assert [e.event for e in entries if e.file] == [
        "Dataset.Created",
        "Dataset.Discovered",
        "Dataset.RegistrationRequested",
        "Dataset.RegistrationFailed",
    ]
    (failure,) = [e for e in entries if e.event == "Dataset.RegistrationFailed"]
    assert failure.summary == "file registration failed (refused): Alyx refused: unknown repository"
    assert (failure.alyx_user, failure.os_user, failure.host) == ("test_user", "operator", "rig-01")


def _fail_at(monkeypatch: pytest.MonkeyPatch, page: int, statement: int) -> None:
    """Make the `statement`-th write of the `page`-th page raise (0: fail the tracking insert)."""
    original_write = view_store.ViewQueries._write
    pages = {"n": 0}

    class Broken(Exception):
        pass

    class Cursor:
        def __init__(self, inner: Any) -> None:
            self.inner, self.count = inner, 0

        def execute(self, query: Any, params: Any = None) -> Any:
            self.count += 1
            if statement and self.count == statement:
                raise Broken(f"killed at write {statement} of page {page}")
            if params is None:
                return self.inner.execute(query)
            return self.inner.execute(query, params)

        def executemany(self, query: Any, params_seq: Any) -> Any:
            self.count += 1  # a page writes each kind of change in one statement
            if statement and self.count == statement:
                raise Broken(f"killed at write {statement} of page {page}")
            return self.inner.executemany(query, params_seq)

        def fetchone(self) -> Any:
            return self.inner.fetchone()

        def fetchall(self) -> Any:
            return self.inner.fetchall()

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def write(self: Any, c: Any, changes: Any) -> None:
        pages["n"] += 1
        if pages["n"] != page:
            return original_write(self, c, changes)
        original_write(self, Cursor(c), changes)
        if statement == 0:
            raise Broken(f"killed before the tracking position of page {page}")

    monkeypatch.setattr(view_store.ViewQueries, "_write", write)


@pytest.mark.parametrize(("page", "statement"), [(1, 1), (1, 0), (2, 2), (3, 0), (-1, 2)])
def test_a_page_that_fails_part_way_leaves_the_previous_page_and_resumes(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch, page: int, statement: int
) -> None:
    run_all(ledger)
    views.catch_up()
    reference = snapshot(views)
    log = [position for position, _ in ledger.read_log()]
    if page == -1:  # the last page
        page = (len(log) + 9) // 10
    paged = Views(ledger, views.store, page=10)
    paged.store.reset(ledger.name)
    with monkeypatch.context() as patch:
        _fail_at(patch, page, statement)
        with pytest.raises(Exception, match="killed"):
            paged.catch_up()
    done = log[(page - 1) * 10 - 1] if page > 1 else 0
    assert paged.position() == done, "the failed page left nothing; earlier pages stay"
    assert len(paged.audit(AuditQuery())) == len([p for p in log if p <= done])
    paged.catch_up()
    assert snapshot(paged) == reference


def test_two_readers_catching_up_at_once_fold_each_event_once(
    ledger: Ledger, views: Views, store_settings: Any
) -> None:
    if store_settings.store == "memory":
        pytest.skip("an in-memory ledger has one process")
    from labledger.adapters.database.views import open_view_store

    run_all(ledger)
    other = Views(ledger, open_view_store(store_settings), page=2)
    mine = Views(ledger, views.store, page=3)
    import threading

    errors: list[BaseException] = []

    def catch(v: Views) -> None:
        try:
            v.catch_up()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=catch, args=(v,)) for v in (mine, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert errors == []
    caught = snapshot(views)
    views.replay()
    assert caught == snapshot(views)


def test_rows_know_their_kind() -> None:
    assert {cls.KIND for cls in (SessionRow, DatasetRow, IntentRow)} <= set(ROW_CLASSES)
