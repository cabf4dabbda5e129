"""The projection: how each event of the log changes the read-model rows. Pure.

A page of events is folded against a `RowSource` (the view store inside its transaction, or a
plain dict when rebuilding in memory); the fold reads only the rows the page touches and returns
what changed, so the store writes a page and its tracking position in one transaction. Replaying
the whole log from nothing and applying it page by page as it grows go through this one fold, so
they cannot disagree. It reads events as `LoggedEvent`s (`projections.logged`): plain values
decoded straight from the stored rows, whichever way the log was read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..domain import pending
from ..domain.session import Session
from .logged import LoggedEvent, as_logged
from .rows import (
    ROW_CLASSES,
    AuditEntry,
    DatasetRow,
    IntentRow,
    Row,
    ServiceRow,
    SessionRow,
    SubjectRow,
)
from .summaries import summarize

R = TypeVar("R", bound=Row)
RowKey = tuple[str, str]


class RowSource(Protocol):
    """Where rows written by earlier pages are read from."""

    def get(self, kind: str, row_id: str) -> dict[str, Any] | None:
        """The stored document of a row, or None."""
        ...


@dataclass
class PageChanges:
    """What one page changes: rows to write, intent rows to delete, audit entries to add."""

    upserts: list[Row] = field(default_factory=list)
    deletes: list[RowKey] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    position: int = 0
    """The last position folded: the tracking position to record with the page."""
    born: dict[RowKey, int] = field(default_factory=dict)
    """Rows first written in this page -> the position of the event that made them (rows are
    listed in that order, however the log was paged)."""


class PageFold:
    """Folds events (in log order) into row changes, reading earlier rows from `source`."""

    def __init__(self, source: RowSource) -> None:
        self._source = source
        self._rows: dict[RowKey, Row | None] = {}
        self._dirty: set[RowKey] = set()
        self._audit: list[AuditEntry] = []
        self._position = 0
        self._current = 0
        self._born: dict[RowKey, int] = {}

    # -- rows ----------------------------------------------------------------------------------

    def _get(self, cls: type[R], row_id: str) -> R | None:
        key = (cls.KIND, row_id)
        if key not in self._rows:
            doc = self._source.get(cls.KIND, row_id)
            self._rows[key] = cls.from_doc(doc) if doc is not None else None
        row = self._rows[key]
        return row if isinstance(row, cls) else None

    def _put(self, row: Row) -> None:
        key = (row.KIND, row.id)
        if self._rows.get(key) is None and key not in self._born:
            self._born[key] = self._current
        self._rows[key] = row
        self._dirty.add(key)

    def _delete(self, kind: str, row_id: str) -> None:
        key = (kind, row_id)
        self._rows[key] = None
        self._dirty.add(key)

    def changes(self) -> PageChanges:
        result = PageChanges(
            audit=list(self._audit), position=self._position, born=dict(self._born)
        )
        for key in sorted(self._dirty):
            row = self._rows[key]
            if row is None:
                result.deletes.append(key)
            else:
                result.upserts.append(row)
        return result

    # -- events --------------------------------------------------------------------------------

    def apply(self, position: int, event: LoggedEvent) -> None:
        """Fold one event: its aggregate's row, its intent row, and its audit entry."""
        self._position = max(self._position, position)
        self._current = position
        when = event.timestamp
        aggregate_id = event.originator_id
        aggregate, name = event.AGGREGATE, event.NAME
        if aggregate == "Session":
            self._session_event(event, aggregate_id, when)
        elif aggregate == "Dataset":
            self._dataset_event(event, aggregate_id, when)
        elif name == "Subject.Created":
            self._put(SubjectRow(aggregate_id, lab=event.lab, nickname=event.nickname))
        elif name == "WatchdogService.Created":
            self._put(ServiceRow(aggregate_id, machine=event.machine))
        session, subject, target = self._context(event, aggregate_id)
        details = pending.intent_details(event)
        self._intent_event(position, event, aggregate_id, session, subject, target, details)
        self._audit.append(
            AuditEntry(
                position,
                when,
                event.KIND,
                name,
                aggregate_id,
                session.id if session else None,
                session.key if session else "",
                subject,
                target if aggregate == "Dataset" else "",
                event.alyx_user,
                event.os_user,
                event.host,
                event.tool_version,
                event.operation_id,
                summarize(event),
                details,
            )
        )

    def _session_event(self, event: LoggedEvent, session_id: str, when: str) -> None:
        name = event.NAME
        if name == "Session.Created":
            row = SessionRow(
                session_id,
                key=Session.key_of(event.lab, event.subject, event.date, event.number),
                lab=event.lab,
                subject=event.subject,
                date=event.date,
                number=event.number,
                folder=event.folder,
                first_seen=when,
            )
        else:
            found = self._get(SessionRow, session_id)
            if found is None:
                return
            row = found
        row.last_event = when
        if name == "Session.Registered":
            row.eid, row.registered_at = event.eid, when
            row.last_error = row.last_error_at = None
        elif name in ("Session.RegistrationFailed", "Session.ManifestFailed"):
            row.last_error, row.last_error_at = event.reason, when
        elif name == "Session.ManifestRequested":
            row.manifest_name, row.transfer = event.name, "requested"
        elif name == "Session.ManifestEmitted":
            row.manifest_path, row.manifest_sha256 = event.path, event.sha256
            row.emitted_at, row.transfer = when, "emitted"
            row.last_error = row.last_error_at = None
        elif name == "Session.TransferConfirmed":
            row.transfer = "confirmed"
            if row.last_error is not None and row.last_error == row.stall:
                row.last_error = row.last_error_at = None  # any later error stays
            row.stall = None
        elif name == "Session.TransferStalled":
            row.transfer, row.last_error, row.last_error_at = "stalled", event.reason, when
            row.stall = event.reason
        self._put(row)

    def _dataset_event(self, event: LoggedEvent, dataset_id: str, when: str) -> None:
        name = event.NAME
        if name == "Dataset.Created":
            self._put(DatasetRow(dataset_id, session_id=event.session_id, rel_path=event.rel_path))
            return
        row = self._get(DatasetRow, dataset_id)
        if row is None:
            return
        if name == "Dataset.Discovered":
            row.state, row.rejection = "discovered", None
        elif name == "Dataset.Rejected":
            row.state, row.rejection = "rejected", event.reason
        elif name == "Dataset.Registered":
            row.state, row.alyx_id, row.revision = "registered", event.alyx_id, event.revision
            row.last_error = row.last_error_at = None
        elif name in ("Dataset.RegistrationFailed", "Dataset.MoveFailed"):
            row.last_error, row.last_error_at = event.reason, when
        elif name == "Dataset.RevisionProtected":
            row.state, row.protected = "protected", True
        elif name == "Dataset.Moved":
            row.state, row.moved_to = "moved", event.destination
            row.last_error = row.last_error_at = None
        elif name == "Dataset.MovedIn":
            row.moved_from = event.source
        self._put(row)
        session = self._get(SessionRow, row.session_id)
        if session is not None:
            session.last_event = when
            self._put(session)

    def _context(self, event: LoggedEvent, aggregate_id: str) -> tuple[SessionRow | None, str, str]:
        """The session, subject nickname and target (file, subject, machine) of an event."""
        aggregate = event.AGGREGATE
        if aggregate == "Session":
            session = self._get(SessionRow, aggregate_id)
            return session, session.subject if session else "", ""
        if aggregate == "Dataset":
            dataset = self._get(DatasetRow, aggregate_id)
            if dataset is None:
                return None, "", ""
            session = self._get(SessionRow, dataset.session_id)
            return session, session.subject if session else "", dataset.rel_path
        if aggregate == "Subject":
            subject = self._get(SubjectRow, aggregate_id)
            nickname = subject.nickname if subject else ""
            return None, nickname, nickname
        if aggregate == "WatchdogService":
            service = self._get(ServiceRow, aggregate_id)
            return None, "", service.machine if service else ""
        return None, "", ""

    def _intent_event(
        self,
        position: int,
        event: LoggedEvent,
        aggregate_id: str,
        session: SessionRow | None,
        subject: str,
        target: str,
        details: dict[str, Any],
    ) -> None:
        """Open an intent row, or answer one (pending's own rules: one truth for both)."""
        kind = event.KIND
        if kind == "intent":
            self._put(
                IntentRow(
                    IntentRow.row_id(aggregate_id, event.operation_id),
                    position=position,
                    aggregate_id=aggregate_id,
                    session_id=session.id if session else None,
                    subject=subject or None,
                    target=target,
                    intent=event.NAME,
                    operation_id=event.operation_id,
                    recorded_at=event.timestamp,
                    who=event.alyx_user or event.os_user,  # as `pending.opened`
                    host=event.host,
                    details=details,
                )
            )
            return
        if kind != "outcome":
            return
        row_id = IntentRow.row_id(aggregate_id, event.operation_id)
        row = self._get(IntentRow, row_id)
        if row is None:
            return
        # `pending.answer` closes the intent for any outcome but a retryable failure: only
        # those need the intent's pending form (two UUIDs parsed per outcome otherwise)
        answered = pending.answer(row.as_pending(), event) if event.field("retryable") else None
        if answered is None:
            self._delete(IntentRow.KIND, row_id)
        else:
            row.last_error, row.attempts = answered.last_error, answered.attempts
            self._put(row)


