"""The Alyx executor of `sync`: sessions, their files and moves, weighings and water, in order.

Sessions are independent of each other, so they are performed in parallel by a bounded pool
sharing one HTTP connection pool; within a session the order is fixed: the session itself, then
its recorded moves, then its files. Weighings and water come last (a water record may name a
session registered in the same run). A retryable failure (server down, throttled, no reply)
leaves the intent pending and reports it as queued; a refusal closes it as failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from labledger.adapters.alyx_errors import AlyxError
from labledger.adapters.alyx_files import MOVE, REGISTER, register_files
from labledger.adapters.alyx_sessions import AlyxContext, register_session
from labledger.adapters.alyx_subjects import WATER, WEIGHING, SessionNotRegistered, post_record
from labledger.adapters.identity import carrying_context
from labledger.adapters.sync import Outcome, SyncResult
from labledger.domain.errors import LabledgerError
from labledger.domain.pending import PendingIntent

SESSION = "Session.RegistrationRequested"
CLAIMED = frozenset({SESSION, REGISTER, MOVE, WEIGHING, WATER})


def _failed(context: AlyxContext, intent: PendingIntent, error: LabledgerError) -> bool:
    """Record the failure of an intent; True when it stays pending (retryable)."""
    retryable = isinstance(error, AlyxError) and error.retryable
    context.ledger.record_failure(intent.aggregate_id, intent.operation_id, str(error), retryable)
    return retryable


class AlyxExecutor:
    """Performs every Alyx intent; `workers` sessions at a time."""

    def __init__(self, context: AlyxContext, workers: int = 4) -> None:
        self.context = context
        self.workers = workers

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent in CLAIMED

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        return []

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        by_session: dict[UUID, list[PendingIntent]] = {}
        records: list[PendingIntent] = []
        for intent in intents:
            if intent.intent in (WEIGHING, WATER):
                records.append(intent)
            elif intent.session_id is not None:
                by_session.setdefault(intent.session_id, []).append(intent)
        results: list[SyncResult] = []
        if len(by_session) > 1 and self.workers > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="alyx") as pool:
                task = carrying_context(self._session_of)
                for done in pool.map(task, by_session.items()):
                    results.extend(done)
        else:
            for session_id, mine in by_session.items():
                results.extend(self._session(session_id, mine))
        results.extend(self._record(intent) for intent in records)
        return results

    def _session_of(self, item: tuple[UUID, list[PendingIntent]]) -> list[SyncResult]:
        return self._session(*item)

    def _session(self, session_id: UUID, intents: list[PendingIntent]) -> list[SyncResult]:
        context = self.context
        key = context.ledger.session(session_id).key
        results: list[SyncResult] = []
        for intent in intents:
            if intent.intent != SESSION:
                continue
            try:
                eid, done = register_session(context, intent)
            except LabledgerError as error:
                queued = _failed(context, intent, error)
                results.append(
                    SyncResult(
                        key, "register session", "queued" if queued else "failed", str(error)
                    )
                )
                waiting = sum(1 for i in intents if i.intent != SESSION)
                if waiting:
                    results.append(
                        SyncResult(key, f"register {waiting} files", "queued", "waits for session")
                    )
                return results
            results.append(SyncResult(key, "register session", "done", f"{done}; eid {eid}"))
        if any(intent.intent in (REGISTER, MOVE) for intent in intents):
            report = register_files(context, session_id, intents)
            outcome: Outcome = "done"
            if isinstance(report.error, AlyxError) and report.error.retryable:
                outcome = "queued"
            elif report.error is not None:
                outcome = "failed"
            if report.refused and outcome == "done":
                outcome = "failed"
            results.append(SyncResult(key, "register files", outcome, report.detail()))
        return results

    def _record(self, intent: PendingIntent) -> SyncResult:
        what = "weighing" if intent.intent == WEIGHING else "water administration"
        target: str = self.context.ledger.repository.get(intent.aggregate_id).nickname
        try:
            url, done = post_record(self.context, intent)
        except SessionNotRegistered as waiting:
            return SyncResult(target, what, "queued", str(waiting))
        except LabledgerError as error:
            queued = _failed(self.context, intent, error)
            return SyncResult(target, what, "queued" if queued else "failed", str(error))
        return SyncResult(target, what, "done", f"{done}: {url}")


class OfflineAlyx:
    """No Alyx server configured: Alyx intents stay queued, and the report says why."""

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent in CLAIMED

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        return [
            SyncResult(
                "Alyx",
                f"{len(intents)} pending",
                "queued",
                "no Alyx server configured (alyx.base_url); recorded, not sent",
            )
        ]

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        return []
