"""The ledger: labledger's eventsourcing Application, with its commands and queries.

Commands decide through the aggregates and save every aggregate a command touched in ONE
transaction, so a crash or an error never leaves part of a command recorded. Queries return plain
values. Where the store is shared (PostgreSQL), a conflicting save raises; the command reloads the
aggregates and decides again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from . import provenance
from .alf import SessionRef, parse_rel_path
from .dataset import Dataset
from .errors import LabledgerError
from .observations import FileObservation, Observed, ScanSummary, SessionScan
from .pending import PendingIntent, fold, intent_details
from .recorded import NotRefused
from .session import Session
from .subject import Asked, Subject

T = TypeVar("T")
A = TypeVar("A", Session, Dataset, Subject)

CONFLICT_RETRIES = 3
"""How often a command re-decides after another writer saved the same aggregate first."""

LOG_PAGE = 500
"""Events read per page when folding the whole log."""


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an aggregate, as plain values for printing or JSON."""

    version: int
    timestamp: str
    kind: str
    event: str
    alyx_user: str
    os_user: str
    host: str
    tool_version: str
    operation_id: str
    details: dict[str, Any]


@dataclass(frozen=True)
class KnownFile:
    """What the last scan recorded of a file: enough to skip hashing and re-deciding it."""

    state: str
    """'discovered' or 'rejected'."""
    size: int | None = None
    mtime_ns: int | None = None
    md5: str | None = None
    dataset_type: str | None = None
    data_format: str | None = None
    reason: str | None = None

    def same_discovery(self, size: int, mtime_ns: int, dataset_type: str, data_format: str) -> bool:
        """True when a file with this size, mtime and classification needs no new hash or event."""
        return self.state == "discovered" and (
            self.size,
            self.mtime_ns,
            self.dataset_type,
            self.data_format,
        ) == (size, mtime_ns, dataset_type, data_format)

    awaiting_registration: bool = False
    """Discovered as it is now and never registered so (a registration may be asked for: asked
    again with other options, the newer request replaces it)."""

    def same_rejection(self, reason: str) -> bool:
        return self.state == "rejected" and self.reason == reason


class SessionNumberTaken(LabledgerError):
    """A new session's number is already allocated in the ledger (by this or another rig)."""


