"""Performing pending work: every intent without its final outcome goes to the executor for it.

Resume after a crash, offline mode and retries are one code path: `labledger sync` (and every
command that records an intent, right after recording it) hands the pending intents, in the order
of `domain.sync_order`, to the executors. Each executor claims the intents of its external system
(Alyx, the watchdog's folder), performs them idempotently and records their outcomes itself. An
executor whose system is not configured or not reachable records nothing new and reports the work
as queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from ..domain.outcomes import Executor, SyncResult
from ..domain.sync_order import sync_order
from .database.views import Views


def perform_pending(
    views: Views,
    executors: Sequence[Executor],
    session_ids: frozenset[UUID] | None = None,
    subjects_only: bool = False,
    operations: frozenset[str] | None = None,
) -> list[SyncResult]:
    """Give every pending intent (of these sessions, or all; or only the subjects' weighings
    and water; or only these operations) to its executor, in the order `labledger pending`
    shows (`sync_order`).

    The pending intents come from the tracked views: only the events recorded since the last
    sync or report are read, not the whole log."""
    pending = [
        intent
        for intent in sync_order(views.pending_intents())
        if not (subjects_only and intent.session_id is not None)
        and (session_ids is None or intent.session_id in session_ids)
        and (operations is None or intent.operation_id in operations)
    ]
    results: list[SyncResult] = []
    claimed: set[tuple[UUID, str]] = set()
    for executor in executors:
        mine = [intent for intent in pending if executor.claims(intent)]
        claimed.update((intent.aggregate_id, intent.operation_id) for intent in mine)
        if mine:
            results.extend(executor.perform(mine))
        if not subjects_only:
            results.extend(executor.follow_up(session_ids))
    results.extend(
        SyncResult(
            target=str(intent.aggregate_id),
            action=intent.intent,
            outcome="queued",
            detail="no executor for this kind of intent in this installation",
        )
        for intent in pending
        if (intent.aggregate_id, intent.operation_id) not in claimed
    )
    return results
