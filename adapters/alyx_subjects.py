"""Posting a weighing or a water administration once, whatever happened to an earlier attempt.

Alyx never de-duplicates them (quirk S-11), and a reply can be lost after the server stored the
record. So before every POST the subject's records on Alyx (listed in its detail) are searched for
one with the same time and value; if found, it is adopted instead of posted again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from labledger.adapters.alyx_sessions import AlyxContext, check_subject, check_users
from labledger.domain.ledger import Ledger
from labledger.domain.measurements import four_significant
from labledger.domain.pending import PendingIntent
from labledger.domain.session import Session

WEIGHING = "Subject.WeighingRequested"
WATER = "Subject.WaterAdministrationRequested"


class SessionNotRegistered(Exception):
    """The water record names a session that is not on Alyx yet: it waits for it."""


def _same_time(a: str, b: str) -> bool:
    return dt.datetime.fromisoformat(a) == dt.datetime.fromisoformat(b)


def _session_eid(ledger: Ledger, session: str | None) -> str | None:
    """The eid to send: as given, or the Alyx eid of a labledger session (by its key)."""
    if session is None:
        return None
    if session.startswith("ledger:"):
        found: Session = ledger.session(UUID(session.removeprefix("ledger:")))
        if found.eid is None:
            raise SessionNotRegistered(f"session {found.key} is not registered on Alyx yet")
        return found.eid
    return session


def _body(ledger: Ledger, intent: PendingIntent, nickname: str) -> tuple[str, dict[str, Any]]:
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
    eid = _session_eid(ledger, d.get("session"))
    if eid is not None:
        body["session"] = eid
    return "/water-administrations", body


def _already_there(subject: dict[str, Any], endpoint: str, body: dict[str, Any]) -> str | None:
    """The url of a record on Alyx with the same time and value, if one exists."""
    if endpoint == "/weighings":
        records, value = subject.get("weighings") or [], "weight"
    else:
        records, value = subject.get("water_administrations") or [], "water_administered"
    for record in records:
        if (
            record.get("date_time")
            and _same_time(record["date_time"], body["date_time"])
            and four_significant(float(record.get(value) or 0)) == body[value]
        ):
            return str(record.get("url") or record.get("id"))
    return None


def post_record(context: AlyxContext, intent: PendingIntent) -> tuple[str, str]:
    """Perform a weighing or water intent; returns (url, 'posted' | 'already on Alyx')."""
    nickname: str = context.ledger.repository.get(intent.aggregate_id).nickname
    endpoint, body = _body(context.ledger, intent, nickname)
    subject = check_subject(context, nickname)
    check_users(context, [body["user"]])
    url = _already_there(subject, endpoint, body)
    done = "already on Alyx (adopted)"
    if url is None:
        reply = context.client.post(endpoint, body, retry=False)
        url, done = str(reply["url"]), "posted"
    context.ledger.record_subject_posted(intent.aggregate_id, intent.operation_id, url)
    return url, done
