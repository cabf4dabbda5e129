"""An aggregate's events as plain values, for printing or JSON (`labledger history`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import provenance
from .pending import intent_details


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an aggregate, as plain values for printing or JSON."""

    version: int
    timestamp: str
    kind: str
    event: str
    alyx_user: str
    os_user: str
    host: str
    tool_version: str
    operation_id: str
    details: dict[str, Any]
    summary: str = ""
    """What happened in a few words (`history` prints it; `details` holds every field)."""


def history_entry(event: Any, describe: Callable[[Any], str] | None = None) -> HistoryEntry:
    """An event as plain values; `describe` (the reports' summariser, outside the domain) gives
    its summary."""
    return HistoryEntry(
        version=event.originator_version,
        timestamp=event.timestamp.isoformat(),
        kind=getattr(event, "KIND", "fact"),
        event=type(event).__qualname__,
        **provenance.of_event(event),
        details=intent_details(event),
        summary=describe(event) if describe else "",
    )
