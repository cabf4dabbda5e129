"""A day of a rig, recorded through the ledger's public methods: the scenario the projection tests
fold. Every kind of row and event appears: a registered session with a protected file moved into
a revision, a session whose file Alyx refused, a retry, weighing and water, a manifest confirmed,
a watchdog restart still pending.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from labledger.domain import provenance
from labledger.domain.alf import SessionRef
from labledger.domain.dataset import Dataset
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.domain.observations import SessionScan
from labledger.domain.provenance import Provenance
from labledger.domain.subject import Subject
from labledger.domain.watchdog import WatchdogService
from tests.conftest import TEST_ACTOR, new_run
from tests.test_ledger_scenarios import FIRST_SCAN, FOLDER, REF, observed

OTHER = SessionRef(
    lab="cortexlab", subject="algernon", date=datetime.date(2026, 11, 21), number="002"
)
OTHER_FOLDER = "/data/cortexlab/Subjects/algernon/2026-11-21/002"
EID = "b5f5a2c4-7d1e-4f0a-9c1b-2e3d4f5a6b7c"
MOVED_TO = "alf/#2026-11-21#/spikes.times.npy"
NIGHT = Provenance(
    alyx_user="night_op",
    os_user="rig",
    host="rig-02",
    tool_version=TEST_ACTOR.tool_version,
    operation_id="00000000-0000-4000-8000-0000000000aa",
)
"""Another operator, on another rig, who weighs and waters at night."""

Step = Callable[[Ledger], Any]


def _pending(ledger: Ledger, intent: str) -> Any:
    return next(p for p in ledger.pending_intents() if p.intent == intent)


def _register_session(ledger: Ledger) -> None:
    ledger.request_session_registration(REF, FOLDER)
    for path in ("alf/spikes.times.npy", "alf/licks.times.npy"):
        ledger.request_dataset_registration(Dataset.create_id(session_id_of(REF), path))


def _session_refused_once(ledger: Ledger) -> None:
    op = _pending(ledger, "Session.RegistrationRequested").operation_id
    ledger.record_failure(session_id_of(REF), op, "Alyx unreachable", retryable=True)


def _session_registered(ledger: Ledger) -> None:
    op = _pending(ledger, "Session.RegistrationRequested").operation_id
    ledger.record_session_registered(session_id_of(REF), op, EID, {"id": EID})


def _licks_registered(ledger: Ledger) -> None:
    licks = Dataset.create_id(session_id_of(REF), "alf/licks.times.npy")
    op = ledger.dataset(licks).open_registration()
    assert op is not None
    ledger.record_dataset_registered(licks, op, "d-licks", "", True, [], {"id": "d-licks"})


def _spikes_protected_and_moved(ledger: Ledger) -> None:
    spikes = Dataset.create_id(session_id_of(REF), "alf/spikes.times.npy")
    ledger.note_revision_protected(spikes, [{"": True}], today="2026-11-21")
    move = ledger.request_move(spikes, MOVED_TO, why="protected original")
    arrived = ledger.record_moved(spikes, move, "alf/spikes.times.npy", MOVED_TO)
    op = ledger.dataset(arrived).open_registration()
    assert op is not None
    ledger.record_dataset_registered(
        arrived, op, "d-spikes", "2026-11-21", True, [], {"id": "d-spikes"}
    )


def _other_session_refused(ledger: Ledger) -> None:
    ledger.record_scans([SessionScan(OTHER, OTHER_FOLDER, (observed("alf/wheel.position.npy"),))])
    wheel = Dataset.create_id(session_id_of(OTHER), "alf/wheel.position.npy")
    op = ledger.request_dataset_registration(wheel)
    ledger.record_failure(wheel, op, "Alyx refused: unknown repository", retryable=False)


def _weighing_and_water(ledger: Ledger) -> None:
    with provenance.acting_as(NIGHT):
        weigh = ledger.ask_weighing(
            "cortexlab", "algernon", 21.5, "2026-11-21T09:00:00", "night_op"
        ).operation_id
        ledger.record_subject_posted(
            Subject.create_id("cortexlab", "algernon"), weigh, "w/1", {"url": "w/1"}
        )
        water = ledger.ask_water(
            "cortexlab", "algernon", 0.5, "Water", False, "2026-11-21T10:00:00", None, "night_op"
        ).operation_id
        ledger.record_failure(
            Subject.create_id("cortexlab", "algernon"), water, "Alyx timed out", retryable=True
        )


def _manifest(ledger: Ledger) -> None:
    session_id = session_id_of(REF)
    op = ledger.request_manifest(session_id, "manifest_algernon.yml", "/watch/flags")
    ledger.record_manifest_emitted(session_id, op, "/watch/flags/manifest_algernon.yml", "f" * 64)
    ledger.confirm_transfer(session_id, "/watch/flags/manifest_complete/manifest_algernon.yml")


def _restart(ledger: Ledger) -> None:
    ledger.request_watchdog_restart("rig-01", "/opt/watchdog", "/etc/watchdog.yml", ["-c", "x"])


STEPS: list[Step] = [
    lambda ledger: ledger.record_scans([FIRST_SCAN]),
    _register_session,
    _session_refused_once,
    _session_registered,
    _licks_registered,
    _spikes_protected_and_moved,
    _other_session_refused,
    _weighing_and_water,
    _manifest,
    _restart,
]


def run_step(ledger: Ledger, step: Step) -> None:
    """Each step is its own command run (its own operation id)."""
    with provenance.acting_as(new_run()):
        step(ledger)


def run_all(ledger: Ledger) -> None:
    for step in STEPS:
        run_step(ledger, step)


SERVICE_ID = str(WatchdogService.create_id("rig-01"))
