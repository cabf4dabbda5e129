"""eventsourcing's SQLite application recorder, able to read many aggregates' events in one
query (the PostgreSQL one is in `postgres_factory`).

A command often needs every file of a session (a scan compares each with what the ledger knows;
a registration sends each with its hash): one `Repository.get` per file is one query and one
round trip per file, most of a re-run's time. `select_events_of` reads the events of up to a
chunk of aggregates in one statement, in each aggregate's version order, and the ledger folds
them exactly as the repository does (`Ledger.aggregates`). An SQLite ledger names this class
through eventsourcing's own APPLICATION_RECORDER_TOPIC key (`event_store.ledger_env`); the
PostgreSQL factory (`postgres_factory`) has its own. Writing is eventsourcing's, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

CHUNK = 500
"""Ids per statement: under SQLite's default limit of bound parameters on every version."""


class BulkSQLiteRecorder(SQLiteApplicationRecorder):
    """The SQLite application recorder, with `select_events_of`."""

    def select_events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of these aggregates, grouped by aggregate, each in version order."""
        found: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(originator_ids), CHUNK):
                chunk = [i.hex for i in originator_ids[start : start + CHUNK]]
                marks = ", ".join("?" * len(chunk))
                c.execute(
                    f"SELECT * FROM {self.events_table_name} "  # noqa: S608 (constant name, ? marks)
                    f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version",
                    chunk,
                )
                found.extend(
                    StoredEvent(
                        originator_id=self.convert_originator_id(row["originator_id"]),
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=row["state"],
                    )
                    for row in c.fetchall()
                )
        return found
