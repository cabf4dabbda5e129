"""A report as every renderer takes it: a table of rows, and a timeline per session it covers.

`status`, `audit` and `pending` each build one `Report`; the terminal table, JSON, CSV and HTML
renderers only lay it out, so the four formats cannot tell different stories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rows import AuditEntry

FAILURE_SUFFIXES = ("Failed", "Stalled")
"""An event whose name ends so reports a failure (a refused registration, a stalled transfer)."""


def is_failure(entry: AuditEntry) -> bool:
    """True for an event that says something went wrong: shown in red, never hidden."""
    return entry.event.endswith(FAILURE_SUFFIXES)


@dataclass(frozen=True)
class EventGroup:
    """The events of one file of a session (or of the session itself), newest first.

    Why groups: a file goes through three or four events (found, discovered, asked for,
    registered), so a flat timeline repeats every path three times; one line per file with its
    latest event reads at a glance, and the rest is there on demand.
    """

    file: str
    """The file's path in the session ('' for the session's own events)."""
    events: list[AuditEntry]
    """Newest first; never empty."""

    @property
    def latest(self) -> AuditEntry:
        """The newest event: the file's (or session's) latest state."""
        return self.events[0]

    @property
    def failed(self) -> bool:
        """True when the latest event reports a failure (an earlier one, since retried, does not
        make the group red)."""
        return is_failure(self.latest)


@dataclass(frozen=True)
class Timeline:
    """One session's events, oldest first, with the session's status row as its heading."""

    session: str
    """The session key, `lab/subject/date/number`."""
    heading: dict[str, Any]
    events: list[AuditEntry]

    def groups(self) -> tuple[EventGroup | None, list[EventGroup]]:
        """The session's own events as one group (None without any), and a group per file,
        the most recently changed file first.

        Log position orders everything (times can tie): walking the events newest first, a
        file's group is made at its newest event, so the groups come out in that order too.
        """
        by_file: dict[str, list[AuditEntry]] = {}
        for entry in sorted(self.events, key=lambda e: e.position, reverse=True):
            by_file.setdefault(entry.file, []).append(entry)
        own = by_file.pop("", None)
        files = [EventGroup(file, entries) for file, entries in by_file.items()]
        return (EventGroup("", own) if own else None), files


@dataclass(frozen=True)
class Report:
    title: str
    """e.g. 'labledger status'."""
    generated_at: str
    """UTC ISO 8601."""
    source: str
    """Which ledger it was read from (never a password)."""
    columns: list[str]
    rows: list[dict[str, Any]]
    timelines: list[Timeline] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)
    """What the operator asked for (e.g. {'subject': 'algernon'}), shown with the report."""
    empty: str = "nothing recorded yet"
    """What the report says without rows, in every format the same words (`pending`: that sync
    has nothing to do, even on a ledger full of events)."""
