"""The three reports, built from read-model rows: status, audit trail, pending work. Pure.

Each builder returns a `Report`: rows of plain values (JSON and CSV keep every field; the
terminal shows `TABLE_COLUMNS`) and, for the HTML page, a timeline per session it covers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from ..domain.session_link import parse_link, waits_for
from ..domain.sync_order import stage_of, sync_order
from .report_model import Timeline
from .rows import AuditEntry, DatasetRow, IntentRow, SessionRow

STATUS_COLUMNS = [
    "session",
    "discovered",
    "rejected",
    "registered",
    "protected",
    "moved",
    "pending",
    "alyx_eid",
    "manifest",
    "transfer",
    "last_error",
]
AUDIT_COLUMNS = ["when", "session", "subject", "file", "event", "kind", "who", "host", "summary"]
PENDING_COLUMNS = [
    "step",
    "system",
    "session",
    "target",
    "action",
    "since",
    "who",
    "attempts",
    "waits_for",
    "last_error",
]


def status_rows(
    sessions: Sequence[SessionRow], datasets: Iterable[DatasetRow], intents: Iterable[IntentRow]
) -> list[dict[str, Any]]:
    """One row per session: file counts, Alyx eid, hand-over, pending intents, latest error.

    discovered: valid files at their current path (registered or not); registered: on Alyx as
    they are now; protected: files that met a protected revision on Alyx; moved: files labledger
    moved into a revision folder (counted at their old path); rejected: files that cannot be
    registered. The latest error is the session's or any of its files' still unresolved one.
    """
    counts: dict[str, Counter[str]] = {}
    errors: dict[str, tuple[str, str]] = {}
    for dataset in datasets:
        tally = counts.setdefault(dataset.session_id, Counter())
        if dataset.state in ("discovered", "registered", "protected"):
            tally["discovered"] += 1
        if dataset.state in ("registered", "rejected", "moved"):
            tally[dataset.state] += 1
        if dataset.protected:
            tally["protected"] += 1
        if dataset.last_error and dataset.last_error_at:
            _keep_latest(
                errors, dataset.session_id, dataset.last_error_at, _on(dataset.rel_path, dataset)
            )
    pending = Counter(intent.session_id for intent in intents)
    rows = []
    for session in sessions:
        if session.last_error and session.last_error_at:
            _keep_latest(errors, session.id, session.last_error_at, session.last_error)
        tally = counts.get(session.id, Counter())
        rows.append(
            {
                "session": session.key,
                "discovered": tally["discovered"],
                "rejected": tally["rejected"],
                "registered": tally["registered"],
                "protected": tally["protected"],
                "moved": tally["moved"],
                "pending": pending.get(session.id, 0),
                "alyx_eid": session.eid,
                "manifest": session.manifest_name,
                "transfer": session.transfer,
                "last_error": errors.get(session.id, ("", None))[1],
                "last_error_at": errors.get(session.id, (None, None))[0],
                "folder": session.folder,
                "first_seen": session.first_seen,
                "last_event": session.last_event,
                "session_id": session.id,
            }
        )
    return rows


def short_time(iso: str | None) -> str | None:
    """A stored UTC time as a terminal shows it: '2026-11-21 14:30:05Z'."""
    return None if not iso else iso[:19].replace("T", " ") + "Z"


def _on(path: str, dataset: DatasetRow) -> str:
    return f"{path}: {dataset.last_error}"


def _keep_latest(found: dict[str, tuple[str, str]], key: str, when: str, text: str) -> None:
    if key not in found or found[key][0] <= when:
        found[key] = (when, text)


def audit_rows(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """One row per event: the terminal columns first, then every field of the entry."""
    rows = []
    for entry in entries:
        who = entry.alyx_user or entry.os_user
        rows.append(
            {
                "when": short_time(entry.recorded_at),
                "session": entry.session,
                "subject": entry.subject,
                "file": entry.file,
                "event": entry.event,
                "kind": entry.kind,
                "who": who,
                "host": entry.host,
                "summary": entry.summary,
                **entry.as_row(),
            }
        )
    return rows


def pending_rows(
    intents: Sequence[IntentRow], sessions: Iterable[SessionRow]
) -> list[dict[str, Any]]:
    """Every open intent in the order sync performs it, one numbered step each; `waits_for`
    says what a step cannot be performed without (a water record's session not on Alyx)."""
    by_id = {session.id: session for session in sessions}
    keys = {session_id: session.key for session_id, session in by_id.items()}
    by_operation = {(row.aggregate_id, row.operation_id): row for row in intents}
    ordered = sync_order([row.as_pending() for row in intents])
    registering = {
        str(intent.session_id): step
        for step, intent in enumerate(ordered, start=1)
        if intent.intent == SESSION_REGISTRATION
    }
    rows = []
    for step, intent in enumerate(ordered, start=1):
        row = by_operation[(str(intent.aggregate_id), intent.operation_id)]
        stage = stage_of(intent)
        rows.append(
            {
                "step": step,
                "system": stage.system,
                "session": keys.get(row.session_id or "", ""),
                "target": row.target or ("the session" if row.session_id else ""),
                "action": stage.action,
                "since": short_time(row.recorded_at),
                "recorded_at": row.recorded_at,
                "who": row.who,
                "attempts": row.attempts,
                "waits_for": _waits_for(row, by_id, registering),
                "last_error": row.last_error,
                "intent": row.intent,
                "subject": row.subject,
                "host": row.host,
                "operation_id": row.operation_id,
                "aggregate_id": row.aggregate_id,
                "session_id": row.session_id,
                "details": row.details,
            }
        )
    return rows


SESSION_REGISTRATION = "Session.RegistrationRequested"


def _waits_for(
    row: IntentRow, sessions: dict[str, SessionRow], registering: dict[str, int]
) -> str | None:
    """What a water record waits for: its session, when the ledger does not know it on Alyx
    (sync then asks Alyx, and sends it if Alyx holds it); None for anything else."""
    if row.intent != "Subject.WaterAdministrationRequested":
        return None
    link = parse_link(row.details.get("session"))
    if link is None or link.session_id is None:
        return None
    session = sessions.get(str(link.session_id))
    if session is not None and session.eid:
        return None
    if str(link.session_id) in registering:
        key = session.key if session is not None else link.shown
        return f"session {key}, registered first (step {registering[str(link.session_id)]})"
    if session is None:
        return waits_for(link)
    return waits_for(link, session.key, session.folder or None)


def timelines(headings: Sequence[dict[str, Any]], entries: Iterable[AuditEntry]) -> list[Timeline]:
    """A timeline per session row (in the rows' order), from the audit entries of the sessions."""
    events: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        if entry.session_id:
            events.setdefault(entry.session_id, []).append(entry)
    return [
        Timeline(
            session=heading["session"],
            heading={k: heading[k] for k in STATUS_COLUMNS if k != "session" and k in heading},
            events=sorted(events.get(heading["session_id"], []), key=lambda e: e.position),
        )
        for heading in headings
    ]
