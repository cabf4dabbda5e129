"""Which audit entries an operator asked for: sessions, subjects, users, a time range, kinds.

Pure: the filter becomes one SQL condition with `?` placeholders (the view store fills in its own
style), and the same filter can be checked against an entry in memory, so tests can compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rows import AuditEntry

KINDS = ("intent", "outcome", "fact")


@dataclass(frozen=True)
class AuditQuery:
    """Every field narrows the trail; an empty one does not filter."""

    session_ids: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    """Alyx or OS user names."""
    since: str | None = None
    """UTC ISO 8601, inclusive."""
    until: str | None = None
    """UTC ISO 8601, exclusive."""
    kinds: tuple[str, ...] = ()
    """'intent', 'outcome', 'fact', or event names: 'Session.Registered', or just 'Registered'."""
    limit: int | None = None
    """Only the latest N entries (still printed oldest first)."""

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition (with `?` placeholders) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: tuple[str, ...]) -> None:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)

        if self.session_ids:
            any_of("session_id", self.session_ids)
        if self.subjects:
            any_of("subject", self.subjects)
        if self.users:
            marks = ", ".join("?" * len(self.users))
            clauses.append(f"(alyx_user IN ({marks}) OR os_user IN ({marks}))")
            params.extend([*self.users, *self.users])
        if self.since:
            clauses.append("recorded_at >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("recorded_at < ?")
            params.append(self.until)
        if self.kinds:
            kinds = tuple(k for k in self.kinds if k in KINDS)
            names = tuple(k for k in self.kinds if k not in KINDS)
            parts = []
            if kinds:
                parts.append(f"kind IN ({', '.join('?' * len(kinds))})")
                params.extend(kinds)
            for name in names:
                parts.append("(event = ? OR event LIKE ?)")
                params.extend([name, f"%.{name}"])
            clauses.append("(" + " OR ".join(parts) + ")")
        return " AND ".join(clauses), params

    def matches(self, entry: AuditEntry) -> bool:
        """The same filter, in memory."""
        if self.session_ids and entry.session_id not in self.session_ids:
            return False
        if self.subjects and entry.subject not in self.subjects:
            return False
        if self.users and not {entry.alyx_user, entry.os_user} & set(self.users):
            return False
        if self.since and entry.recorded_at < self.since:
            return False
        if self.until and entry.recorded_at >= self.until:
            return False
        if self.kinds:
            wanted = set(self.kinds)
            short = entry.event.split(".")[-1]
            if not wanted & {entry.kind, entry.event, short}:
                return False
        return True
