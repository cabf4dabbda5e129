"""One scenario walked step by step through the ledger's public methods, on every store.

The `ledger` fixture runs each test on the in-memory store, an SQLite file and PostgreSQL.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import pytest

from labledger.domain import provenance
from labledger.domain.alf import SessionRef
from labledger.domain.dataset import Dataset
from labledger.domain.file_registration import RegisteredReply
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.domain.observations import Observed, Refused, SessionScan
from labledger.domain.recorded import UnknownOperation
from labledger.domain.session import ManifestAlreadyEmitted
from labledger.domain.subject import InvalidMeasurement, Subject
from tests.conftest import new_run

pytestmark = pytest.mark.usefixtures("actor")  # they drive the ledger directly, as rig-01

REF = SessionRef(
    lab="cortexlab", subject="algernon", date=datetime.date(2026, 11, 21), number="001"
)
FOLDER = "/data/cortexlab/Subjects/algernon/2026-11-21/001"


def observed(rel_path: str, md5: str = "0" * 32, size: int = 128, mtime_ns: int = 1) -> Observed:
    collection, _, name = rel_path.rpartition("/")
    object_attribute = ".".join(name.split(".")[:2])
    return Observed(rel_path, collection, "", name, size, mtime_ns, md5, object_attribute, "npy")


def refused(rel_path: str) -> Refused:
    collection, _, name = rel_path.rpartition("/")
    return Refused(rel_path, collection, "", name, "no-dataset-type", f"{name}: no dataset type")


FIRST_SCAN = SessionScan(
    REF,
    FOLDER,
    (
        observed("alf/spikes.times.npy", "a" * 32),
        observed("alf/licks.times.npy", "b" * 32),
        refused("raw/_iblrig_taskData.raw.jsonable"),
    ),
)


def test_scan_records_session_and_files_once(ledger: Ledger) -> None:
    [summary] = ledger.record_scans([FIRST_SCAN])
    assert (summary.discovered, summary.rejected, summary.unchanged) == (2, 1, 0)
    assert summary.session_key == "cortexlab/algernon/2026-11-21/001"
    assert summary.session_id == session_id_of(REF)

    session = ledger.find_session(REF)
    assert session is not None
    assert session.files == {
        "alf/spikes.times.npy": "discovered",
        "alf/licks.times.npy": "discovered",
        "raw/_iblrig_taskData.raw.jsonable": "rejected",
    }
    known = ledger.known_files(session.id)
    assert {path: file.state for path, file in known.items()} == {
        "alf/spikes.times.npy": "discovered",
        "alf/licks.times.npy": "discovered",
        "raw/_iblrig_taskData.raw.jsonable": "rejected",
    }
    assert known["alf/spikes.times.npy"].md5 == "a" * 32

    events_before = len(list(ledger.read_log()))
    [again] = ledger.record_scans([FIRST_SCAN])
    assert (again.discovered, again.rejected, again.unchanged) == (0, 0, 3)
    assert len(list(ledger.read_log())) == events_before, "an unchanged re-scan records nothing"


def test_aggregates_read_in_bulk_are_those_the_repository_builds(ledger: Ledger) -> None:
    """`Ledger.aggregates` (one query for many, where the store can) builds each aggregate
    exactly as `repository.get` does, and leaves out ids the ledger does not hold."""
    ledger.record_scans([FIRST_SCAN])
    session_id = session_id_of(REF)
    ids = [Dataset.create_id(session_id, o.rel_path) for o in FIRST_SCAN.files]
    absent = Dataset.create_id(session_id, "alf/never.seen.npy")
    found = ledger.aggregates([*ids, session_id, absent, ids[0]])
    assert set(found) == {*ids, session_id}
    for aggregate_id, aggregate in found.items():
        single: Any = ledger.repository.get(aggregate_id)
        assert type(aggregate) is type(single)
        assert (aggregate.version, vars(aggregate)) == (single.version, vars(single))


def test_known_files_follow_every_new_event(ledger: Ledger) -> None:
    """known_files answers from what it read last only while the log is unchanged."""
    ledger.record_scans([FIRST_SCAN])
    session_id = session_id_of(REF)
    spikes = Dataset.create_id(session_id, "alf/spikes.times.npy")
    before = ledger.known_files(session_id)
    assert before["alf/spikes.times.npy"].awaiting_registration
    before.clear()  # a caller's copy: changing it changes nothing in the ledger
    assert ledger.known_files(session_id)["alf/spikes.times.npy"].awaiting_registration
    operation = ledger.request_dataset_registration(spikes)
    ledger.record_datasets_registered(
        [RegisteredReply(spikes, operation, "9f7d2a1c", "", True, [], {"id": "9f7d2a1c"})]
    )
    assert not ledger.known_files(session_id)["alf/spikes.times.npy"].awaiting_registration


def test_changed_file_is_discovered_again(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    changed = SessionScan(REF, FOLDER, (observed("alf/spikes.times.npy", "c" * 32, mtime_ns=2),))
    [summary] = ledger.record_scans([changed])
    assert summary.discovered == 1
    history = ledger.history(Dataset.create_id(session_id_of(REF), "alf/spikes.times.npy"))
    assert [entry.event for entry in history] == [
        "Dataset.Created",
        "Dataset.Discovered",
        "Dataset.Discovered",
    ]
    assert history[-1].details["md5"] == "c" * 32


def test_every_event_says_who_where_and_with_what(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    for _, event in ledger.read_log():
        assert (event.alyx_user, event.os_user, event.host) == ("test_user", "operator", "rig-01")
        assert event.tool_version == "labledger test"
        assert event.operation_id == "00000000-0000-4000-8000-000000000001"


def test_session_registration_intent_and_outcomes(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    session_id = session_id_of(REF)
    operation = ledger.request_session_registration(REF, FOLDER, users=["test_user"])
    assert ledger.request_session_registration(REF, FOLDER) == operation, "asked twice, once"

    [pending] = ledger.pending_intents(session_id)
    assert (pending.intent, pending.operation_id) == ("Session.RegistrationRequested", operation)
    assert pending.details == {"fields": {"users": ["test_user"]}}

    with provenance.acting_as(new_run()):  # a later `sync` run records the outcome
        ledger.record_failure(session_id, operation, "Alyx is down", True)
    [still] = ledger.pending_intents()
    assert still.last_error == "Alyx is down"

    with provenance.acting_as(new_run()):
        ledger.record_session_registered(
            session_id,
            operation,
            "ca107fe1-8010-415d-9fe0-45e00f5e12df",
            {"id": "ca107fe1-8010-415d-9fe0-45e00f5e12df", "number": 1},
        )
    assert ledger.pending_intents() == []
    session = ledger.session(session_id)
    assert session.eid == "ca107fe1-8010-415d-9fe0-45e00f5e12df"
    assert session.alyx_record["number"] == 1, "the record as Alyx sent it is kept"
    outcome = ledger.history(session_id)[-1]
    assert outcome.operation_id == operation, "the outcome carries the intent's operation id"

    with pytest.raises(UnknownOperation):
        ledger.record_session_registered(session_id, operation, "again", {})


def test_final_failure_closes_the_intent(ledger: Ledger) -> None:
    session_id = session_id_of(REF)
    operation = ledger.request_session_registration(REF, FOLDER)
    ledger.record_failure(session_id, operation, "unknown subject", False)
    assert ledger.pending_intents() == []
    assert ledger.session(session_id).last_error == "unknown subject"


def test_pending_intents_in_order_per_session_and_overall(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    other = SessionRef("cortexlab", "ZM_1085", datetime.date(2026, 1, 10), "001")
    spikes = Dataset.create_id(session_id_of(REF), "alf/spikes.times.npy")
    first = ledger.request_session_registration(REF, FOLDER)
    second = ledger.request_session_registration(other, "/data/ZM_1085/2026-01-10/001")
    third = ledger.request_dataset_registration(spikes, hash="a" * 32)
    fourth = ledger.ask_weighing(
        "cortexlab", "algernon", 21.5, "2026-11-21T09:00:00", "test_user"
    ).operation_id

    overall = ledger.pending_intents()
    assert [p.operation_id for p in overall] == [first, second, third, fourth]
    assert [p.position for p in overall] == sorted(p.position for p in overall)
    assert [p.operation_id for p in ledger.pending_intents(session_id_of(REF))] == [first, third]
    assert [p.operation_id for p in ledger.pending_intents(session_id_of(other))] == [second]


def test_rejected_file_cannot_be_registered(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    raw = Dataset.create_id(session_id_of(REF), "raw/_iblrig_taskData.raw.jsonable")
    with pytest.raises(Exception, match="was rejected"):
        ledger.request_dataset_registration(raw)


def test_dataset_registration_protection_and_move(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    spikes = Dataset.create_id(session_id_of(REF), "alf/spikes.times.npy")
    registration = ledger.request_dataset_registration(spikes, hash="a" * 32)
    ledger.note_revision_protected(spikes, [{"": True}], today="2026-11-21")
    move = ledger.request_move(spikes, "alf/#2026-11-21#/spikes.times.npy", why="protected")
    assert move != registration
    assert [p.intent for p in ledger.pending_intents()] == [
        "Dataset.RegistrationRequested",
        "Dataset.MoveRequested",
    ]
    destination = "alf/#2026-11-21#/spikes.times.npy"
    arrived = ledger.record_moved(spikes, move, "alf/spikes.times.npy", destination)
    assert arrived == Dataset.create_id(session_id_of(REF), destination)
    (pending,) = ledger.pending_intents()
    assert (pending.intent, pending.aggregate_id) == ("Dataset.RegistrationRequested", arrived)
    moved_fields = {"hash": "a" * 32, "placed_by_move": True}  # its revision is decided
    assert pending.details["fields"] == moved_fields, "the request moves with the file"
    ledger.record_dataset_registered(
        arrived, pending.operation_id, "9f7d2a1c", "2026-11-21", True, [], {"id": "9f7d2a1c"}
    )
    assert ledger.pending_intents() == []
    kinds = [(e.event, e.kind) for e in ledger.history(spikes)][2:]
    assert kinds == [
        ("Dataset.RegistrationRequested", "intent"),
        ("Dataset.RevisionProtected", "fact"),
        ("Dataset.MoveRequested", "intent"),
        ("Dataset.Moved", "outcome"),
        ("Dataset.RegistrationRelocated", "outcome"),
    ]
    new = [(e.event, e.kind) for e in ledger.history(arrived)]
    assert new == [
        ("Dataset.Created", "fact"),
        ("Dataset.MovedIn", "fact"),
        ("Dataset.Discovered", "fact"),
        ("Dataset.RegistrationRequested", "intent"),
        ("Dataset.Registered", "outcome"),
    ]
    assert destination in ledger.session(session_id_of(REF)).files


def test_weighing_and_water_are_asked_once(ledger: Ledger) -> None:
    subject_id: UUID = Subject.create_id("cortexlab", "algernon")
    weigh = ledger.ask_weighing(
        "cortexlab", "algernon", 21.5, "2026-11-21T09:00:00", "test_user"
    ).operation_id
    with provenance.acting_as(new_run()):
        again = ledger.ask_weighing(
            "cortexlab", "algernon", 21.5, "2026-11-21T09:00:00", "test_user"
        ).operation_id
    assert again == weigh, "the same weighing asked in another run reuses the first intent"
    other = ledger.ask_weighing(
        "cortexlab", "algernon", 21.7, "2026-11-21T18:00:00", "test_user"
    ).operation_id
    assert other != weigh, "another weighing in the same run is its own intent"
    ledger.record_subject_posted(
        subject_id, weigh, "http://alyx.local/weighings/1", {"weight": 21.5}
    )
    subject: Subject = ledger.repository.get(subject_id)
    assert subject.records["weighing/2026-11-21T09:00:00/21.5"] == "recorded"
    assert (
        ledger.ask_weighing(
            "cortexlab", "algernon", 21.5, "2026-11-21T09:00:00", "test_user"
        ).operation_id
        == weigh
    ), "a recorded weighing is never asked for again"

    water = ledger.ask_water(
        "cortexlab",
        "algernon",
        0.5,
        "Water 10% Sucrose",
        False,
        "2026-11-21T10:00:00",
        None,
        "test_user",
    ).operation_id
    assert [p.operation_id for p in ledger.pending_intents()] == [other, water]
    ledger.record_failure(subject_id, water, "Alyx timed out", retryable=True)
    ledger.record_failure(subject_id, other, "unknown water type", retryable=False)
    assert [p.operation_id for p in ledger.pending_intents()] == [water]
    with pytest.raises(InvalidMeasurement, match="must be greater than 0"):
        ledger.ask_water("cortexlab", "algernon", 0, "Water", False, "2026-11-21", None, "u")
    with pytest.raises(InvalidMeasurement, match="weight for algernon -1 g"):
        ledger.ask_weighing("cortexlab", "algernon", -1, "2026-11-21", "u")


def test_manifest_emitted_once_unless_forced(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    session_id = session_id_of(REF)
    operation = ledger.request_manifest(session_id, "manifest_algernon.yml", "/watch/flags")
    assert ledger.request_manifest(session_id, "manifest_algernon.yml", "/watch/flags") == operation
    ledger.record_manifest_emitted(session_id, operation, "/watch/flags/m.yml", "f" * 64)
    with pytest.raises(ManifestAlreadyEmitted, match="--force"):
        ledger.request_manifest(session_id, "manifest_algernon.yml", "/watch/flags")
    with provenance.acting_as(new_run()):
        forced = ledger.request_manifest(session_id, "m", "/watch/flags", forced=True)
    assert forced != operation
    ledger.confirm_transfer(session_id, "/watch/flags/manifest_complete/m.yml")
    ledger.confirm_transfer(session_id, "/watch/flags/manifest_complete/m.yml")
    session = ledger.session(session_id)
    assert session.transfer == "confirmed"
    confirmations = [
        e for e in ledger.history(session_id) if e.event == "Session.TransferConfirmed"
    ]
    assert len(confirmations) == 1


def test_record_failure_answers_each_kind_of_intent(ledger: Ledger) -> None:
    ledger.record_scans([FIRST_SCAN])
    session_id = session_id_of(REF)
    spikes = Dataset.create_id(session_id_of(REF), "alf/spikes.times.npy")
    subject_id = Subject.create_id("cortexlab", "algernon")
    intents = [
        (session_id, ledger.request_session_registration(REF, FOLDER)),
        (session_id, ledger.request_manifest(session_id, "m.yml", "/watch")),
        (spikes, ledger.request_dataset_registration(spikes)),
        (spikes, ledger.request_move(spikes, "alf/#2026-11-21#/spikes.times.npy", "protected")),
        (
            subject_id,
            ledger.ask_weighing("cortexlab", "algernon", 20.0, "2026-11-21", "u").operation_id,
        ),
        (
            subject_id,
            ledger.ask_water(
                "cortexlab", "algernon", 1, "Water", False, "d", None, "u"
            ).operation_id,
        ),
    ]
    for aggregate_id, operation in intents:
        ledger.record_failure(aggregate_id, operation, "connection refused", retryable=True)
    assert [p.last_error for p in ledger.pending_intents()] == ["connection refused"] * 6
    failures = [
        entry.event
        for aggregate_id in (session_id, spikes, subject_id)
        for entry in ledger.history(aggregate_id)
        if entry.kind == "outcome"
    ]
    assert failures == [
        "Session.RegistrationFailed",
        "Session.ManifestFailed",
        "Dataset.RegistrationFailed",
        "Dataset.MoveFailed",
        "Subject.WeighingFailed",
        "Subject.WaterAdministrationFailed",
    ]
    assert ledger.session(session_id).last_error == "connection refused"


def test_repository_rebuilds_with_the_ledgers_projector(ledger: Ledger) -> None:
    """The ledger's repository applies events as eventsourcing's own projector does, minus its
    per-event protocol check: the same aggregate, at every version."""
    from eventsourcing.application import project_aggregate

    ledger.record_scans([FIRST_SCAN])
    spikes = Dataset.create_id(session_id_of(REF), "alf/spikes.times.npy")
    ledger.request_dataset_registration(spikes)
    events = list(ledger.events.get(spikes))
    for version in range(1, len(events) + 1):
        ours: Dataset = ledger.repository.get(spikes, version=version)
        theirs = project_aggregate(None, events[:version])
        assert vars(ours) == vars(theirs)
