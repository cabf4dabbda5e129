"""What performing an intent can end in, and the shape of the executors that perform them.

Pure types: the executors (adapters) report with them, `sync` and the commands read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol
from uuid import UUID

if TYPE_CHECKING:  # annotations only: importing the outcome types stays cheap (sync --help)
    from .pending import PendingIntent

Outcome = Literal["done", "failed", "queued", "blocked", "stalled"]
"""done: recorded as succeeded; queued: still pending (no server configured, server down or
failing: the next sync tries again); blocked: still pending, and waits for the operator to fix
what the detail names (the login, a setting, a name on Alyx); failed: Alyx refused the request's
own content, the intent is closed (`labledger retry` re-opens it once the cause is fixed);
stalled: a manifest the watchdog has not taken by its deadline (still watched: a later sync
confirms it if the service gets to it, but the operator should look now)."""


@dataclass(frozen=True)
class SyncResult:
    """One line of a sync report: what was attempted, on what, and how it ended."""

    target: str
    """What it was about: a session key, a subject, a manifest."""
    action: str
    outcome: Outcome
    detail: str = ""


class Executor(Protocol):
    """Performs one external system's intents and records their outcomes in the ledger."""

    def claims(self, intent: PendingIntent) -> bool:
        """True for the intents this executor performs."""
        ...

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        """Perform the claimed intents (in log order) and record each outcome."""
        ...

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        """Work that is not an intent: e.g. noticing that the watchdog finished a transfer."""
        ...
