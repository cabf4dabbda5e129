"""How the results of a run become its exit status, so that a scheduled `sync` can alert.

A job run by cron, a systemd timer or the Windows Task Scheduler sees only the exit status. So
`sync` tells apart three ends: everything done; work still queued, which the next run finishes by
itself (the server is down or not configured, the watchdog has not taken a manifest yet); and work
the operator must look at (refused and closed, blocked until a login or a name is fixed, or a
transfer the watchdog has stalled on). The other commands that perform work (register, weigh,
water, new-session, transfer, retry) queue it on purpose when offline, so for them queued work
and a stall they merely notice end in 0, as they always did.

The table is data, read by one function and tested row by row; `sync --help` and the README print
the same codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .outcomes import Outcome

ALL_DONE = 0
"""Nothing is left to do (or nothing was pending)."""
MUST_ACT = 1
"""The operator must act: the same status as any error a user can fix."""
STILL_QUEUED = 75
"""EX_TEMPFAIL of BSD's sysexits.h ("try again later"): work stays queued and the next run
finishes it. Apart from 1 (error to fix), 2 (usage), 70 (internal error) and 130 (Ctrl-C)."""


@dataclass(frozen=True)
class ExitRule:
    """What one outcome makes a run exit with: `sync`, and the commands that queue offline."""

    outcome: Outcome
    sync: int
    other_commands: int


EXIT_RULES = (
    ExitRule("done", ALL_DONE, ALL_DONE),
    ExitRule("queued", STILL_QUEUED, ALL_DONE),
    ExitRule("blocked", MUST_ACT, MUST_ACT),
    ExitRule("failed", MUST_ACT, MUST_ACT),
    ExitRule("stalled", MUST_ACT, ALL_DONE),
)
"""One row per outcome a result can have."""

URGENCY = (MUST_ACT, STILL_QUEUED, ALL_DONE)
"""A run exits with the first of these that one of its results asks for."""

SYNC_MEANINGS = {
    ALL_DONE: "all done: nothing is left pending (or nothing was)",
    STILL_QUEUED: "work still queued, nothing failed: no server configured, the server down or "
    "not answering, a manifest the watchdog has not taken yet; a later sync finishes it",
    MUST_ACT: "the operator must act: work refused and closed, work blocked until a login, a "
    "setting or a name is fixed, or a transfer the watchdog has stalled on",
}
"""What each exit status of `sync` means, as `sync --help` and the README say it."""

_RULES = {rule.outcome: rule for rule in EXIT_RULES}


def exit_status(outcomes: Iterable[Outcome], scheduled: bool) -> int:
    """The exit status of a run whose results ended in `outcomes` (none: nothing was pending).

    `scheduled` is for `sync`, the command a scheduler runs; False for the other commands."""
    asked = {
        _RULES[outcome].sync if scheduled else _RULES[outcome].other_commands
        for outcome in outcomes
    }
    return next((code for code in URGENCY if code in asked), ALL_DONE)
