"""The ledger's queries: aggregates by id or session folder, files as last scanned, histories, the
log in pages, and the pending and refused work folded from it. They return plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from .alf import SessionRef
from .dataset import Dataset
from .history import HistoryEntry, history_entry
from .known_file import KnownFile
from .ledger_repository import LedgerRepository, project
from .pending import PendingIntent, fold
from .session import Session

LOG_PAGE = 500
"""Events read per page when folding the whole log."""


class LedgerQueries(Application[UUID]):
    """The read side of the ledger application (the commands are its subclasses)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known_files_memo: dict[UUID, tuple[int | None, dict[str, KnownFile]]] = {}

    def construct_repository(self) -> LedgerRepository:
        """eventsourcing's repository, as the application configures it, rebuilding aggregates
        with the ledger's projector (see `ledger_repository`)."""
        made = super().construct_repository()
        repository = LedgerRepository(
            event_store=made.event_store,
            snapshot_store=made.snapshot_store,
            fastforward=made.fastforward,
            fastforward_skipping=made.fastforward_skipping,
            deepcopy_from_cache=made.deepcopy_from_cache,
        )
        repository.cache = made.cache
        return repository

    def session(self, session_id: UUID) -> Session:
        return self.repository.get(session_id)

    def dataset(self, dataset_id: UUID) -> Dataset:
        return self.repository.get(dataset_id)

    def find_session_by_id(self, session_id: UUID) -> Session | None:
        """The session of this id, or None if the ledger never saw it."""
        try:
            return self.session(session_id)
        except AggregateNotFoundError:
            return None

    def find_session(self, ref: SessionRef) -> Session | None:
        """The session of this folder key, or None if the ledger never saw it."""
        return self.find_session_by_id(session_id_of(ref))

    def aggregates(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, Any]:
        """The aggregates of these ids that the ledger holds (absent ones left out), as
        `repository.get` builds each, read in one query per few hundred where the store can
        (a session's files: one query, not one per file)."""
        wanted = list(dict.fromkeys(aggregate_ids))
        select_events_of = getattr(self.recorder, "select_events_of", None)
        if select_events_of is None:  # the in-memory store: one by one
            found: dict[UUID, Any] = {}
            for aggregate_id in wanted:
                try:
                    found[aggregate_id] = self.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    continue
            return found
        by_id: dict[UUID, list[Any]] = {}
        for stored in select_events_of(wanted):
            by_id.setdefault(stored.originator_id, []).append(stored)
        return {
            aggregate_id: project(None, map(self.mapper.to_domain_event, events))
            for aggregate_id, events in by_id.items()
        }

    def known_files(self, session_id: UUID) -> dict[str, KnownFile]:
        """Each file of a session as the last scan recorded it (discovered or rejected).

        A command asks this of a session several times (its scan, its registration plan, the
        lines under its results); while nothing new is recorded in the log (by this process or
        another), the answer is the one read last, not read again."""
        position = self.recorder.max_notification_id()
        memo = self._known_files_memo.get(session_id)
        if memo is not None and memo[0] == position:
            return dict(memo[1])
        known = self._read_known_files(session_id)
        self._known_files_memo[session_id] = (position, known)
        return dict(known)

    def _read_known_files(self, session_id: UUID) -> dict[str, KnownFile]:
        try:
            session = self.session(session_id)
        except AggregateNotFoundError:
            return {}
        known: dict[str, KnownFile] = {}
        datasets = self.aggregates(Dataset.create_id(session_id, rel) for rel in session.files)
        for rel_path in session.files:
            dataset: Dataset = datasets[Dataset.create_id(session_id, rel_path)]
            if dataset.state == "rejected":
                known[rel_path] = KnownFile("rejected", reason=dataset.rejection)
            elif dataset.md5 is not None:
                known[rel_path] = KnownFile(
                    "discovered",
                    dataset.size,
                    dataset.mtime_ns,
                    dataset.md5,
                    dataset.dataset_type,
                    dataset.data_format,
                    awaiting_registration=dataset.state == "discovered",
                )
        return known

    def history(
        self, aggregate_id: UUID, describe: Callable[[Any], str] | None = None
    ) -> list[HistoryEntry]:
        """Every event of one aggregate, oldest first (`describe`: each one's summary)."""
        return [history_entry(event, describe) for event in self.events.get(aggregate_id)]

    def read_log(self, after: int = 0, page: int = LOG_PAGE) -> Iterator[tuple[int, Any]]:
        """(position, event) for every event of the log after `after`, in pages."""
        while True:
            batch = self.log_page(after, page)
            yield from batch
            if len(batch) < page:
                return
            after = batch[-1][0]

    def log_page(self, after: int, limit: int = LOG_PAGE) -> list[tuple[int, Any]]:
        """Up to `limit` (position, event) pairs after position `after`, in log order."""
        notifications = self.notification_log.select(start=after + 1, limit=limit)
        return [(n.id, self.mapper.to_domain_event(n)) for n in notifications]

    def pending_intents(self, session_id: UUID | None = None) -> list[PendingIntent]:
        """Intents without a final outcome, in the order they were recorded.

        The reference answer, folded from the whole log: commands read the same from the tracked
        read models (`adapters.database.views.Views.pending_intents`), which tests check against
        this."""
        return fold(self.read_log()).pending(session_id)

    def refused_intents(self) -> list[PendingIntent]:
        """Intents refused for good and not asked again, in log order: what `retry` re-opens
        (folded from the whole log: retry is rare, and must see every refusal)."""
        return fold(self.read_log()).refused()


def session_id_of(ref: SessionRef) -> UUID:
    """The session aggregate id of a parsed session folder."""
    return Session.create_id(ref.lab or "", ref.subject, ref.date.isoformat(), ref.number)
