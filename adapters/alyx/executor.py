"""The Alyx executor of `sync`: sessions, their files and moves, weighings and water, in order.

Sessions are independent of each other, so they are performed in parallel by a bounded pool
sharing one HTTP connection pool; within a session the order is fixed: the session itself, then
its recorded moves, then its files. Weighings and water come last (a water record may name a
session registered in the same run). A failure the server or the operator can put right (server
down, throttled or failing, a refused login, a user or subject Alyx does not know) leaves the
intent pending, reported as queued or blocked; only a refusal of the request's content closes it
as failed. Files are never sent before their session is on Alyx.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from ...domain.errors import LabledgerError
from ...domain.outcomes import Outcome, SyncResult
from ...domain.pending import PendingIntent
from ...domain.recorded import AlreadyClosed
from ...domain.session import Session
from ...domain.subject import Subject, describe_record
from ...projections.words import plural
from ..filesystem.revision_moves import MoveRefused
from ..identity import carrying_context
from .day_order import DayOrder
from .errors import AlyxError
from .files import register_files
from .intents import CLAIMED, MOVE, REGISTER, SESSION, WATER, WEIGHING
from .sessions import AlyxContext, on_alyx, register_session
from .subjects import SessionNotRegistered, post_record

CREATE = "register session"
"""The action of a session's creation (or update) in sync's report."""


def outcome_of(error: LabledgerError | None) -> Outcome:
    """How a failure is reported: queued (the server may recover by itself), blocked (pending
    until the operator fixes what the message names: a login, a name, a file in the way of a
    revision move) or failed (the request was refused)."""
    if error is None:
        return "done"
    if isinstance(error, AlyxError) and error.retryable:
        return "queued"
    if isinstance(error, AlyxError) and error.keeps_pending:
        return "blocked"
    if isinstance(error, MoveRefused):  # the file's registration stays pending meanwhile
        return "blocked"
    return "failed"


def _failed(context: AlyxContext, intent: PendingIntent, error: LabledgerError) -> Outcome:
    """Record the failure of an intent (kept pending unless it failed); how it ended."""
    outcome = outcome_of(error)
    context.ledger.record_failure(
        intent.aggregate_id, intent.operation_id, str(error), outcome != "failed"
    )
    return outcome


class AlyxExecutor:
    """Performs every Alyx intent; `workers` sessions at a time."""

    def __init__(
        self,
        context: AlyxContext,
        workers: int = 4,
        pending: Callable[[], Sequence[PendingIntent]] | None = None,
    ) -> None:
        self.context = context
        self.workers = workers
        self.pending = pending
        """Every pending intent of the ledger (not only those given to `perform`): a command
        that creates one session learns here of the files its day's other sessions still owe."""
        self._days = DayOrder(context.ledger, ())

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
        days = self._by_day(by_session)
        self._days = DayOrder(self.context.ledger, self.pending() if self.pending else intents)
        if len(days) > 1 and self.workers > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="alyx") as pool:
                task = carrying_context(self._sessions_of_day)
                for done in pool.map(task, days):
                    results.extend(done)
        else:
            for day in days:
                results.extend(self._sessions_of_day(day))
        results.extend(self._record(intent) for intent in records)
        return results

    def _by_day(
        self, by_session: dict[UUID, list[PendingIntent]]
    ) -> list[list[tuple[UUID, list[PendingIntent]]]]:
        """The sessions grouped by subject and date, each group in sync order.

        Alyx links the sessions of one subject and day: `register-file` makes the session it
        registers into a child of the newest session of that day without a parent, so two
        sessions of a day created before either's files are registered end up parent and child,
        while registered one after the other they stay apart (see `day_order`). A day's
        sessions therefore run one after the other, in one task; only different days and
        subjects run in parallel."""
        days: dict[tuple[str, str], list[tuple[UUID, list[PendingIntent]]]] = {}
        for session_id, mine in by_session.items():
            session = self.context.ledger.session(session_id)
            days.setdefault((session.subject, session.date), []).append((session_id, mine))
        return list(days.values())

    def _sessions_of_day(self, day: list[tuple[UUID, list[PendingIntent]]]) -> list[SyncResult]:
        return [result for session_id, mine in day for result in self._session(session_id, mine)]

    def _wait_for(
        self, session_id: UUID, intents: list[PendingIntent], why: str
    ) -> list[SyncResult]:
        """The results of a session left to wait (`why`, see `day_order`): nothing sent,
        nothing recorded, its intents stay pending as they are."""
        key = self.context.ledger.session(session_id).key
        results = []
        if any(intent.intent == SESSION for intent in intents):
            results.append(SyncResult(key, CREATE, "queued", why))
            why = "waits for session"
        files = sum(1 for intent in intents if intent.intent in (REGISTER, MOVE))
        if files:
            results.append(SyncResult(key, f"register {plural(files, 'file')}", "queued", why))
        return results

    def _session(self, session_id: UUID, intents: list[PendingIntent]) -> list[SyncResult]:
        context = self.context
        key = context.ledger.session(session_id).key
        results: list[SyncResult] = []
        for intent in intents:
            if intent.intent != SESSION:
                continue
            if context.ledger.session(session_id).eid is None:
                waits = self._days.blocker(intent)
                if waits is not None:  # Alyx would link the day's sessions otherwise
                    return self._wait_for(session_id, intents, waits)
            try:
                eid, done = register_session(context, intent)
            except AlreadyClosed as elsewhere:
                results.append(SyncResult(key, CREATE, "done", str(elsewhere)))
                continue
            except LabledgerError as error:
                results.append(SyncResult(key, CREATE, _failed(context, intent, error), str(error)))
                waiting = sum(1 for i in intents if i.intent != SESSION)
                if waiting:
                    results.append(
                        SyncResult(
                            key,
                            f"register {plural(waiting, 'file')}",
                            "queued",
                            "waits for session",
                        )
                    )
                return results
            results.append(SyncResult(key, CREATE, "done", f"{done}; eid {eid}"))
        files = [intent for intent in intents if intent.intent in (REGISTER, MOVE)]
        if files:
            why = self._waits_for_session(session_id)
            if why is not None:
                results.append(
                    SyncResult(key, f"register {plural(len(files), 'file')}", "blocked", why)
                )
                return results
            report = register_files(context, session_id, intents)
            outcome = outcome_of(report.error)
            if report.refused and outcome == "done":
                outcome = "failed"
            results.append(SyncResult(key, "register files", outcome, report.detail()))
        return results

    def _waits_for_session(self, session_id: UUID) -> str | None:
        """None when the session is on Alyx (registered by the ledger, or found there: ONE's
        scripts register files of sessions the rig created); else why its files wait. Files
        are never posted before their session exists: Alyx would refuse them for good ("A
        base session … does not exist")."""
        session = self.context.ledger.session(session_id)
        if session.eid is not None:
            return None
        refusal = _registration_refused(session)
        if refusal is not None:  # what Alyx holds under that name is another session
            return (
                f"waits for the session, which is not on Alyx: its registration was refused "
                f"({refusal}); fix that, then `labledger retry {session.key}`"
            )
        if on_alyx(self.context, session.ref) is not None:
            return None
        return (
            f"waits for the session, which is not on Alyx: register it (`labledger register "
            f"{session.folder}`), or re-open its refused registration (`labledger retry "
            f"{session.key}`)"
        )

    def _record(self, intent: PendingIntent) -> SyncResult:
        what = "weighing" if intent.intent == WEIGHING else "water administration"
        subject: Subject = self.context.ledger.repository.get(intent.aggregate_id)
        target = f"{subject.nickname}: {describe_record(intent.intent, intent.details)}"
        try:
            url, done = post_record(self.context, intent)
        except AlreadyClosed as elsewhere:
            return SyncResult(target, what, "done", str(elsewhere))
        except SessionNotRegistered as waiting:
            return SyncResult(target, what, "queued", str(waiting))
        except LabledgerError as error:
            return SyncResult(target, what, _failed(self.context, intent, error), str(error))
        return SyncResult(target, what, "done", f"{done}: {url}")


def _registration_refused(session: Session) -> str | None:
    """Why Alyx refused this session's registration for good, if it did and it was not asked
    again: its files must not go into whatever Alyx holds under the same subject, date and
    number (another rig's session, when this folder's number was taken offline)."""
    for operation_id, reason in session.refused.items():
        if session.closed_intents.get(operation_id) == "RegistrationRequested":
            return reason
    return None
