"""The session a water administration is linked to, as stored in its intent. Pure.

A water record may name its session before that session is on Alyx (or before the ledger has
seen its folder), so the link stored with the intent is not the Alyx eid but something that can be
resolved when the record is sent:

- `session:LAB/SUBJECT/DATE/NUMBER` (or `session:SUBJECT/DATE/NUMBER` without a lab): the
  session's key, written for a session folder. It names the session whether or not the ledger
  knows it, and Alyx can be asked for it by subject, date and number.
- `ledger:UUID`: the ledger's id of the session, written by earlier versions; still read.
- anything else: an Alyx eid given as such, sent as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from .alf import SessionRef
from .session import Session

KEY_PREFIX = "session:"
LEDGER_PREFIX = "ledger:"


@dataclass(frozen=True)
class SessionLink:
    """A parsed link: an eid to send as it is, or a ledger session to resolve first."""

    eid: str | None = None
    """The Alyx eid given as such (then nothing needs resolving)."""
    session_id: UUID | None = None
    """The ledger id of the linked session (for both the key and the old ledger form)."""
    ref: SessionRef | None = None
    """The session's key, when the link names it (so Alyx can be asked for it)."""

    @property
    def shown(self) -> str:
        """How a message names the session: its key, else its ledger id, else the eid."""
        if self.ref is not None:
            return self.ref.key
        if self.session_id is not None:
            return f"ledger session {self.session_id}"
        return str(self.eid)


def link_to(ref: SessionRef) -> str:
    """The stored link of a session folder: its key, resolvable before the session is known."""
    return KEY_PREFIX + ref.key


def parse_link(text: str | None) -> SessionLink | None:
    """The link stored in a water intent, parsed; None when the record names no session.

    A malformed key (never written by labledger) is kept as an eid: Alyx then refuses it with
    its own words instead of this ledger failing on it."""
    if text is None or text == "":
        return None
    if text.startswith(LEDGER_PREFIX):
        try:
            return SessionLink(session_id=UUID(text.removeprefix(LEDGER_PREFIX)))
        except ValueError:
            return SessionLink(eid=text)
    if text.startswith(KEY_PREFIX):
        ref = _ref_of(text.removeprefix(KEY_PREFIX))
        if ref is None:
            return SessionLink(eid=text)
        session_id = Session.create_id(ref.lab or "", ref.subject, ref.date.isoformat(), ref.number)
        return SessionLink(session_id=session_id, ref=ref)
    return SessionLink(eid=text)


def waits_for(link: SessionLink, key: str | None = None, folder: str | None = None) -> str:
    """Why a water record waits for its session, and what makes it go: the sync report and
    `labledger pending` say the same. `key` and `folder`: the session as the ledger knows it."""
    key = key or (link.ref.key if link.ref is not None else None)
    if key is None:
        return (
            f"waits for its session ({link.shown}), which this ledger does not know; register "
            "the session folder, then sync"
        )
    command = f"labledger register {folder}" if folder else "labledger register FOLDER"
    return f"waits for session {key}, not on Alyx yet; register it ({command}), then sync"


def _ref_of(key: str) -> SessionRef | None:
    """`[lab/]subject/date/number` -> SessionRef (lab None when absent); None if malformed."""
    parts = key.split("/")
    if len(parts) not in (3, 4) or not all(parts):
        return None
    lab = parts[0] if len(parts) == 4 else None
    subject, day, number = parts[-3:]
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        return None
    return SessionRef(lab=lab, subject=subject, date=date, number=number)
