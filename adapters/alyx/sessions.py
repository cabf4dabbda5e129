"""Creating or updating a session on Alyx, from its recorded intent, without ever a duplicate.

Alyx accepts two identical POST /sessions, so a create is only sent after a lookup by
subject + date + number found nothing, and `CreateSent` is saved just before it: after a lost
reply the next run looks up again and adopts what the server made. An existing session is updated
with only the fields the operator gave (ONE's PUT resets the others).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ...domain.alf import SessionRef
from ...domain.errors import LabledgerError
from ...domain.ledger import Ledger
from ...domain.pending import PendingIntent
from ...domain.recorded import AlreadyClosed, RecordedAggregate
from ...domain.session import CreateClaim, Session
from ...domain.session_fields import create_body, update_body
from .client import AlyxClient
from .errors import AlyxNeedsOperator, AlyxRefused, AlyxUnreachable

Warn = Callable[[str], None]
A = TypeVar("A", bound=RecordedAggregate)


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
    subjects_seen: set[str] = field(default_factory=set)
    """Subjects this command found on Alyx: a session's creation checks each subject once per
    command, not once per session (a rig's twenty sessions of one animal cost one GET). A
    weighing or water record reads its subject afresh: it looks at the subject's records."""


def eid_of(record: dict[str, Any]) -> str:
    """A record's id: its `id`, or the last 36 characters of its `url` (weighings have no id)."""
    return str(record.get("id") or str(record["url"])[-36:])


def held(client: AlyxClient, endpoint: str) -> dict[str, Any] | None:
    """GET one record; None when Alyx has none there (404)."""
    try:
        record: dict[str, Any] = client.get(endpoint, record=True)
    except AlyxRefused as error:
        if error.status == 404:
            return None
        raise
    return record


def check_subject(context: AlyxContext, nickname: str, typed: bool = False) -> dict[str, Any]:
    """GET /subjects/<nickname>. A session's subject (from its folder) that Alyx does not know
    waits until the animal is created on Alyx, a common omission before its first session. A
    name the operator `typed` (weigh, water) refuses the request: it may be a typo; once the
    subject exists, `labledger retry` re-opens it."""
    subject = held(context.client, f"/subjects/{nickname}")
    if subject is not None:
        return subject
    if typed:
        raise AlyxRefused(
            404,
            f"subject {nickname} does not exist on Alyx; ask again with the right name, or "
            "create it there and run `labledger retry`",
        )
    raise AlyxNeedsOperator(
        404,
        f"subject {nickname} does not exist on Alyx; create it there, or correct the folder "
        "name (the work stays pending)",
    )


def check_users(context: AlyxContext, users: list[str]) -> None:
    """GET /users/<name> for each user the request names; one Alyx does not know refuses the
    request (a typo: ask again with the right name). The logged-in user needs no check: the
    login itself proved it exists."""
    for user in users:
        if held(context.client, f"/users/{user}") is None:
            raise AlyxRefused(
                404, f"user {user} does not exist on Alyx; ask again with an Alyx user name"
            )


def find_sessions(context: AlyxContext, ref: SessionRef) -> list[dict[str, Any]]:
    """ONE's lookup: subject + date_range=D,D + number, never from a cache; newest first."""
    day = ref.date.isoformat()
    return context.client.list(
        "/sessions",
        {"subject": ref.subject, "date_range": f"{day},{day}", "number": ref.number},
        records=True,
    )


def on_alyx(context: AlyxContext, ref: SessionRef) -> str | None:
    """The eid Alyx holds for this session (subject, date, number), or None. Of duplicates
    (Alyx accepts two identical creates), the newest, as ONE takes it, with a warning."""
    hits = find_sessions(context, ref)
    if not hits:
        return None
    if len(hits) > 1:
        context.warn(
            f"Alyx holds {len(hits)} sessions {ref.alyx_path} (duplicates); labledger uses the "
            f"newest, {eid_of(hits[0])}, as ONE does"
        )
    return eid_of(hits[0])


def register_session(context: AlyxContext, intent: PendingIntent) -> tuple[str, str]:
    """Perform a Session.RegistrationRequested; returns (eid, what was done).

    Raises `AlreadyClosed` when another run (a second process, another rig on the shared
    ledger) registered the session meanwhile: its record stands."""
    ref = context.ledger.session(intent.aggregate_id).ref
    fields: dict[str, Any] = dict(intent.details.get("fields", {}))
    if ref.subject not in context.subjects_seen:
        check_subject(context, ref.subject)
        context.subjects_seen.add(ref.subject)
    check_users(context, list(fields.get("users") or []))
    for _ in range(CLAIM_ATTEMPTS):
        session = _settled(context, intent)
        held_eid = on_alyx(context, ref)
        if held_eid is not None:
            record, done = _adopt(context, session, held_eid, fields)
            break
        if context.ledger.claim_create(session, intent.operation_id, os.getpid()):
            record = context.client.post(
                "/sessions", create_body(ref, fields, context.user), retry=False, record=True
            )
            done = "created"
            break
    else:
        raise CreateContended(
            None,
            f"other runs keep registering {ref.key} at the same time; it stays queued for "
            "`labledger sync`",
        )
    eid = eid_of(record)
    context.ledger.record_session_registered(session.id, intent.operation_id, eid, record)
    return eid, done


CLAIM_ATTEMPTS = 3
"""Times a run decides again after another run changed the session under it."""

POLL_SECONDS = 0.2
"""How often a run waiting for another run's create looks at the ledger again."""


class CreateContended(AlyxUnreachable):
    """Other runs kept changing the session while this one tried to create it: stays queued."""


def _settled(context: AlyxContext, intent: PendingIntent) -> Session:
    """The session, once no other live run is waiting for the reply to its POST /sessions."""
    session: Session = settled(
        context,
        lambda: context.ledger.session(intent.aggregate_id),
        lambda session: session.create_claim,
        intent.operation_id,
    )
    return session


def settled(
    context: AlyxContext,
    load: Callable[[], A],
    claim_of: Callable[[A], CreateClaim | None],
    operation_id: str,
) -> A:
    """The aggregate `load` gives, once no other live run is waiting for the reply to the POST
    it claimed (`claim_of`) for this work.

    Alyx makes a second record for a second POST, so a run that finds another one's POST in
    flight waits for it (at most that run's connect and read timeouts), and reports the work as
    done when that run records it. A POST claimed by a process of this host that is gone (a
    crash) is not waited for: the lookup that follows finds what it made, if anything."""
    timeouts = context.client.timeout
    window = (timeouts.connect or 0) + (timeouts.read or 0) + CLAIM_MARGIN
    deadline = time.monotonic() + window
    while True:
        aggregate = load()
        if operation_id in aggregate.closed_intents:
            raise AlreadyClosed(aggregate.done_elsewhere(operation_id))
        claim = claim_of(aggregate)
        if claim is None or not _in_flight(claim, window) or time.monotonic() > deadline:
            return aggregate
        time.sleep(POLL_SECONDS)


CLAIM_MARGIN = 2.0
"""Seconds added to the client's timeouts before another host's create counts as finished."""


def _in_flight(claim: CreateClaim, window: float) -> bool:
    """Whether the process that sent a POST /sessions may still be waiting for its reply."""
    if claim.host == socket.gethostname():
        if claim.pid == os.getpid():
            return False  # this process: its own earlier attempt has ended
        import psutil  # only when another process of this host claimed a create

        try:
            started = psutil.Process(claim.pid).create_time()
        except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
            return False
        return started <= claim.at.timestamp()  # not a later process that reused the pid
    age = (dt.datetime.now(dt.UTC) - claim.at).total_seconds()
    return age < window


def _adopt(
    context: AlyxContext, session: Session, eid: str, fields: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Use the session Alyx holds under `eid`: update only the fields given. Returns the record
    Alyx holds now (the PUT's reply, or the record read when nothing changes) and what was done."""
    ref = session.ref
    if session.allocated_offline and not session.create_sent:
        raise NumberTakenElsewhere(
            f"Alyx already holds {ref.alyx_path} ({eid}), registered by another "
            "rig after this folder was made offline; rename the folder to a free number"
        )
    held: dict[str, Any] = context.client.get(f"/sessions/{eid}", record=True)
    body = update_body(ref, fields, held)
    if body is None:
        return held, "already on Alyx, unchanged"
    reply: dict[str, Any] = context.client.put(f"/sessions/{eid}", body, record=True)
    return reply, "updated " + ", ".join(sorted(set(body) & set(fields)))
