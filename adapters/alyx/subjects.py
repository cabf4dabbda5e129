"""Posting a weighing or a water administration once, whatever happened to an earlier attempt.

Alyx never de-duplicates them, and a reply can be lost after the server stored the
record. So before every POST the subject's records on Alyx (listed in its detail) are searched for
one with the same time and value that no other record of the ledger holds; if found, it is adopted
instead of posted again (a deliberate second record, `--again`, finds the first one held).

A water record linked to a session (`domain.session_link`) is sent with that session's eid: the
ledger's, else the one Alyx holds for the session's subject, date and number. A session on neither
makes the record wait (it stays pending, `SessionNotRegistered`), whatever the ledger knows of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from ...domain.measurements import four_significant
from ...domain.pending import PendingIntent
from ...domain.session import Session
from ...domain.session_link import SessionLink, parse_link, waits_for
from ...domain.subject import Subject
from .intents import WEIGHING
from .sessions import (
    CLAIM_ATTEMPTS,
    AlyxContext,
    CreateContended,
    check_subject,
    check_users,
    on_alyx,
    settled,
)

WHAT = {"/weighings": "weighing", "/water-administrations": "water administration"}


class SessionNotRegistered(Exception):
    """The water record names a session that is not on Alyx yet: it waits for it."""


def _same_time(a: str, b: str) -> bool:
    return dt.datetime.fromisoformat(a) == dt.datetime.fromisoformat(b)


def _session_eid(context: AlyxContext, link: SessionLink) -> str:
    """The eid of a linked session: given, the ledger's, or Alyx's; else it waits for it."""
    if link.eid is not None:
        return link.eid
    session: Session | None = None
    if link.session_id is not None:
        with contextlib.suppress(AggregateNotFoundError):  # a folder the ledger never saw
            session = context.ledger.session(link.session_id)
    if session is not None and session.eid is not None:
        return session.eid
    ref = session.ref if session is not None else link.ref
    held_eid = None if ref is None else on_alyx(context, ref)  # another rig's, or ONE's
    if held_eid is not None:
        return held_eid
    known = (session.key, session.folder) if session is not None else (None, None)
    raise SessionNotRegistered(waits_for(link, *known))


def _body(context: AlyxContext, intent: PendingIntent, nickname: str) -> tuple[str, dict[str, Any]]:
    d = intent.details
    if intent.intent == WEIGHING:
        return "/weighings", {
            "subject": nickname,
            "date_time": d["date_time"],
            "weight": four_significant(d["weight"]),
            "user": d["user"],
        }
    body: dict[str, Any] = {
        "subject": nickname,
        "date_time": d["date_time"],
        "water_administered": four_significant(d["volume"]),
        "water_type": d["water_type"],
        "user": d["user"],
        "adlib": d["adlib"],
    }
    link = parse_link(d.get("session"))
    if link is not None:
        body["session"] = _session_eid(context, link)
    return "/water-administrations", body


def _already_there(
    subject: dict[str, Any], endpoint: str, body: dict[str, Any], held: set[str]
) -> dict[str, Any] | None:
    """A record on Alyx with the same time and value that the ledger does not hold for another
    record (`held` urls), if one exists."""
    if endpoint == "/weighings":
        records, value = subject.get("weighings") or [], "weight"
    else:
        records, value = subject.get("water_administrations") or [], "water_administered"
    for record in records:
        if (
            record.get("date_time")
            and _same_time(record["date_time"], body["date_time"])
            and four_significant(float(record.get(value) or 0)) == body[value]
            and _url(record) not in held
        ):
            return dict(record)
    return None


def _url(record: dict[str, Any]) -> str:
    return str(record.get("url") or record.get("id"))


def post_record(context: AlyxContext, intent: PendingIntent) -> tuple[str, str]:
    """Perform a weighing or water intent; returns (url, 'posted' | 'already on Alyx').

    Raises `AlreadyClosed` when another run (a second process, another rig on the shared
    ledger) posted it meanwhile: its record stands."""
    held: Subject = context.ledger.repository.get(intent.aggregate_id)
    nickname = held.nickname
    endpoint, body = _body(context, intent, nickname)
    check_users(context, [body["user"]])
    operation = intent.operation_id
    for _ in range(CLAIM_ATTEMPTS):
        held = settled(
            context,
            lambda: context.ledger.repository.get(intent.aggregate_id),
            lambda subject: subject.post_claims.get(operation),
            operation,
        )
        subject = check_subject(context, nickname, typed=True)  # its records, as they are now
        record = _already_there(subject, endpoint, body, set(held.urls.values()))
        if record is not None:
            done = "already on Alyx (adopted)"
            break
        if context.ledger.claim_post(held, operation, os.getpid()):
            record = context.client.post(endpoint, body, retry=False, record=True)
            done = "posted"
            break
    else:
        raise CreateContended(
            None,
            f"other runs keep posting this {WHAT[endpoint]} of {nickname} at the same time; "
            "it stays queued for `labledger sync`",
        )
    url = _url(record)
    context.ledger.record_subject_posted(intent.aggregate_id, intent.operation_id, url, record)
    return url, done
