"""The base of labledger's aggregates: every event is stamped with its provenance and its kind.

Kinds make the DESIGN rule checkable from the log alone: an *intent* is saved before a side effect,
an *outcome* (done, or failed with a reason) after it, under the intent's operation id, and a
*fact* records what was observed without any side effect (a file discovered, a revision found
protected). An aggregate keeps its open intents, so it refuses an outcome for an operation it never
intended and answers "is this already asked for?" without a second request.

Intent and outcome bases live at module level, not nested in the aggregate: eventsourcing's
metaclass re-creates every nested event class of a base aggregate inside each subclass, which would
give those copies no explicit topic.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from . import provenance
from .errors import LabledgerError

EventKind = Literal["fact", "intent", "outcome"]

ID_NAMESPACE = UUID("6f1c1f5e-8d1b-5f0e-9a57-3c1d2b7a9e41")
"""Namespace of labledger's uuid5 ids: the same natural key gives the same id on every rig."""


def natural_id(kind: str, key: str) -> UUID:
    """The uuid5 id of an aggregate from its kind and natural key."""
    return uuid5(ID_NAMESPACE, f"{kind}:{key}")


class UnknownOperation(LabledgerError):
    """An outcome names an operation that its aggregate never intended, or already closed."""


class AlreadyClosed(UnknownOperation):
    """The outcome of this operation is already recorded: another run (a second process, a
    second rig) performed the same work first. Its record stands; nothing more is recorded."""


class NotRefused(LabledgerError):
    """`retry` names an operation that was not refused for good (open, done, or retried)."""


