"""When a session may be created on Alyx: in its day's order, and after the files of the others.

Alyx links the sessions of one subject and day when files are registered: `register-file` makes
the session it registers into a child of the newest session of that day without a parent. So the
links depend on the order in which the day's sessions were created and had their files
registered, and a failure must not change that order:

- a session is created only after the sessions of its day recorded before it (a failed creation
  of the first must not let the second become the older one);
- a session is not created while another of its day, already on Alyx, still has files to
  register or move (those files would make it the new session's child).

Such a creation waits, with its files, for the next `sync`, which performs the day's work in
order. Without a failure nothing waits: each session is created, then its files registered,
before the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ...domain.ledger import Ledger
from ...domain.pending import PendingIntent
from .intents import MOVE, REGISTER, SESSION


class DayOrder:
    """What holds back the creation of a session, judged from the ledger's pending work."""

    def __init__(self, ledger: Ledger, pending: Sequence[PendingIntent]) -> None:
        self.ledger = ledger
        self._days: dict[UUID, tuple[str, str]] = {}
        """Session id -> (subject, date): read once per session, not once per creation."""
        self._files: dict[UUID, list[PendingIntent]] = {}
        self._creations: dict[UUID, PendingIntent] = {}
        for intent in pending:
            if intent.session_id is None:
                continue
            if intent.intent in (REGISTER, MOVE):
                self._files.setdefault(intent.session_id, []).append(intent)
            elif intent.intent == SESSION:
                self._creations.setdefault(intent.session_id, intent)

    def blocker(self, creation: PendingIntent) -> str | None:
        """Why the session of `creation` may not be created now (naming the session it waits
        for), or None."""
        session_id = creation.aggregate_id
        day = self._day(session_id)
        for other_id, first in self._creations.items():
            if other_id == session_id or first.position >= creation.position:
                continue
            if self._day(other_id) != day:
                continue
            other = self.ledger.session(other_id)
            if first.operation_id in other.open_intents:
                return f"waits for {other.key}, of the same subject and day, to be created first"
        for other_id, intents in self._files.items():
            if other_id == session_id or self._day(other_id) != day:
                continue
            other = self.ledger.session(other_id)
            if not other.eid:
                continue
            held = self.ledger.aggregates(intent.aggregate_id for intent in intents)
            if any(
                intent.operation_id in held[intent.aggregate_id].open_intents
                for intent in intents
                if intent.aggregate_id in held
            ):
                return (
                    f"waits for the files of {other.key}, of the same subject and day, to be "
                    "registered first"
                )
        return None

    def _day(self, session_id: UUID) -> tuple[str, str]:
        if session_id not in self._days:
            session = self.ledger.session(session_id)
            self._days[session_id] = (session.subject, session.date)
        return self._days[session_id]
