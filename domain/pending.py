"""Pending work, computed from the log: intents whose final outcome is not recorded yet.

Pure: it folds decoded events in log order, so the ledger, a projection or a test can all use it.
A retryable failure leaves its intent pending (sync performs it again); a success or a final
failure closes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from .dataset import Dataset
from .recorded import Failure, Intent, RetryRecorded


@dataclass(frozen=True)
class PendingIntent:
    """One intent still to be performed, in the order it was recorded."""

    position: int
    """The intent's position in the log (notification id): the order sync follows."""
    aggregate_id: UUID
    session_id: UUID | None
    intent: str
    """Qualified name of the intent event, e.g. 'Session.RegistrationRequested'."""
    operation_id: str
    recorded_at: str
    who: str
    details: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    attempts: int = 0
    """Retryable failures recorded so far (each sync that could not finish it adds one)."""


class PendingFold:
    """Accumulates log events and answers which intents are open."""

    def __init__(self) -> None:
        self._open: dict[tuple[UUID, str], PendingIntent] = {}
        self._refused: dict[tuple[UUID, str], PendingIntent] = {}
        self._session_of: dict[UUID, UUID] = {}

    def apply(self, position: int, event: Any) -> None:
        """Fold one event (any kind: facts are used to map datasets to their sessions)."""
        aggregate_id: UUID = event.originator_id
        if isinstance(event, Dataset.Created):
            self._session_of[aggregate_id] = event.session_id
        key = (aggregate_id, event.operation_id)
        kind = event_kind(event)
        if kind == "intent":
            self._open[key] = opened(position, event, self._session_for(event))
            # a new plan replaces a refused one of its kind (see Intent.SUPERSEDES_REFUSED)
            if isinstance(event, Intent) and event.SUPERSEDES_REFUSED:
                name = type(event).__qualname__
                for refused_key in [k for k, i in self._refused.items() if k[0] == aggregate_id]:
                    if self._refused[refused_key].intent == name:
                        del self._refused[refused_key]
        elif kind == "outcome" and key in self._open:
            intent = self._open.pop(key)
            answered = answer(intent, event)
            if answered is not None:
                self._open[key] = answered
            elif isinstance(event, Failure):
                self._refused[key] = replace(intent, last_error=event.reason)
        elif isinstance(event, RetryRecorded):
            self._refused.pop((aggregate_id, event.retry_of), None)

    def _session_for(self, event: Any) -> UUID | None:
        """The labledger session an intent belongs to (None for a subject's own records)."""
        aggregate = type(event).__qualname__.split(".")[0]
        if aggregate == "Session":
            return event.originator_id  # type: ignore[no-any-return]
        return self._session_of.get(event.originator_id)

    def refused(self, session_id: UUID | None = None) -> list[PendingIntent]:
        """Intents refused for good and not asked again, in log order (what `retry` re-opens);
        `last_error` holds the refusal."""
        intents = sorted(self._refused.values(), key=lambda intent: intent.position)
        return [i for i in intents if session_id is None or i.session_id == session_id]

    def pending(self, session_id: UUID | None = None) -> list[PendingIntent]:
        """Open intents in log order, optionally only those of one session (and its files)."""
        intents = sorted(self._open.values(), key=lambda intent: intent.position)
        if session_id is None:
            return intents
        return [intent for intent in intents if intent.session_id == session_id]


def event_kind(event: Any) -> str:
    """'intent', 'outcome' or 'fact' (events of other applications count as facts)."""
    return str(getattr(event, "KIND", "fact"))


def opened(position: int, event: Any, session_id: UUID | None) -> PendingIntent:
    """The pending intent an intent event opens."""
    return PendingIntent(
        position=position,
        aggregate_id=event.originator_id,
        session_id=session_id,
        intent=type(event).__qualname__,
        operation_id=event.operation_id,
        recorded_at=event.timestamp.isoformat(),
        who=event.alyx_user or event.os_user,
        details=intent_details(event),
    )


def answer(intent: PendingIntent, outcome: Any) -> PendingIntent | None:
    """What an outcome of its operation leaves of an intent: None when it closes it, else the
    intent still pending with the failure's reason (a retryable failure)."""
    if not getattr(outcome, "retryable", False):
        return None
    return replace(intent, last_error=outcome.reason, attempts=intent.attempts + 1)


_BASE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "alyx_user",
        "os_user",
        "host",
        "tool_version",
        "operation_id",
        "originator_topic",
    }
)


def intent_details(event: Any) -> dict[str, Any]:
    """The event's own fields, without the envelope every event shares."""
    return {name: value for name, value in vars(event).items() if name not in _BASE_FIELDS}


def fold(events: Iterable[tuple[int, Any]]) -> PendingFold:
    """Fold (position, event) pairs into a PendingFold."""
    result = PendingFold()
    for position, event in events:
        result.apply(position, event)
    return result
