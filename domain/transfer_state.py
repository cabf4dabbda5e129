"""Where each session's hand-over to the watchdog stands, and how to judge what the service did.

The service's only success signal is moving the manifest into `manifest_complete`; on any failure
the manifest just stays in `flag_dir`. So confirming a transfer is a decision on two
observations and a deadline, kept here as a table read by a pure function, tested row by row.
Where each hand-over stands is kept by the session read model (`projections`); `Handover` is
what the executor takes from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal
from uuid import UUID


@dataclass(frozen=True)
class Handover:
    """A session's latest emitted manifest and what the ledger last concluded about it."""

    session_id: UUID
    session_key: str
    name: str
    path: str
    sha256: str
    emitted_at: datetime
    state: str
    """'emitted', 'stalled' or 'confirmed'."""


Judgement = Literal["confirmed", "waiting", "stalled"]


@dataclass(frozen=True)
class Verdict:
    state: Judgement
    reason: str = ""


VERDICTS: dict[tuple[bool, bool, bool], Verdict] = {
    # (still in flag_dir, in manifest_complete with the emitted sha256, past the deadline)
    (False, True, False): Verdict("confirmed"),
    (False, True, True): Verdict("confirmed"),
    (True, False, False): Verdict("waiting"),
    (True, False, True): Verdict("stalled", "still in flag_dir past the deadline"),
    (True, True, False): Verdict("waiting"),
    (True, True, True): Verdict(
        "stalled",
        "in manifest_complete but also still in flag_dir past the deadline (dropped twice?)",
    ),
    (False, False, False): Verdict(
        "stalled",
        "gone from flag_dir but not in manifest_complete with the emitted sha256 (deleted or "
        "moved by hand?); emit it again with `labledger transfer --force`",
    ),
    (False, False, True): Verdict(
        "stalled",
        "gone from flag_dir but not in manifest_complete with the emitted sha256 (deleted or "
        "moved by hand?); emit it again with `labledger transfer --force`",
    ),
}
"""Confirmed = the emitted bytes are in manifest_complete and gone from flag_dir.
A manifest that vanished is stalled at once: the service never deletes a manifest it failed on,
so waiting longer cannot help."""


def judge(in_flag_dir: bool, completed: bool, overdue: bool) -> Verdict:
    return VERDICTS[(in_flag_dir, completed, overdue)]


def deadline(
    emitted_at: datetime, schedule_time: time | None, stall_after: timedelta, local: tzinfo
) -> datetime:
    """When a manifest still waiting in flag_dir counts as stalled.

    With a `schedule_time` the service waits for its next occurrence (in `local` time when the
    time has no offset, as the service does), so the allowance starts then, not at emission.
    """
    start = emitted_at
    if schedule_time is not None:
        zone = schedule_time.tzinfo or local
        emitted_there = emitted_at.astimezone(zone)
        trigger = datetime.combine(
            emitted_there.date(), schedule_time.replace(tzinfo=None), tzinfo=zone
        )
        if trigger <= emitted_there:
            trigger += timedelta(days=1)
        start = trigger
    return start + stall_after