class RecordedAggregate(Aggregate):
    """An aggregate whose events carry provenance (see `domain.provenance`) and a kind."""

    open_intents: dict[str, str]
    """Operation id -> name of the intent event still waiting for its final outcome."""
    closed_intents: dict[str, str]
    """Operation id -> name of an intent that has its final outcome (done, or refused)."""
    refused: dict[str, str]
    """Operation id -> reason, for intents refused for good and not asked again (`retry`)."""
    closed_by: dict[str, str]
    """Operation id -> who closed it, where ("operator on rig-01"): named to a racing run."""
    last_error: str | None
    """The reason of the latest failure, cleared by the next success that says so."""

    FAILURES: ClassVar[dict[str, type[Failure]]] = {}
    """Intent event name -> the failure event that answers it."""

    class Event(Aggregate.Event):
        """Base event: who (Alyx and OS user), where (host), with what (tool), which operation."""

        KIND: ClassVar[EventKind] = "fact"
        alyx_user: str
        os_user: str
        host: str
        tool_version: str
        operation_id: str

    class Created(Event, Aggregate.Created):
        """Base creation event."""

    def _start_intents(self) -> None:
        """No intent yet: called by each aggregate's __init__."""
        self.open_intents = {}
        self.closed_intents = {}
        self.refused = {}
        self.closed_by = {}
        self.last_error = None

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Self:
        fields = provenance.current().as_event_fields()
        fields.update(kwargs)
        return super()._create(event_class, id=id, **fields)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Trigger an event stamped with the current provenance.

        An explicit `operation_id` keyword wins over the context's: outcomes are recorded under
        the operation of the intent they close, whichever command run records them.
        """
        fields = provenance.current().as_event_fields()
        fields.update(kwargs)
        super().trigger_event(event_class, **fields)

    def _trigger_intent(self, event_class: Any, discriminator: str = "", **kwargs: Any) -> str:
        """Record an intent under its own operation id and return that id.

        The id is derived from the command run's operation, the aggregate and the intent, so one
        run may open several intents (on several aggregates, or several kinds on one aggregate)
        and each outcome still closes exactly its own intent. `discriminator` separates two
        intents of one kind on one aggregate in one run (two weighings of a mouse).
        """
        run = provenance.current().operation_id
        name = f"{self.id}:{event_class.__name__}:{discriminator}"
        operation_id = str(uuid5(UUID(run), name))
        self.trigger_event(event_class, operation_id=operation_id, **kwargs)
        return operation_id

    def _open_operation(self, intent_name: str) -> str | None:
        """The operation of an open intent of this kind, if any (asking twice reuses it)."""
        for operation_id, name in self.open_intents.items():
            if name == intent_name:
                return operation_id
        return None

    def record_failure(self, operation_id: str, reason: str, retryable: bool) -> None:
        """The side effect of an open intent failed; a `retryable` failure keeps it pending."""
        self._check_open(operation_id)
        failure = self.FAILURES[self.open_intents[operation_id]]
        self.trigger_event(
            failure,
            operation_id=operation_id,
            reason=reason,
            retryable=retryable,
            **self._failure_fields(operation_id),
        )

    def retry(self, retry_of: str, intent_class: Any, fields: dict[str, Any]) -> str:
        """Ask again for an intent that was refused for good, once the operator fixed the cause:
        the intent is recorded again (same fields, a new operation), followed by the fact that it
        retries `retry_of`. If the same work is open already (asked again meanwhile, see
        `_open_same_work`), that one stands and only the fact is recorded. Returns the
        operation that will run."""
        reason = self.refused.get(retry_of)
        if reason is None:
            raise NotRefused(
                f"operation {retry_of} of {type(self).__name__} {self.id} was not refused; "
                "`labledger pending` shows the work still to do"
            )
        name = self.closed_intents[retry_of]
        if intent_class.__name__ != name:
            raise NotRefused(f"operation {retry_of} was a {name}, not a {intent_class.__name__}")
        operation_id = self._open_same_work(name, fields) or self._trigger_intent(
            intent_class, f"retry:{retry_of}", **fields
        )
        retried = getattr(type(self), "Retried")  # noqa: B009 (each aggregate's own class)
        self.trigger_event(retried, operation_id=operation_id, retry_of=retry_of, reason=reason)
        return operation_id

    def _open_same_work(self, intent_name: str, fields: dict[str, Any]) -> str | None:
        """The open intent that does the same work as an intent of this kind with these fields,
        if any (`retry` then records nothing new). By default an aggregate holds one piece of
        work of each kind (a session's registration, a file's move), so any open intent of the
        kind is it; an aggregate holding several (a subject's measurements) says which."""
        return self._open_operation(intent_name)

    def _ask_again(self, intent_class: Any, replaced_class: Any, fields: dict[str, Any]) -> str:
        """Open an intent of this kind with these fields (held by its apply in
        `self.registration_fields`). Asked again while one is open with the same fields, or
        with none, the open one stands; with other fields, the newer request replaces it: an
        operator who got a name or an option wrong asks again and is not held to the first."""
        open_operation = self._open_operation(intent_class.__name__)
        if open_operation is not None:
            held = getattr(self, "registration_fields", {}).get(open_operation)
            if not fields or held == fields:
                return open_operation
            self.trigger_event(replaced_class, operation_id=open_operation)
        return self._trigger_intent(intent_class, fields=dict(fields))

    def done_elsewhere(self, operation_id: str | None = None) -> str:
        """What a racing run is told of work this aggregate already closed: who closed the
        operation (the latest one, when none is named) and where."""
        if operation_id is None:
            who = next(reversed(self.closed_by.values()), None)
        else:
            who = self.closed_by.get(operation_id)
        return f"already done by another run ({who or 'unknown'})"

    def _failure_fields(self, operation_id: str) -> dict[str, Any]:
        """Fields a failure event carries besides its reason (none by default)."""
        return {}

    def _check_open(self, operation_id: str) -> None:
        if operation_id in self.closed_intents:
            raise AlreadyClosed(self.done_elsewhere(operation_id))
        if operation_id not in self.open_intents:
            raise UnknownOperation(
                f"operation {operation_id} is not an open intent of {type(self).__name__} "
                f"{self.id}; look it up with `labledger pending`"
            )


class Intent(RecordedAggregate.Event):
    """Saved before a side effect; stays pending until a final outcome with its operation id."""

    KIND: ClassVar[EventKind] = "intent"
    SUPERSEDES_REFUSED: ClassVar[bool] = False
    """True where asking anew makes an older refused intent of the same kind moot (a new
    manifest plan, a session's or a file's registration asked again): `retry` no longer offers
    the refused one, so it never re-sends stale fields over the newer request's, nor attaches
    the newer one to it. `domain.pending` reads it too."""

    def apply(self, aggregate: Any) -> None:
        name = type(self).__name__
        if self.SUPERSEDES_REFUSED:
            for operation_id, closed in aggregate.closed_intents.items():
                if closed == name:
                    aggregate.refused.pop(operation_id, None)
        aggregate.open_intents[self.operation_id] = name


class Outcome(RecordedAggregate.Event):
    """Saved after a side effect succeeded: closes the intent of the same operation."""

    KIND: ClassVar[EventKind] = "outcome"

    def apply(self, aggregate: Any) -> None:
        _close(aggregate, self)


def _close(aggregate: Any, event: RecordedAggregate.Event) -> None:
    name = aggregate.open_intents.pop(event.operation_id, None)
    if name is not None:
        aggregate.closed_intents[event.operation_id] = name
        aggregate.closed_by[event.operation_id] = (
            f"{event.alyx_user or event.os_user} on {event.host}"
        )


class Failure(RecordedAggregate.Event):
    """Saved after a side effect failed; a `retryable` failure leaves the intent pending."""

    KIND: ClassVar[EventKind] = "outcome"
    reason: str
    retryable: bool

    def apply(self, aggregate: Any) -> None:
        aggregate.last_error = self.reason
        if not self.retryable:
            _close(aggregate, self)
            aggregate.refused[self.operation_id] = self.reason


class RetryRecorded(RecordedAggregate.Event):
    """Base of "the operator asked again for a refused intent": recorded right after the intent
    it re-opens (under that intent's operation); `retry_of` is the refused operation and
    `reason` why it was refused, so the log links the two."""

    retry_of: str
    reason: str

    def apply(self, aggregate: Any) -> None:
        aggregate.refused.pop(self.retry_of, None)
