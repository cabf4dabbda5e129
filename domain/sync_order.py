"""The order in which `sync` performs pending intents, as a table: `pending` shows the same plan.

Alyx work comes first, session by session (the session, then the moves into revision folders,
then the files: ONE's order, and a file cannot be registered before its session exists), in the
order the sessions' work was first recorded; weighings and water follow (a water record may name a
session registered in the same run); the watchdog's manifests come after Alyx, and a service
restart last. Within a stage, log order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .pending import PendingIntent


@dataclass(frozen=True)
class Stage:
    system: str
    """The external system the executor talks to: 'Alyx' or 'watchdog'."""
    action: str
    """What sync will do, in an operator's words."""
    rank: int
    per_session: bool
    """Performed inside its session's group (True) or after all sessions (False)."""


STAGES: dict[str, Stage] = {
    "Session.RegistrationRequested": Stage("Alyx", "create or update the session", 0, True),
    "Dataset.MoveRequested": Stage("Alyx", "move the file to its revision folder", 1, True),
    "Dataset.RegistrationRequested": Stage("Alyx", "register the file", 2, True),
    "Subject.WeighingRequested": Stage("Alyx", "post the weighing", 3, False),
    "Subject.WaterAdministrationRequested": Stage(
        "Alyx", "post the water administration", 3, False
    ),
    "Session.ManifestRequested": Stage("watchdog", "write the transfer manifest", 4, False),
    "WatchdogService.RestartRequested": Stage("watchdog", "restart the service", 5, False),
}

UNKNOWN = Stage("?", "no executor in this installation", 99, False)


def stage_of(intent: PendingIntent) -> Stage:
    return STAGES.get(intent.intent, UNKNOWN)


def sync_order(intents: Sequence[PendingIntent]) -> list[PendingIntent]:
    """The intents in the order sync performs them (see the module docstring)."""
    first_seen: dict[object, int] = {}
    for intent in sorted(intents, key=lambda i: i.position):
        if stage_of(intent).per_session:
            first_seen.setdefault(intent.session_id, intent.position)

    def key(intent: PendingIntent) -> tuple[int, int, int, int]:
        stage = stage_of(intent)
        if stage.per_session:
            return (0, first_seen[intent.session_id], stage.rank, intent.position)
        return (1, stage.rank, intent.position, 0)

    return sorted(intents, key=key)
