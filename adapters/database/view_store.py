"""The materialised views of the ledger, kept in eventsourcing tracking recorders.

The view tables live beside eventsourcing's own tracking table, in the ledger's SQLite file or
PostgreSQL database, so a page of folded events and its tracking position commit in ONE
transaction: a crash mid-page leaves the views exactly at the previous page, and the next catch-up
folds that page again. Each page transaction first takes a lock (SQLite's write lock through a
no-op UPDATE; a transaction-scoped advisory lock on PostgreSQL) and re-reads the position under
it, so two processes catching up at once (a report and `project --follow`, or two rigs) never
fold an event twice.

Rows are JSON documents keyed by (kind, id), read by that primary key; the audit trail is a table
with one column per filter so `labledger audit` filters in SQL. A page reads the rows it folds in
bulk and writes each kind of change in one statement. The same statements serve both stores, the
placeholder style and the table names aside (`Dialect`), except the bulk reads and writes, which
PostgreSQL runs as single statements over unnested arrays (`postgres_view_store`). Statements are
built from constants and placeholders only; every value goes in as a parameter (hence the S608
waivers). The PostgreSQL store is in its own module, so that a command on an SQLite ledger never
loads psycopg.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ...projections.audit_query import AuditQuery
from ...projections.fold import PageChanges, PageFold, RowKey, rows_read
from ...projections.logged import as_logged
from ...projections.rows import AUDIT_FIELDS, AuditEntry, Row, encode

R = TypeVar("R", bound=Row)

ROWS_TABLE = "labledger_view_rows"
AUDIT_TABLE = "labledger_view_audit"

INDEXES = (
    f"CREATE INDEX IF NOT EXISTS {ROWS_TABLE}_session ON {{rows}} (kind, session_id)",
    f"CREATE INDEX IF NOT EXISTS {AUDIT_TABLE}_time ON {{audit}} (recorded_at)",
    f"CREATE INDEX IF NOT EXISTS {AUDIT_TABLE}_session ON {{audit}} (session_id)",
    f"CREATE INDEX IF NOT EXISTS {AUDIT_TABLE}_subject ON {{audit}} (subject)",
)

AUDIT_COLUMNS = AUDIT_FIELDS
"""The audit table's columns: the entry's fields, in order (`AuditEntry.values`)."""

ROW_COLUMNS = ("kind", "id", "session_id", "position", "body")
"""The rows table's columns (the position is the event that first made the row)."""


@dataclass(frozen=True)
class Dialect:
    """What differs between the two stores' SQL: placeholders, table names, integer type."""

    placeholder: str
    rows: str
    audit: str
    tracking: str
    bigint: str
    lock: str
    """Taken first in every page transaction: only one process folds a page at a time."""

    def sql(self, template: str) -> str:
        """A statement written with `?` placeholders and {rows}/{audit}/{tracking} names."""
        text = template.format(rows=self.rows, audit=self.audit, tracking=self.tracking)
        return text.replace("?", self.placeholder)

    def create_statements(self) -> list[str]:
        columns = ", ".join(
            f"{name} {self.bigint} PRIMARY KEY" if name == "position" else f"{name} TEXT"
            for name in AUDIT_COLUMNS
        )
        return [
            self.sql(
                "CREATE TABLE IF NOT EXISTS {rows} (kind TEXT NOT NULL, id TEXT NOT NULL, "
                "session_id TEXT, position " + self.bigint + ", body TEXT NOT NULL, "
                "PRIMARY KEY (kind, id))"
            ),
            self.sql(f"CREATE TABLE IF NOT EXISTS {{audit}} ({columns})"),
            *(self.sql(statement) for statement in INDEXES),
        ]


