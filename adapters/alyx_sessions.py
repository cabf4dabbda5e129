"""Creating or updating a session on Alyx, from its recorded intent, without ever a duplicate.

Alyx accepts two identical POST /sessions (quirk S-1), so a create is only sent after a lookup by
subject + date + number found nothing, and `CreateSent` is saved just before it: after a lost
reply the next run looks up again and adopts what the server made. An existing session is updated
with only the fields the operator gave (ONE's PUT resets the others, quirk C-11).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labledger.adapters.alyx_client import AlyxClient
from labledger.adapters.alyx_errors import AlyxNeedsOperator, AlyxRefused
from labledger.domain.alf import SessionRef
from labledger.domain.errors import LabledgerError
from labledger.domain.ledger import Ledger
from labledger.domain.pending import PendingIntent
from labledger.domain.session_fields import create_body, update_body

Warn = Callable[[str], None]


class NumberTakenElsewhere(LabledgerError):
    """A number allocated offline was meanwhile registered on Alyx by another rig."""


@dataclass
class AlyxContext:
    """What every Alyx performer needs: the ledger, the client, who acts, how to warn."""

    ledger: Ledger
    client: AlyxClient
    user: str
    today: Callable[[], str]
    warn: Warn


def eid_of(record: dict[str, Any]) -> str:
    """A record's id: its `id`, or the last 36 characters of its `url` (weighings have no id)."""
    return str(record.get("id") or str(record["url"])[-36:])


def check_subject(context: AlyxContext, nickname: str, typed: bool = False) -> dict[str, Any]:
    """GET /subjects/<nickname>. A session's subject (from its folder) that Alyx does not know
    waits until the animal is created on Alyx, a common omission before its first session. A
    name the operator `typed` (weigh, water) refuses the request: it may be a typo; once the
    subject exists, `labledger retry` re-opens it."""
    try:
        subject: dict[str, Any] = context.client.get(f"/subjects/{nickname}")
    except AlyxRefused as error:
        if error.status != 404:
            raise
        if typed:
            raise AlyxRefused(
                404,
                f"subject {nickname} does not exist on Alyx; ask again with the right name, or "
                "create it there and run `labledger retry`",
                error.body,
            ) from None
        raise AlyxNeedsOperator(
            404,
            f"subject {nickname} does not exist on Alyx; create it there, or correct the folder "
            "name (the work stays pending)",
            error.body,
        ) from None
    return subject


def check_users(context: AlyxContext, users: list[str], given: bool = True) -> None:
    """GET /users/<name> for each user. A user the operator typed in the request (`given`) that
    Alyx does not know refuses the request (ask again with the right name); the configured user
    that Alyx does not know is a setting to fix, and the work waits for it."""
    for user in users:
        try:
            context.client.get(f"/users/{user}")
        except AlyxRefused as error:
            if error.status != 404:
                raise
            if given:
                raise AlyxRefused(
                    404,
                    f"user {user} does not exist on Alyx; ask again with the right --users",
                    error.body,
                ) from None
            raise AlyxNeedsOperator(
                404,
                f"user {user} (alyx.username) does not exist on Alyx; set alyx.username to an "
                "Alyx user (the work stays pending)",
                error.body,
            ) from None


def find_sessions(context: AlyxContext, ref: SessionRef) -> list[dict[str, Any]]:
    """ONE's lookup: subject + date_range=D,D + number, never from a cache; newest first."""
    day = ref.date.isoformat()
    return context.client.list(
        "/sessions", {"subject": ref.subject, "date_range": f"{day},{day}", "number": ref.number}
    )


def register_session(context: AlyxContext, intent: PendingIntent) -> tuple[str, str]:
    """Perform a Session.RegistrationRequested; returns (eid, what was done)."""
    session = context.ledger.session(intent.aggregate_id)
    ref = session.ref
    fields: dict[str, Any] = dict(intent.details.get("fields", {}))
    check_subject(context, ref.subject)
    check_users(context, list(fields.get("users") or []))
    hits = find_sessions(context, ref)
    if len(hits) > 1:
        context.warn(
            f"Alyx holds {len(hits)} sessions {ref.alyx_path} (duplicates, quirk S-1); "
            f"labledger uses the newest, {eid_of(hits[0])}, as ONE does"
        )
    if hits:
        if session.allocated_offline and not session.create_sent:
            raise NumberTakenElsewhere(
                f"Alyx already holds {ref.alyx_path} ({eid_of(hits[0])}), registered by another "
                "rig after this folder was made offline; rename the folder to a free number"
            )
        eid = eid_of(hits[0])
        held = context.client.get(f"/sessions/{eid}")
        body = update_body(ref, fields, held)
        if body is None:
            done = "already on Alyx, unchanged"
        else:
            context.client.put(f"/sessions/{eid}", body)
            done = "updated " + ", ".join(sorted(set(body) & set(fields)))
    else:
        context.ledger.note_create_sent(session.id, intent.operation_id)
        reply = context.client.post(
            "/sessions", create_body(ref, fields, context.user), retry=False
        )
        eid, done = eid_of(reply), "created"
    context.ledger.record_session_registered(session.id, intent.operation_id, eid)
    return eid, done
