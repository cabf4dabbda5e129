"""Session status, folded from the event log: counts of discovered, rejected and pending items.

A plain fold over (position, event) pairs, so it can be fed the whole log now and, later, pages of
it from a tracked position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from labledger.domain.pending import PendingFold
from labledger.domain.session import Session


@dataclass
class SessionStatus:
    """What the ledger knows of one session."""

    session_id: UUID
    key: str
    folder: str
    files: dict[str, str] = field(default_factory=dict)
    eid: str | None = None
    transfer: str = "none"
    pending: int = 0
    last_error: str | None = None

    @property
    def discovered(self) -> int:
        return sum(1 for state in self.files.values() if state == "discovered")

    @property
    def rejected(self) -> int:
        return sum(1 for state in self.files.values() if state == "rejected")

    def as_row(self) -> dict[str, Any]:
        """Plain values for JSON and tables."""
        return {
            "session": self.key,
            "folder": self.folder,
            "discovered": self.discovered,
            "rejected": self.rejected,
            "pending": self.pending,
            "alyx_eid": self.eid,
            "transfer": self.transfer,
            "last_error": self.last_error,
        }


class StatusView:
    """Folds events into one SessionStatus per session, in the order sessions appeared."""

    def __init__(self) -> None:
        self.sessions: dict[UUID, SessionStatus] = {}
        self._pending = PendingFold()

    def apply(self, position: int, event: Any) -> None:
        self._pending.apply(position, event)
        if isinstance(event, Session.Created):
            key = "/".join(p for p in (event.lab, event.subject, event.date, event.number) if p)
            self.sessions[event.originator_id] = SessionStatus(
                event.originator_id, key, event.folder
            )
            return
        status = self.sessions.get(event.originator_id)
        if status is None:
            return
        if isinstance(event, Session.DatasetsDiscovered):
            status.files.update(dict.fromkeys(event.discovered, "discovered"))
            status.files.update(dict.fromkeys(event.rejected, "rejected"))
        elif isinstance(event, Session.Registered):
            status.eid, status.last_error = event.eid, None
        elif isinstance(event, (Session.RegistrationFailed, Session.ManifestFailed)):
            status.last_error = event.reason
        elif isinstance(event, Session.ManifestEmitted):
            status.transfer = "emitted"
        elif isinstance(event, Session.TransferConfirmed):
            status.transfer = "confirmed"
        elif isinstance(event, Session.TransferStalled):
            status.transfer, status.last_error = "stalled", event.reason

    def rows(self, only: Iterable[UUID] | None = None) -> list[SessionStatus]:
        """The sessions (all, or those in `only`), pending counts filled in."""
        wanted = None if only is None else set(only)
        counts: dict[UUID | None, int] = {}
        for intent in self._pending.pending():
            counts[intent.session_id] = counts.get(intent.session_id, 0) + 1
        result = []
        for session_id, status in self.sessions.items():
            if wanted is None or session_id in wanted:
                status.pending = counts.get(session_id, 0)
                result.append(status)
        return result


def build_status(events: Iterable[tuple[int, Any]]) -> StatusView:
    view = StatusView()
    for position, event in events:
        view.apply(position, event)
    return view
