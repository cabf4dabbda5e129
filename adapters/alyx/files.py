"""Registering a session's files on Alyx from their recorded intents, protected revisions included.

One POST /register-file per session and set of options, as ONE sends it, always first with
`check_protected: true` (so Alyx writes nothing when a file is protected). On the 403
"One or more datasets is protected", each file's place is decided by the revision table
(`domain.revisions`), every decision and move is recorded before the file moves, and
the files are posted again at their final paths with `check_protected: false`, as ONE does. Run
again after a crash, the same code finishes the recorded moves first, and the protection check of
the next POST finds every moved file in an unprotected revision (it stays), so nothing moves twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from uuid import UUID

from ...domain import file_registration as files_
from ...domain.dataset import Dataset
from ...domain.errors import LabledgerError
from ...domain.pending import PendingIntent
from ...domain.recorded import AlreadyClosed
from ...domain.revisions import (
    NoFreeRevision,
    Situation,
    decide,
    protected_details,
    relocated,
)
from ...domain.session import Session
from ..filesystem.revision_moves import MoveRefused, move_file
from .errors import AlyxError, AlyxNeedsOperator, AlyxOddReply
from .intents import MOVE, REGISTER
from .reconcile import failed_before, file_records_of, kept_on_alyx
from .sessions import AlyxContext


@dataclass(frozen=True)
class Pending:
    """A dataset with its open registration: the operation to close and what to send."""

    operation_id: str
    dataset: Dataset
    fields: dict[str, Any]

    def request(self) -> files_.FileRequest:
        d = self.dataset
        md5 = d.md5 if self.fields.get("send_hash", True) else None
        return files_.FileRequest(d.rel_path, md5, d.size or 0, self.fields.get("version"))


@dataclass
class FilesReport:
    """What one session's file registration did, for the sync report."""

    registered: int = 0
    moved: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    absent_on_server: int = 0
    kept: int = 0
    """Registrations found on Alyx after an earlier failed request, recorded without a POST."""
    error: AlyxError | LabledgerError | None = None
    elsewhere: str = ""
    """Set when another run recorded some of these registrations first (it says who)."""

    def detail(self) -> str:
        parts = [f"{self.registered} registered"]
        if self.kept:
            parts.append(
                f"{self.kept} found on Alyx after an earlier failed request, not sent again"
            )
        if self.moved:
            parts.append("moved " + ", ".join(self.moved))
        if self.refused:
            parts.append("protected, refused: " + ", ".join(self.refused))
        if self.absent_on_server:
            parts.append(
                f"{self.absent_on_server} not yet present on a server repository (exists: false)"
            )
        if self.elsewhere:
            parts.append(self.elsewhere)
        if self.error is not None:
            parts.append(str(self.error))
        return "; ".join(parts)


def _group_key(fields: dict[str, Any]) -> str:
    """Files posted together: the same options, and placed by a move or not (see `_post`)."""
    return json.dumps([fields.get("options", {}), bool(fields.get(files_.PLACED))], sort_keys=True)


def register_files(
    context: AlyxContext, session_id: UUID, intents: Sequence[PendingIntent]
) -> FilesReport:
    """Perform the session's open moves, then its file registrations, one POST per options.

    A move hands its file's registration to the new path; that registration is performed here
    too, so the log is not read again."""
    ledger = context.ledger
    session = ledger.session(session_id)
    report = FilesReport()
    registrations: list[Pending] = []
    for intent in intents:
        if intent.intent == MOVE:
            try:
                arrived = _move(context, session, intent.aggregate_id, intent.operation_id, report)
            except MoveRefused as error:  # recorded as the move's failure; the rest goes on
                report.error = error
                continue
            if arrived is not None:
                registrations.append(arrived)
    held = ledger.aggregates(i.aggregate_id for i in intents if i.intent == REGISTER)
    for intent in intents:
        if intent.intent == REGISTER:
            dataset = held.get(intent.aggregate_id) or ledger.dataset(intent.aggregate_id)
            if intent.operation_id in dataset.open_intents:  # not handed on by a move above
                fields = dict(intent.details.get("fields", {}))
                registrations.append(Pending(intent.operation_id, dataset, fields))
    groups: dict[str, list[Pending]] = {}
    for pending in registrations:
        groups.setdefault(_group_key(pending.fields), []).append(pending)
    for group in groups.values():
        options = files_.FileOptions.from_fields(group[0].fields["options"])
        if not options.created_by:  # asked before a user was configured: whoever performs it
            options = replace(options, created_by=context.user)
        try:
            if failed_before(group):  # the server may have kept part of the earlier request
                group, kept = kept_on_alyx(context, session, group)
                report.registered += kept
                report.kept += kept
                if not group:
                    continue
            _post(context, session, group, options, report)
        except (AlyxError, LabledgerError) as error:
            keep = isinstance(error, AlyxError) and error.keeps_pending
            for pending in _still_open(context, group):
                ledger.record_failure(pending.dataset.id, pending.operation_id, str(error), keep)
            report.error = error
    return report


def _still_open(context: AlyxContext, group: Sequence[Pending]) -> list[Pending]:
    """The group's registrations still open (a move may have handed some to a new path)."""
    still: list[Pending] = []
    for pending in group:
        dataset = context.ledger.dataset(pending.dataset.id)
        if pending.operation_id in dataset.open_intents:
            still.append(pending)
    return still


