"""Every aggregate and event class of the ledger, by its stable topic.

Tests use it to prove each stored event class still loads; reports use it to list event kinds.
"""

from __future__ import annotations

from .dataset import Dataset
from .recorded import RecordedAggregate
from .session import Session
from .subject import Subject
from .watchdog import WatchdogService

AGGREGATES: tuple[type[RecordedAggregate], ...] = (Session, Dataset, Subject, WatchdogService)


def event_classes() -> dict[str, type[RecordedAggregate.Event]]:
    """Topic -> event class, for every concrete event class of every aggregate."""
    found: dict[str, type[RecordedAggregate.Event]] = {}
    for aggregate in AGGREGATES:
        for name, member in vars(aggregate).items():
            if (
                isinstance(member, type)
                and issubclass(member, RecordedAggregate.Event)
                and name != "Event"
            ):
                found[member.TOPIC] = member  # type: ignore[attr-defined]
    return found
