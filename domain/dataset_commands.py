"""The ledger's commands on files: record scans (sessions and each file's fate), ask for
registrations, record them, note protected revisions, move files into revision folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from .alf import SessionRef
from .dataset import Dataset
from .file_registration import PLACED, RegisteredReply
from .ledger_commands import LedgerCommands
from .ledger_queries import session_id_of
from .observations import Observed, ScanSummary, SessionScan
from .session import Session


class DatasetCommands(LedgerCommands):
    """Commands on datasets (files), and the scans that discover them."""

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
                dataset: Dataset = loaded.get(dataset_id) or self.repository.get(dataset_id)
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
        for observation, dataset in zip(files, self._datasets_for(session.id, files), strict=True):
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
        record: dict[str, Any],
    ) -> None:
        self._update(
            Dataset,
            dataset_id,
            lambda d: d.record_registered(
                operation_id, alyx_id, revision, default, file_records, record
            ),
        )

    def record_datasets_registered(
        self, replies: Sequence[RegisteredReply], loaded: Sequence[Dataset] = ()
    ) -> dict[UUID, str]:
        """Record the replies of one register-file request, all in ONE transaction: the request
        was one side effect, so its outcomes are saved together (one commit, not one per file).

        `loaded` are the datasets as the caller read them before the request; they are decided
        on as they are, and reloaded only when another writer saved first. A registration
        another run already recorded is left as it stands; returns those, each with the line
        that says who recorded it."""
        given = {dataset.id: dataset for dataset in loaded}

        def decide() -> dict[UUID, str]:
            elsewhere: dict[UUID, str] = {}
            changed: list[Dataset] = []
            for reply in replies:
                dataset = given.pop(reply.dataset_id, None) or self.dataset(reply.dataset_id)
                if reply.operation_id in dataset.closed_intents:
                    elsewhere[dataset.id] = dataset.done_elsewhere(reply.operation_id)
                    continue
                dataset.record_registered(
                    reply.operation_id,
                    reply.alyx_id,
                    reply.revision,
                    reply.default,
                    reply.file_records,
                    reply.record,
                )
                changed.append(dataset)
            if changed:
                self.save(*changed)
            return elsewhere

        return self._retrying(decide)

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
            if fields is not None:  # its revision decided: posted without a protection check
                arrived.request_registration({**fields, PLACED: True})
            session.note_scan([destination], [], 0)
            self.save(*(a for a in (session, moved, arrived) if a.pending_events))
            return arrived.id

        return self._retrying(decide)