class Ledger(Application[UUID]):
    """The event-sourced ledger of a lab's sessions, files and subjects."""

    name = "labledger"
    log_section_size = LOG_PAGE

    # -- commands ------------------------------------------------------------------------------

    def record_scans(self, scans: Sequence[SessionScan]) -> list[ScanSummary]:
        """Record scans of session folders: sessions and each file's fate, in one transaction."""

        def decide() -> list[ScanSummary]:
            changed: list[Any] = []
            summaries = [self._decide_scan(scan, changed) for scan in scans]
            if changed:
                self.save(*changed)
            return summaries

        return self._retrying(decide)

    def request_registrations(
        self,
        scans: Sequence[SessionScan],
        sessions: Sequence[tuple[SessionRef, str, dict[str, Any]]],
        datasets: Sequence[tuple[UUID, dict[str, Any]]],
        unless_registered: frozenset[UUID] = frozenset(),
    ) -> dict[UUID, str]:
        """Record scans and the registrations asked of their sessions and files, in ONE
        transaction: a crash leaves either the whole request recorded (sync finishes it) or
        nothing (the command is simply run again).

        Decided against the ledger as it is at the save, not as it was when the caller planned:
        a session asked without fields, and the files in `unless_registered` (those asked as
        part of their session, not by name), are not asked again when another run registered
        them meanwhile. Returns those, each with the line that says who registered it."""

        def decide() -> dict[UUID, str]:
            changed: list[Any] = []
            elsewhere: dict[UUID, str] = {}
            for scan in scans:
                self._decide_scan(scan, changed)
            loaded: dict[UUID, Any] = {aggregate.id: aggregate for aggregate in changed}
            for ref, folder, fields in sessions:
                session = loaded.get(session_id_of(ref)) or self._session_for(ref, folder)
                if session.eid is not None and not fields:
                    elsewhere[session.id] = session.done_elsewhere()
                    continue
                session.request_registration(fields)
                if session.id not in loaded:
                    loaded[session.id] = session
                    changed.append(session)
            for dataset_id, fields in datasets:
                dataset = loaded.get(dataset_id) or self.repository.get(dataset_id)
                if dataset_id in unless_registered and dataset.state == "registered":
                    elsewhere[dataset_id] = dataset.done_elsewhere()
                    continue
                dataset.request_registration(fields)
                if dataset_id not in loaded:
                    loaded[dataset_id] = dataset
                    changed.append(dataset)
            self.save(*(aggregate for aggregate in changed if aggregate.pending_events))
            return elsewhere

        return self._retrying(decide)

    def _decide_scan(self, scan: SessionScan, changed: list[Any]) -> ScanSummary:
        session = self._session_for(scan.ref, scan.folder)
        files = scan.files
        session_slot = len(changed)
        discovered: list[str] = []
        rejected: list[str] = []
        for observation in files:
            dataset = self._dataset_for(session.id, observation)
            if isinstance(observation, Observed):
                if dataset.discover(
                    observation.size,
                    observation.mtime_ns,
                    observation.md5,
                    observation.dataset_type,
                    observation.data_format,
                ):
                    discovered.append(observation.rel_path)
            elif dataset.reject(observation.code, observation.reason):
                rejected.append(observation.rel_path)
            if dataset.pending_events:
                changed.append(dataset)
        unchanged = scan.unchanged + len(files) - len(discovered) - len(rejected)
        session.note_scan(discovered, rejected, unchanged)
        if session.pending_events:
            changed.insert(session_slot, session)  # the session's events first in the log
        return ScanSummary(
            session_id=session.id,
            session_key=session.key,
            discovered=len(discovered),
            rejected=len(rejected),
            unchanged=unchanged,
        )

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

    def request_session_registration(self, ref: SessionRef, folder: str, **fields: Any) -> str:
        """Record the intent to create or update the session on Alyx; returns its operation."""
        operation: str = self._intent(
            lambda: self._session_for(ref, folder),
            lambda session: session.request_registration(fields),
        )
        return operation

    def record_session_registered(self, session_id: UUID, operation_id: str, eid: str) -> None:
        self._update(Session, session_id, lambda s: s.record_registered(operation_id, eid))

    def request_dataset_registration(self, dataset_id: UUID, **fields: Any) -> str:
        return self._update(Dataset, dataset_id, lambda d: d.request_registration(fields))

    def record_dataset_registered(
        self,
        dataset_id: UUID,
        operation_id: str,
        alyx_id: str,
        revision: str,
        default: bool,
        file_records: list[dict[str, Any]],
    ) -> None:
        self._update(
            Dataset,
            dataset_id,
            lambda d: d.record_registered(operation_id, alyx_id, revision, default, file_records),
        )

    def note_revision_protected(
        self, dataset_id: UUID, info: list[dict[str, bool]], today: str
    ) -> None:
        self._update(Dataset, dataset_id, lambda d: d.note_protected(info, today))

    def request_move(self, dataset_id: UUID, destination: str, why: str) -> str:
        return self._update(Dataset, dataset_id, lambda d: d.request_move(destination, why))

    def record_moved(
        self, dataset_id: UUID, operation_id: str, source: str, destination: str
    ) -> UUID:
        """The file moved: close the move, hand its open registration to the file's new path
        (a dataset of its own, keyed by that path), all in one transaction. Returns the new
        path's dataset id."""

        def decide() -> UUID:
            moved: Dataset = self.repository.get(dataset_id)
            session: Session = self.repository.get(moved.session_id)
            arrived = self._dataset_at(session.id, destination)
            moved.record_moved(operation_id, source, destination)
            fields = moved.relocate_registration(destination)
            if moved.md5 is not None and moved.size is not None:
                arrived.arrive(
                    source,
                    moved.size,
                    moved.mtime_ns or 0,
                    moved.md5,
                    moved.dataset_type or "",
                    moved.data_format or "",
                )
            if fields is not None:
                arrived.request_registration(fields)
            session.note_scan([destination], [], 0)
            self.save(*(a for a in (session, moved, arrived) if a.pending_events))
            return arrived.id

        return self._retrying(decide)

    def allocate_session(
        self, ref: SessionRef, folder: str, alyx_checked: bool, alyx_ahead: bool
    ) -> UUID:
        """Record a new session folder made by `new-session`; refuses a number already known."""

        def decide() -> UUID:
            if self.find_session(ref) is not None:
                raise SessionNumberTaken(f"session {ref.key} is already in the ledger")
            session = self._session_for(ref, folder)
            session.note_allocated(alyx_checked, alyx_ahead)
            self.save(session)
            return session.id

        return self._retrying(decide)

    def claim_create(self, session: Session, operation_id: str, pid: int) -> bool:
        """Saved just before POST /sessions, so a lost reply is looked up, not re-posted, and a
        second run does not post too. `session` is the state the caller decided on: if any other
        run changed the session since, nothing is saved and False says to decide again."""
        session.note_create_sent(operation_id, pid)
        try:
            self.save(session)
        except IntegrityError:
            return False
        return True

    def request_weighing(
        self, lab: str, nickname: str, weight: float, date_time: str, user: str
    ) -> str:
        """Record the intent to post a weighing; asking twice returns the first operation."""
        return self.ask_weighing(lab, nickname, weight, date_time, user).operation_id

    def ask_weighing(
        self,
        lab: str,
        nickname: str,
        weight: float,
        date_time: str,
        user: str,
        *,
        taken_now: bool = False,
        again: bool = False,
    ) -> Asked:
        """Record the intent to post a weighing, unless it repeats one asked for moments ago
        (`taken_now`: no time was given) or under the same key; `again` records another."""
        asked: Asked = self._intent(
            lambda: self._subject(lab, nickname),
            lambda subject: subject.request_weighing(
                weight, date_time, user, taken_now=taken_now, again=again
            ),
        )
        return asked

    def request_water(
        self,
        lab: str,
        nickname: str,
        volume: float,
        water_type: str,
        adlib: bool,
        date_time: str,
        session: str | None,
        user: str,
    ) -> str:
        """Record the intent to post a water administration; asking twice reuses the first."""
        return self.ask_water(
            lab, nickname, volume, water_type, adlib, date_time, session, user
        ).operation_id

    def ask_water(
        self,
        lab: str,
        nickname: str,
        volume: float,
        water_type: str,
        adlib: bool,
        date_time: str,
        session: str | None,
        user: str,
        *,
        taken_now: bool = False,
        again: bool = False,
    ) -> Asked:
        """Record the intent to post a water administration (repeats recognised as for a
        weighing; `session` is a link of `domain.session_link` or an eid)."""
        asked: Asked = self._intent(
            lambda: self._subject(lab, nickname),
            lambda subject: subject.request_water(
                volume,
                water_type,
                adlib,
                date_time,
                session,
                user,
                taken_now=taken_now,
                again=again,
            ),
        )
        return asked

    def record_subject_posted(self, subject_id: UUID, operation_id: str, url: str) -> None:
        """Alyx holds the weighing or water administration of `operation_id` at `url`."""
        self._update(Subject, subject_id, lambda s: s.record_posted(operation_id, url))

    def request_manifest(
        self, session_id: UUID, name: str, flag_dir: str, forced: bool = False
    ) -> str:
        return self._update(
            Session, session_id, lambda s: s.request_manifest(name, flag_dir, forced)
        )

    def record_manifest_emitted(
        self, session_id: UUID, operation_id: str, path: str, sha256: str
    ) -> None:
        self._update(
            Session, session_id, lambda s: s.record_manifest_emitted(operation_id, path, sha256)
        )

    def confirm_transfer(self, session_id: UUID, path: str) -> None:
        self._update(Session, session_id, lambda s: s.confirm_transfer(path))

    def note_transfer_stalled(self, session_id: UUID, path: str, reason: str) -> None:
        self._update(Session, session_id, lambda s: s.note_transfer_stalled(path, reason))

    # -- watchdog (issue 4) --

    def request_watchdog_restart(
        self, machine: str, executable: str, config: str, arguments: list[str]
    ) -> str:
        """Record the intent to restart the watchdog service of `machine`; returns its operation."""
        from .watchdog import WatchdogService  # imported here: block kept whole

        def decide() -> str:
            try:
                service: WatchdogService = self.repository.get(WatchdogService.create_id(machine))
            except AggregateNotFoundError:
                service = WatchdogService(machine=machine)
            operation_id = service.request_restart(executable, config, arguments)
            if service.pending_events:
                self.save(service)
            return operation_id

        return self._retrying(decide)

    def record_watchdog_restarted(
        self, service_id: UUID, operation_id: str, pid: int, stopped: int
    ) -> None:
        """The restart of `operation_id` left the service running as process `pid`."""
        from .watchdog import WatchdogService  # imported here: block kept whole

        def decide() -> None:
            service: WatchdogService = self.repository.get(service_id)
            service.record_restarted(operation_id, pid, stopped)
            self.save(service)

        self._retrying(decide)

    # -- end watchdog --

    # -- queries -------------------------------------------------------------------------------

    def session(self, session_id: UUID) -> Session:
        return self.repository.get(session_id)

    def dataset(self, dataset_id: UUID) -> Dataset:
        return self.repository.get(dataset_id)

    def find_session(self, ref: SessionRef) -> Session | None:
        """The session of this folder key, or None if the ledger never saw it."""
        try:
            return self.session(session_id_of(ref))
        except AggregateNotFoundError:
            return None

    def known_files(self, session_id: UUID) -> dict[str, KnownFile]:
        """Each file of a session as the last scan recorded it (discovered or rejected)."""
        try:
            session = self.session(session_id)
        except AggregateNotFoundError:
            return {}
        known: dict[str, KnownFile] = {}
        for rel_path in session.files:
            dataset: Dataset = self.repository.get(Dataset.create_id(session_id, rel_path))
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

    def history(self, aggregate_id: UUID) -> list[HistoryEntry]:
        """Every event of one aggregate, oldest first."""
        return [history_entry(event) for event in self.events.get(aggregate_id)]

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
        read models (`adapters.views.Views.pending_intents`), which tests check against this."""
        return fold(self.read_log()).pending(session_id)

    def refused_intents(self) -> list[PendingIntent]:
        """Intents refused for good and not asked again, in log order: what `retry` re-opens
        (folded from the whole log: retry is rare, and must see every refusal)."""
        return fold(self.read_log()).refused()

    # -- helpers -------------------------------------------------------------------------------

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

    def _dataset_for(self, session_id: UUID, observation: FileObservation) -> Dataset:
        dataset_id = Dataset.create_id(session_id, observation.rel_path)
        try:
            return self.repository.get(dataset_id)
        except AggregateNotFoundError:
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


def session_id_of(ref: SessionRef) -> UUID:
    """The session aggregate id of a parsed session folder."""
    return Session.create_id(ref.lab or "", ref.subject, ref.date.isoformat(), ref.number)


def history_entry(event: Any) -> HistoryEntry:
    """An event as plain values."""
    return HistoryEntry(
        version=event.originator_version,
        timestamp=event.timestamp.isoformat(),
        kind=getattr(event, "KIND", "fact"),
        event=type(event).__qualname__,
        **provenance.of_event(event),
        details=intent_details(event),
    )