def _post(
    context: AlyxContext,
    session: Session,
    group: list[Pending],
    options: files_.FileOptions,
    report: FilesReport,
) -> None:
    ref = session.ref
    # Files a recorded move put into the revision the table chose are posted as the run that
    # moved them posts them, without a second protection check, also when a later sync finishes
    # that run's work (the check would answer 403 for the revision they left, and record it).
    check = not group[0].fields.get(files_.PLACED)
    body = files_.body(ref, [p.request() for p in group], options, check_protected=check)
    try:
        replies = context.client.post("/register-file", body, retry=True)
    except AlyxNeedsOperator as error:
        if error.status == 500 and "LabMember" in error.message:  # Alyx names no one
            raise AlyxNeedsOperator(
                500,
                f"Alyx has no user {options.created_by}, sent as created_by; set alyx.username "
                "(or created_by) to an Alyx user (the work stays pending)",
                error.body,
            ) from None
        raise
    except AlyxError as error:
        details = error.protected_details
        if details is None:
            raise
        second = _decide_protected(context, session, group, options, details, report)
        if not second:
            return
        body = files_.body(ref, [p.request() for p in second], options, check_protected=False)
        replies = context.client.post("/register-file", body, retry=True)
        group = second
    _record(context, group, replies, report)


def _decide_protected(
    context: AlyxContext,
    session: Session,
    group: list[Pending],
    options: files_.FileOptions,
    details: list[dict[str, Any]],
    report: FilesReport,
) -> list[Pending]:
    """Apply the revision table to each file; record, then move; return what to post again."""
    ledger = context.ledger
    verdicts = protected_details(details)
    today = context.today()
    again: list[Pending] = []
    for pending in group:
        dataset = pending.dataset
        info = verdicts.get(dataset.rel_path, [])
        if info:
            ledger.note_revision_protected(dataset.id, info, today)
        try:
            decision = decide(Situation.of(dataset.revision, info, today))
        except NoFreeRevision as error:
            ledger.record_failure(dataset.id, pending.operation_id, str(error), False)
            report.refused.append(dataset.rel_path)
            continue
        if decision.revision is None:
            again.append(pending)
            continue
        destination = relocated(dataset.collection, dataset.name, decision.revision)
        if options.refuse_protected:
            ledger.record_failure(
                dataset.id,
                pending.operation_id,
                f"{dataset.rel_path} is protected on Alyx ({decision.row}); refused as asked "
                f"(--refuse-protected); without it the file would move to {destination}",
                False,
            )
            report.refused.append(dataset.rel_path)
            continue
        if decision.differs_from_one:
            context.warn(
                f"{dataset.rel_path}: labledger registers revision {decision.revision}, ONE would "
                f"have used {decision.one_would} (an existing revision it would overwrite)"
            )
        operation = ledger.request_move(dataset.id, destination, decision.why)
        try:
            moved_to = _move(context, session, dataset.id, operation, report)
        except MoveRefused as error:  # recorded as this file's failure; the others go on
            report.error = error
            continue
        if moved_to is not None:
            again.append(moved_to)
    return again


def _move(
    context: AlyxContext, session: Session, dataset_id: UUID, operation_id: str, report: FilesReport
) -> Pending | None:
    """Perform a recorded move; the moved file's registration continues at its new path."""
    ledger = context.ledger
    dataset = ledger.dataset(dataset_id)
    source, destination = dataset.move_of(operation_id)
    try:
        move_file(Path(session.folder), source, destination, dataset.size or 0, dataset.md5 or "")
    except MoveRefused as error:
        ledger.record_failure(dataset_id, operation_id, str(error), False)
        raise
    try:
        arrived_id = ledger.record_moved(dataset_id, operation_id, source, destination)
    except AlreadyClosed as elsewhere:  # a racing run moved it and recorded the move first
        report.elsewhere = str(elsewhere)
        return None
    report.moved.append(f"{source} -> {destination}")
    arrived = ledger.dataset(arrived_id)
    operation = arrived.open_registration()
    if operation is None:
        return None
    return Pending(operation, arrived, arrived.registration_fields[operation])


def _record(context: AlyxContext, group: list[Pending], replies: Any, report: FilesReport) -> None:
    """Record the replies (aligned with the request's filenames) as their datasets' outcomes,
    in one transaction: the request was one side effect."""
    outcomes: list[files_.RegisteredReply] = []
    for pending, reply in zip(group, _replies_of(group, replies), strict=True):
        records = file_records_of(reply)
        outcomes.append(
            files_.RegisteredReply(
                pending.dataset.id,
                pending.operation_id,
                str(reply["id"]),
                str(reply.get("revision") or ""),
                bool(reply.get("default")),
                records,
                dict(reply),
            )
        )
        report.registered += 1
        if not any(r["exists"] for r in records):
            report.absent_on_server += 1
    elsewhere = context.ledger.record_datasets_registered(
        outcomes, [pending.dataset for pending in group]
    )
    if elsewhere:  # a racing run recorded some of the same replies first
        report.elsewhere = next(iter(elsewhere.values()))


def _replies_of(group: list[Pending], replies: Any) -> list[dict[str, Any]]:
    """The register-file reply, checked: one dataset record (with its id) per file sent, each
    file record a mapping; else `AlyxOddReply`, and nothing is recorded as registered."""
    if (
        isinstance(replies, list)
        and len(replies) == len(group)
        and all(
            isinstance(reply, dict)
            and isinstance(reply.get("id"), str)
            and isinstance(reply.get("file_records") or [], list)
            and all(isinstance(record, dict) for record in reply.get("file_records") or [])
            for reply in replies
        )
    ):
        return replies
    shown = json.dumps(replies)[:80]
    raise AlyxOddReply(
        200,
        f"Alyx answered POST /register-file with {shown!r}, not one dataset record per file "
        f"sent ({len(group)}); check alyx.base_url points at Alyx (the work stays pending)",
    )
