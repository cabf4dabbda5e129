"""The rows of labledger's read models: plain values, stored as JSON documents by the view store.

One row per session, file (dataset), subject, watchdog service and open intent, plus one audit
entry per event. Rows hold only what reports need; the log stays the truth, and `labledger replay`
rebuilds every row from it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self
from uuid import UUID

from ..domain.pending import PendingIntent


def plain(value: dict[str, Any]) -> dict[str, Any]:
    """Event fields as JSON values (ids and dates as text), the form every store keeps."""
    result: dict[str, Any] = json.loads(json.dumps(value, default=str, sort_keys=True))
    return result


JSON = json.JSONEncoder(sort_keys=True, default=str, check_circular=False)
"""How rows and audit details are stored: keys sorted, ids and dates as text."""

_make_encoder: Any = vars(json.encoder).get("c_make_encoder")  # CPython's C encoder, if built
_encoder = (
    _make_encoder(
        None, str, json.encoder.encode_basestring_ascii, None, ": ", ", ", True, False, True
    )
    if _make_encoder is not None
    else None
)


def encode(value: Any) -> str:
    """`value` as JSON text, as `JSON.encode` writes it: through one C encoder made once
    (`JSON.encode` makes a new one per call, a good part of the time of a small document)."""
    if _encoder is None or not isinstance(value, dict):
        return JSON.encode(value)
    return "".join(_encoder(value, 0))


@dataclass
class Row:
    """A read-model row; `KIND` names its table of documents."""

    KIND: ClassVar[str] = ""
    id: str

    def to_doc(self) -> dict[str, Any]:
        """The row's fields as a document: a shallow copy of its attributes (its values are
        plain JSON values already, and the fold replaces them rather than changing them in
        place), not `dataclasses.asdict`, whose deep copy was most of a replay's time."""
        return dict(self.__dict__)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        return cls(**doc)


@dataclass
class SessionRow(Row):
    """A session: its key, its Alyx eid, its hand-over to the watchdog, its latest error."""

    KIND: ClassVar[str] = "session"
    key: str = ""
    lab: str = ""
    subject: str = ""
    date: str = ""
    number: str = ""
    folder: str = ""
    first_seen: str = ""
    last_event: str = ""
    eid: str | None = None
    registered_at: str | None = None
    manifest_name: str | None = None
    manifest_path: str | None = None
    manifest_sha256: str | None = None
    emitted_at: str | None = None
    transfer: str = "none"
    """'none', 'requested', 'emitted', 'confirmed' or 'stalled'."""
    last_error: str | None = None
    last_error_at: str | None = None
    stall: str | None = None
    """Why the transfer was last seen stalled, until it is confirmed (then no longer an error)."""


@dataclass
class DatasetRow(Row):
    """A file of a session, at one path: what the scan and Alyx made of it."""

    KIND: ClassVar[str] = "dataset"
    session_id: str = ""
    rel_path: str = ""
    state: str = "new"
    """'new', 'discovered', 'rejected', 'registered', 'protected' or 'moved' (as the aggregate)."""
    rejection: str | None = None
    alyx_id: str | None = None
    revision: str | None = None
    protected: bool = False
    """Alyx reported a protected revision of it (the file then moves or is refused)."""
    moved_to: str | None = None
    moved_from: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None


@dataclass
class SubjectRow(Row):
    KIND: ClassVar[str] = "subject"
    lab: str = ""
    nickname: str = ""


@dataclass
class ServiceRow(Row):
    """The watchdog service of one machine."""

    KIND: ClassVar[str] = "service"
    machine: str = ""


@dataclass
class IntentRow(Row):
    """An intent without its final outcome yet: what sync would perform."""

    KIND: ClassVar[str] = "intent"
    position: int = 0
    aggregate_id: str = ""
    session_id: str | None = None
    subject: str | None = None
    target: str = ""
    """The file, subject or machine the intent is about ('' for the session itself)."""
    intent: str = ""
    operation_id: str = ""
    recorded_at: str = ""
    who: str = ""
    host: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    attempts: int = 0

    @staticmethod
    def row_id(aggregate_id: UUID | str, operation_id: str) -> str:
        return f"{aggregate_id}:{operation_id}"

    def as_pending(self) -> PendingIntent:
        """The intent as the executors take it."""
        return PendingIntent(
            position=self.position,
            aggregate_id=UUID(self.aggregate_id),
            session_id=UUID(self.session_id) if self.session_id else None,
            intent=self.intent,
            operation_id=self.operation_id,
            recorded_at=self.recorded_at,
            who=self.who,
            details=self.details,
            last_error=self.last_error,
            attempts=self.attempts,
        )


ROW_CLASSES: dict[str, type[Row]] = {
    cls.KIND: cls for cls in (SessionRow, DatasetRow, SubjectRow, ServiceRow, IntentRow)
}


@dataclass(frozen=True)
class AuditEntry:
    """One event of the log, as the audit trail shows it: who did what, when, from where."""

    position: int
    recorded_at: str
    """UTC, ISO 8601: sorts as text in both stores."""
    kind: str
    """'intent', 'outcome' or 'fact'."""
    event: str
    aggregate_id: str
    session_id: str | None
    session: str
    """The session's key ('' for a subject's or a service's own events)."""
    subject: str
    file: str
    alyx_user: str
    os_user: str
    host: str
    tool_version: str
    operation_id: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """The entry's fields by name (shallow, as `Row.to_doc`: not `dataclasses.asdict`)."""
        return dict(self.__dict__)

    def values(self) -> tuple[Any, ...]:
        """The entry's fields in declaration order (a frozen dataclass sets them in that order),
        `details` as JSON text: one row of the audit table."""
        *fields, details = self.__dict__.values()
        return (*fields, encode(details))


AUDIT_FIELDS = tuple(column.name for column in dataclasses.fields(AuditEntry))
"""The entry's fields, in order: the audit table's columns."""
