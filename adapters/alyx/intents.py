"""The ledger's intents that the Alyx executor performs, and the two stand-ins sync uses for it.

Kept apart from the executor so that deciding whether a sync has Alyx work at all loads neither
httpx nor the client: with no server configured, the work is queued (`OfflineAlyx`); with one,
the executor and its connection are built when the first Alyx intent comes (`AlyxOnDemand`), so
a sync with nothing for Alyx (run every few minutes by a timer) opens no connection and imports
no HTTP code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from ...domain.outcomes import Executor, SyncResult
from ...domain.pending import PendingIntent

SESSION = "Session.RegistrationRequested"
MOVE = "Dataset.MoveRequested"
REGISTER = "Dataset.RegistrationRequested"
WEIGHING = "Subject.WeighingRequested"
WATER = "Subject.WaterAdministrationRequested"

CLAIMED = frozenset({SESSION, REGISTER, MOVE, WEIGHING, WATER})


class OfflineAlyx:
    """No Alyx server configured: Alyx intents stay queued, and the report says why."""

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent in CLAIMED

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        return [
            SyncResult(
                "Alyx",
                f"{len(intents)} pending",
                "queued",
                "no Alyx server configured (alyx.base_url); recorded, not sent",
            )
        ]

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        return []


class AlyxOnDemand:
    """The Alyx executor, opened (client, connection pool) the first time sync gives it work."""

    def __init__(self, open_executor: Callable[[], Executor]) -> None:
        self._open = open_executor
        self._executor: Executor | None = None

    def claims(self, intent: PendingIntent) -> bool:
        return intent.intent in CLAIMED

    def perform(self, intents: Sequence[PendingIntent]) -> list[SyncResult]:
        if self._executor is None:
            self._executor = self._open()
        return self._executor.perform(intents)

    def follow_up(self, session_ids: frozenset[UUID] | None) -> list[SyncResult]:
        return [] if self._executor is None else self._executor.follow_up(session_ids)