ROW_OF_AGGREGATE = {
    "Session": SessionRow.KIND,
    "Dataset": DatasetRow.KIND,
    "Subject": SubjectRow.KIND,
    "WatchdogService": ServiceRow.KIND,
}


def rows_read(events: Iterable[LoggedEvent]) -> set[RowKey]:
    """The rows that folding these events reads from earlier pages: each event's aggregate row,
    and the intent row an outcome answers (plus the sessions of the files, known once their
    rows are read). A store reads them in bulk before the page is folded."""
    keys: set[RowKey] = set()
    for event in events:
        kind = ROW_OF_AGGREGATE.get(event.AGGREGATE)
        if kind is not None:
            keys.add((kind, event.originator_id))
        if event.KIND == "outcome":
            keys.add((IntentRow.KIND, IntentRow.row_id(event.originator_id, event.operation_id)))
    return keys


class MemoryRows:
    """Rows kept in a dict: a RowSource for rebuilding (or checking) the views in memory."""

    def __init__(self) -> None:
        self.docs: dict[RowKey, dict[str, Any]] = {}
        self.born: dict[RowKey, int] = {}
        self.audit: list[AuditEntry] = []

    def get(self, kind: str, row_id: str) -> dict[str, Any] | None:
        return self.docs.get((kind, row_id))

    def write(self, changes: PageChanges) -> None:
        for row in changes.upserts:
            key = (row.KIND, row.id)
            self.docs[key] = row.to_doc()
            self.born.setdefault(key, changes.born.get(key, changes.position))
        for key in changes.deletes:
            self.docs.pop(key, None)
            self.born.pop(key, None)
        self.audit.extend(changes.audit)

    def rows(self, cls: type[R]) -> list[R]:
        """Rows of one kind in the order the view store lists them (the event that made them)."""
        keys = sorted(
            (key for key in self.docs if key[0] == cls.KIND),
            key=lambda key: (self.born[key], key[1]),
        )
        return [cls.from_doc(self.docs[key]) for key in keys]


def fold_pages(source: MemoryRows, events: Iterable[tuple[int, Any]], page: int) -> int:
    """Fold events into `source`, `page` at a time; returns the last position folded."""
    position = 0
    batch: list[tuple[int, Any]] = []
    for item in events:
        batch.append(item)
        if len(batch) == page:
            position = _fold_one(source, batch)
            batch = []
    if batch:
        position = _fold_one(source, batch)
    return position


def _fold_one(source: MemoryRows, batch: list[tuple[int, Any]]) -> int:
    fold = PageFold(source)
    for position, event in batch:
        fold.apply(position, as_logged(event))
    changes = fold.changes()
    source.write(changes)
    return changes.position


__all__ = [
    "ROW_CLASSES",
    "MemoryRows",
    "PageChanges",
    "PageFold",
    "RowKey",
    "RowSource",
    "fold_pages",
    "rows_read",
]
