"""A report as every renderer takes it: a table of rows, and a timeline per session it covers.

`status`, `audit` and `pending` each build one `Report`; the terminal table, JSON, CSV and HTML
renderers only lay it out, so the four formats cannot tell different stories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rows import AuditEntry


@dataclass(frozen=True)
class Timeline:
    """One session's events, oldest first, with the session's status row as its heading."""

    session: str
    """The session key, `lab/subject/date/number`."""
    heading: dict[str, Any]
    events: list[AuditEntry]


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
