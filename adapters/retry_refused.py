"""`retry`: ask again for work that was refused for good, after the operator fixed the cause.

Only a refusal of a request's own content closes an intent (a login, a setting or a name Alyx does
not know keep it pending). When the operator has put such a cause right on the server, in the
files or in the request's surroundings, `labledger retry` records each refused intent again (a new
operation, the same fields) together with the fact that it retries the refused one; the next sync
performs it. Nothing is sent twice: a refused request made nothing on the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from ..domain.dataset import Dataset
from ..domain.errors import LabledgerError
from ..domain.pending import PendingIntent
from ..domain.subject import Subject, describe_record
from ..domain.sync_order import stage_of
from ..projections.selection import select_sessions
from .database.views import Views
from .filesystem.user_dirs import expand_user

MIN_OPERATION_PREFIX = 8
"""Characters of an operation id that name it (as `labledger pending --json` shows it)."""


@dataclass(frozen=True)
class Reopened:
    """One refused intent asked again."""

    target: str
    """The session key, the file (`key/rel_path`) or the subject it is about."""
    action: str
    reason: str
    """Why it had been refused."""
    session_id: UUID | None
    operation_id: str
    """The new operation sync performs."""


def choose(
    views: Views, refused: Sequence[PendingIntent], wanted: Sequence[str]
) -> list[PendingIntent]:
    """The refused intents the operator names: operation ids (or their first 8+ characters),
    subjects (their weighings and water), sessions (their own and their files' work); all of
    them when nothing is named. A name that matches nothing is refused in one line."""
    if not wanted:
        return list(refused)
    chosen: dict[tuple[UUID, str], PendingIntent] = {}
    subjects = _subjects(views, refused)
    sessions = views.sessions()
    for text in wanted:
        found = [
            intent
            for intent in refused
            if len(text) >= MIN_OPERATION_PREFIX and intent.operation_id.startswith(text)
        ] or [intent for intent in refused if subjects.get(intent.aggregate_id) == text]
        if not found:
            path = expand_user(Path(text))
            ids = {
                UUID(session.id)
                for session in select_sessions(
                    sessions, [text], [(path.absolute(), path.resolve())]
                )
            }
            found = [intent for intent in refused if intent.session_id in ids]
            if not found:
                raise LabledgerError(
                    f"nothing refused in {text!r}: `labledger status` shows its state, "
                    "`labledger pending` what still waits"
                )
        chosen.update({(intent.aggregate_id, intent.operation_id): intent for intent in found})
    return [intent for intent in refused if (intent.aggregate_id, intent.operation_id) in chosen]


def reopen(views: Views, intents: Sequence[PendingIntent]) -> list[Reopened]:
    """Record each refused intent again (one transaction per aggregate, in log order)."""
    ledger = views.ledger
    keys = {UUID(session.id): session.key for session in views.sessions()}
    done: list[Reopened] = []
    for intent in intents:
        operation = ledger.retry(intent.aggregate_id, intent.operation_id)
        done.append(
            Reopened(
                target=_target(views, intent, keys),
                action=stage_of(intent).action,
                reason=intent.last_error or "",
                session_id=intent.session_id,
                operation_id=operation,
            )
        )
    return done


def _target(views: Views, intent: PendingIntent, keys: dict[UUID, str]) -> str:
    key = keys.get(intent.session_id) if intent.session_id else None
    if intent.intent.startswith("Dataset."):
        dataset: Dataset = views.ledger.dataset(intent.aggregate_id)
        return f"{key}/{dataset.rel_path}"
    if intent.intent.startswith("Subject."):
        subject: Subject = views.ledger.repository.get(intent.aggregate_id)
        return f"{subject.nickname}: {describe_record(intent.intent, intent.details)}"
    return key or str(intent.aggregate_id)


def _subjects(views: Views, refused: Sequence[PendingIntent]) -> dict[UUID, str]:
    """Nickname of each subject that has refused work."""
    found: dict[UUID, str] = {}
    for intent in refused:
        if intent.intent.startswith("Subject."):
            subject: Subject = views.ledger.repository.get(intent.aggregate_id)
            found[intent.aggregate_id] = subject.nickname
    return found
