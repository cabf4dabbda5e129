"""What every command of the ledger shares: load (or start) the aggregates, decide, save all it
changed in one transaction, and decide again when another writer saved first; and the commands
that apply to an intent of any aggregate (its failure, its retry).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from .alf import SessionRef, parse_rel_path
from .dataset import Dataset
from .ledger_queries import LedgerQueries
from .observations import FileObservation
from .pending import intent_details
from .recorded import NotRefused
from .session import Session
from .subject import Subject

T = TypeVar("T")
A = TypeVar("A", Session, Dataset, Subject)

CONFLICT_RETRIES = 3
"""How often a command re-decides after another writer saved the same aggregate first."""


class LedgerCommands(LedgerQueries):
    """The command side's machinery; the commands themselves are grouped by aggregate in
    `session_commands`, `dataset_commands` and `subject_commands`."""

    def record_failure(
        self, aggregate_id: UUID, operation_id: str, reason: str, retryable: bool
    ) -> None:
        """An intent's side effect failed: `retryable` (timeout, 5xx) keeps it pending for sync,
        a final failure (refused by Alyx) closes it. Any aggregate, any kind of intent."""

        def decide() -> None:
            aggregate: Session | Dataset | Subject = self.repository.get(aggregate_id)
            if operation_id in aggregate.closed_intents:
                return  # another run finished it meanwhile: its outcome stands
            aggregate.record_failure(operation_id, reason, retryable)
            self.save(aggregate)

        self._retrying(decide)

    def retry(self, aggregate_id: UUID, retry_of: str) -> str:
        """Ask again for an intent refused for good (the operator fixed the cause): the same
        intent, recorded anew, in one transaction with the fact that it retries `retry_of`.
        Returns the operation sync will perform."""

        def decide() -> str:
            aggregate: Session | Dataset | Subject = self.repository.get(aggregate_id)
            intent = next(
                (
                    event
                    for event in self.events.get(aggregate_id)
                    if getattr(event, "operation_id", None) == retry_of
                    and getattr(event, "KIND", "") == "intent"
                ),
                None,
            )
            if intent is None:
                raise NotRefused(f"no intent {retry_of} on {aggregate_id}")
            operation_id = aggregate.retry(retry_of, type(intent), intent_details(intent))
            self.save(aggregate)
            return operation_id

        return self._retrying(decide)

    def _session_for(self, ref: SessionRef, folder: str) -> Session:
        session = self.find_session(ref)
        if session is None:
            session = Session(
                lab=ref.lab or "",
                subject=ref.subject,
                date=ref.date.isoformat(),
                number=ref.number,
                folder=folder,
            )
        return session

    def _datasets_for(
        self, session_id: UUID, observations: Sequence[FileObservation]
    ) -> list[Dataset]:
        """The dataset of each observed file, as the ledger holds it (read in bulk), else new."""
        ids = [Dataset.create_id(session_id, o.rel_path) for o in observations]
        held = self.aggregates(ids) if ids else {}
        return [
            held.get(dataset_id) or self._new_dataset(session_id, observation)
            for dataset_id, observation in zip(ids, observations, strict=True)
        ]

    @staticmethod
    def _new_dataset(session_id: UUID, observation: FileObservation) -> Dataset:
        return Dataset(
            session_id=session_id,
            rel_path=observation.rel_path,
            collection=observation.collection,
            revision=observation.revision,
            name=observation.name,
        )

    def _dataset_at(self, session_id: UUID, rel_path: str) -> Dataset:
        """The dataset of a path in a session, started if the ledger never saw that path."""
        try:
            return self.repository.get(Dataset.create_id(session_id, rel_path))
        except AggregateNotFoundError:
            parsed = parse_rel_path(rel_path)
            return Dataset(
                session_id=session_id,
                rel_path=rel_path,
                collection=parsed.collection,
                revision=parsed.revision,
                name=parsed.name,
            )

    def _subject(self, lab: str, nickname: str) -> Subject:
        try:
            return self.repository.get(Subject.create_id(lab, nickname))
        except AggregateNotFoundError:
            return Subject(lab=lab, nickname=nickname)

    def _intent(self, load: Callable[[], A], command: Callable[[A], T]) -> T:
        """Load (or start) an aggregate, ask it for an intent, save only if it recorded one."""

        def decide() -> T:
            aggregate = load()
            asked = command(aggregate)
            if aggregate.pending_events:
                self.save(aggregate)
            return asked

        return self._retrying(decide)

    def _update(self, kind: type[A], aggregate_id: UUID, command: Callable[[A], T]) -> T:
        """Load, decide, save; on a concurrent write, reload and decide again."""

        def decide() -> T:
            aggregate: A = self.repository.get(aggregate_id)
            result = command(aggregate)
            if aggregate.pending_events:
                self.save(aggregate)
            return result

        return self._retrying(decide)

    @staticmethod
    def _retrying(decide: Callable[[], T]) -> T:
        for _ in range(CONFLICT_RETRIES - 1):
            try:
                return decide()
            except IntegrityError:
                continue
        return decide()
