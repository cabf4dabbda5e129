"""Who did it, where, with what, and as part of which operation.

Every event carries these five facts so that the log alone answers "who did what, when, from which
host". They travel in a context variable rather than through every call, as eventsourcing's own
examples carry request context: the CLI (an adapter) reads the OS user and host once, and domain
code never touches the operating system.

An *operation id* links an intent to its outcome: each intent gets its own id (derived from the
run's, see `domain.recorded`) and the outcome is recorded under it, whichever run performs it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Provenance:
    """The who/where/what stamped on every event."""

    alyx_user: str
    """Alyx username acting ('' when not configured: scans need no Alyx account)."""
    os_user: str
    host: str
    tool_version: str
    operation_id: str
    """Links intent and outcome; one per command run unless an executor resumes an intent."""

    def for_operation(self, operation_id: str) -> Provenance:
        """The same actor continuing another operation (an executor finishing an intent)."""
        return dataclasses.replace(self, operation_id=operation_id)

    def as_event_fields(self) -> dict[str, str]:
        """The provenance fields as stored on every event (a fresh dict: callers add to it).
        Written out rather than `dataclasses.asdict`, which deep-copies and is called for every
        event recorded."""
        return {
            "alyx_user": self.alyx_user,
            "os_user": self.os_user,
            "host": self.host,
            "tool_version": self.tool_version,
            "operation_id": self.operation_id,
        }


def of_event(event: Any) -> dict[str, str]:
    """Who recorded an event, where, with what, in which operation: its provenance fields."""
    return {field.name: getattr(event, field.name) for field in dataclasses.fields(Provenance)}


class NoProvenance(RuntimeError):
    """Raised when code records an event outside `acting_as`: a bug, never a user's doing."""


_current: ContextVar[Provenance | None] = ContextVar("labledger_provenance", default=None)


def established() -> Provenance | None:
    """The provenance in force, or None when no entry point has established one."""
    return _current.get()


def current() -> Provenance:
    """The provenance of the code running now; refuses to invent an anonymous actor."""
    provenance = _current.get()
    if provenance is None:
        raise NoProvenance(
            "events can only be recorded inside provenance.acting_as(...); every entry point "
            "(the CLI, the Python API, a worker thread it starts) must establish it"
        )
    return provenance


@contextmanager
def acting_as(provenance: Provenance) -> Iterator[Provenance]:
    """Record every event inside the block as done by `provenance`."""
    token = _current.set(provenance)
    try:
        yield provenance
    finally:
        _current.reset(token)