class Cursor(Protocol):
    def execute(self, query: Any, params: Any = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...
    def executemany(self, query: Any, params_seq: Any) -> Any: ...


class ViewStore(Protocol):
    """A materialised view of the ledger: SQLite or PostgreSQL, the same operations."""

    def position(self, application_name: str) -> int: ...
    def apply_page(self, application_name: str, events: Sequence[tuple[int, Any]]) -> int: ...
    def reset(self, application_name: str) -> None: ...
    def rows(self, cls: type[R], session_ids: Iterable[str] | None = None) -> list[R]: ...
    def audit(self, query: AuditQuery) -> list[AuditEntry]: ...
    def close(self) -> None: ...


class _CursorRows:
    """The fold's RowSource inside a page transaction; prefetches the page's rows in bulk."""

    def __init__(self, store: ViewQueries, cursor: Cursor) -> None:
        self._store, self._cursor = store, cursor
        self._docs: dict[tuple[str, str], dict[str, Any] | None] = {}

    def prefetch(self, keys: set[RowKey]) -> None:
        """Read these rows in bulk, then the sessions of the files among them (a file's event
        also touches its session's row)."""
        self._read(keys)
        sessions = {
            ("session", doc["session_id"])
            for (kind, _), doc in self._docs.items()
            if kind == "dataset" and doc is not None
        }
        self._read(sessions - self._docs.keys())

    def _read(self, keys: set[RowKey]) -> None:
        found = self._store.fetch_docs(self._cursor, sorted(keys))
        for key in keys:
            self._docs[key] = found.get(key)

    def get(self, kind: str, row_id: str) -> dict[str, Any] | None:
        key = (kind, row_id)
        if key not in self._docs:
            self._docs[key] = self._store.fetch_docs(self._cursor, [key]).get(key)
        return self._docs[key]


class ViewQueries:
    """The view operations, written once over a `Dialect` and eventsourcing's transactions."""

    dialect: Dialect
    datastore: Any

    if TYPE_CHECKING:  # provided by eventsourcing's tracking recorders (after this in the MRO),
        # whose cursor parameters differ in name (`c` for SQLite, `curs` for PostgreSQL)
        _insert_tracking: Callable[[Any, Tracking], None]
        _max_tracking_id: Callable[[str, Any], int | None]

    def view_statements(self) -> list[str]:
        return self.dialect.create_statements()

    def position(self, application_name: str) -> int:
        with self.datastore.transaction(commit=False) as c:
            return self._max_tracking_id(application_name, c) or 0

    def apply_page(self, application_name: str, events: Sequence[tuple[int, Any]]) -> int:
        """Fold the events after the recorded position and record the new position, in one
        transaction; returns the position now recorded."""
        with self.datastore.transaction(commit=True) as c:
            self._lock(c)
            current = self._max_tracking_id(application_name, c) or 0
            todo = [
                (position, as_logged(event)) for position, event in events if position > current
            ]
            if not todo:
                return current
            source = _CursorRows(self, c)
            source.prefetch(rows_read(event for _, event in todo))
            with _no_cycle_collection():
                fold = PageFold(source)
                for position, event in todo:
                    fold.apply(position, event)
                changes = fold.changes()
                self._write(c, changes)
            self._insert_tracking(c, Tracking(application_name, changes.position))
            return changes.position

    def reset(self, application_name: str) -> None:
        """Forget every row, audit entry and the position: the next catch-up rebuilds all."""
        with self.datastore.transaction(commit=True) as c:
            self._lock(c)
            c.execute(self.dialect.sql("DELETE FROM {rows}"))
            c.execute(self.dialect.sql("DELETE FROM {audit}"))
            c.execute(
                self.dialect.sql("DELETE FROM {tracking} WHERE application_name = ?"),
                (application_name,),
            )

    def rows(self, cls: type[R], session_ids: Iterable[str] | None = None) -> list[R]:
        """Rows of one kind (of these sessions, or all), in log order of the event that made
        them (the insert's position; an update keeps it)."""
        query = "SELECT body FROM {rows} WHERE kind = ?"
        params: list[Any] = [cls.KIND]
        if session_ids is not None:
            wanted = sorted(set(session_ids))
            if not wanted:
                return []
            query += f" AND session_id IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
        query += " ORDER BY position, id"
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.dialect.sql(query), params)
            return [cls.from_doc(json.loads(row["body"])) for row in c.fetchall()]

    def audit(self, query: AuditQuery) -> list[AuditEntry]:
        where, params = query.where()
        statement = "SELECT * FROM {audit}" + (f" WHERE {where}" if where else "")  # noqa: S608
        statement += " ORDER BY position"
        if query.limit:
            statement = (
                f"SELECT * FROM ({statement.replace(' ORDER BY position', '')} "  # noqa: S608
                f"ORDER BY position DESC LIMIT {int(query.limit)}) AS latest ORDER BY position"
            )
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.dialect.sql(statement), params)
            return [_audit_entry(row) for row in c.fetchall()]

    # -- inside a page transaction ------------------------------------------------------------

    def _lock(self, c: Cursor) -> None:
        c.execute(self.dialect.sql(self.dialect.lock))

    def fetch_docs(self, c: Cursor, keys: Sequence[RowKey]) -> dict[RowKey, dict[str, Any]]:
        """The stored documents of these rows, looked up by the primary key (kind, id): by id
        alone the stores scan the whole table, once per page."""
        found: dict[RowKey, dict[str, Any]] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, row_id in keys:
            by_kind.setdefault(kind, []).append(row_id)
        for kind, row_ids in by_kind.items():
            for start in range(0, len(row_ids), 500):
                chunk = row_ids[start : start + 500]
                query = (
                    "SELECT kind, id, body FROM {rows} WHERE kind = ? "  # noqa: S608
                    f"AND id IN ({', '.join('?' * len(chunk))})"
                )
                c.execute(self.dialect.sql(query), [kind, *chunk])
                for row in c.fetchall():
                    found[(row["kind"], row["id"])] = json.loads(row["body"])
        return found

    def _write(self, c: Cursor, changes: PageChanges) -> None:
        """A page's changes, one statement per kind of change (`_insert_many`), not per row."""
        if changes.upserts:
            born, position = changes.born, changes.position
            self._insert_many(
                c,
                "{rows}",
                ROW_COLUMNS,
                [
                    (
                        row.KIND,
                        row.id,
                        doc.get("session_id"),
                        born.get((row.KIND, row.id), position),
                        encode(doc),
                    )
                    for row in changes.upserts
                    for doc in (row.to_doc(),)
                ],
                " ON CONFLICT (kind, id) DO UPDATE SET "
                "session_id = excluded.session_id, body = excluded.body",
            )
        if changes.deletes:
            self._delete_many(c, changes.deletes)
        if changes.audit:
            self._insert_many(
                c, "{audit}", AUDIT_COLUMNS, [entry.values() for entry in changes.audit]
            )

    def _insert_many(
        self,
        c: Cursor,
        table: str,
        columns: Sequence[str],
        values: list[tuple[Any, ...]],
        conflict: str = "",
    ) -> None:
        """Insert `values` into `table` ({rows} or {audit}): SQLite's executemany runs the one
        statement for each row in C (the PostgreSQL store sends them as one statement)."""
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(columns))}){conflict}"
        )
        c.executemany(self.dialect.sql(statement), values)

    def _delete_many(self, c: Cursor, keys: list[tuple[str, str]]) -> None:
        """Delete the rows of these (kind, id) keys."""
        c.executemany(self.dialect.sql("DELETE FROM {rows} WHERE kind = ? AND id = ?"), keys)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a page is folded: a page makes tens of thousands
    of small objects (rows, entries, documents) and no cycles, and the collector, run again and
    again as they pile up, took a tenth of a replay. A page's objects are bounded, and freed by
    reference counting once it is written."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _audit_entry(row: Any) -> AuditEntry:
    values = {column: row[column] for column in AUDIT_COLUMNS}
    values["details"] = json.loads(values["details"] or "{}")
    return AuditEntry(**values)


class SQLiteViewStore(ViewQueries, SQLiteTrackingRecorder):
    """The views in the ledger's SQLite file (or an in-memory database for a memory ledger)."""

    dialect = Dialect(
        "?",
        ROWS_TABLE,
        AUDIT_TABLE,
        "tracking",
        "INTEGER",
        # any write statement takes SQLite's write lock, even one that changes no row
        "UPDATE tracking SET notification_id = notification_id "
        "WHERE application_name = '__migration__'",
    )

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self.view_statements()]

    def close(self) -> None:
        self.datastore.close()
