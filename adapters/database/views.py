"""The ledger's read models, opened beside its event store and kept current from its log.

`Views.catch_up()` folds the events recorded since the tracking position, a page at a time, each
page in its own transaction with its position; every report and every sync calls it first, so
they read current views at the cost of the new events only. `Views.replay()` forgets the views
and rebuilds them from the first event: the same fold, so the same result.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import Environment

from ...domain.ledger import Ledger
from ...domain.pending import PendingIntent
from ...domain.transfer_state import Handover
from ...projections.audit_query import AuditQuery
from ...projections.logged import LoggedEvent, decoded, of_domain_event
from ...projections.rows import AuditEntry, DatasetRow, IntentRow, Row, SessionRow
from ..settings import Settings
from .event_store import creating_tables, ledger_env, store_errors
from .view_store import SQLiteViewStore, ViewStore

if TYPE_CHECKING:
    from .postgres_view_store import PostgresViewStore

R = TypeVar("R", bound=Row)

VIEW_PAGE = 5000
"""Events folded per transaction: each commit waits for the disk (SQLite syncs its log on every
commit), so a replay in pages of 500 spent most of its time waiting; a page of 5,000 events holds
a few MB in memory."""

VIEWS_NAME = "LedgerViews"
"""The projection's name: eventsourcing prefixes its environment keys and PostgreSQL tracking
table with it (`ledgerviews_tracking`)."""


def views_env(settings: Settings) -> dict[str, str]:
    """eventsourcing's environment for the views: the ledger's own store (a memory ledger gets
    an in-memory SQLite database of its own)."""
    if settings.store == "memory":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": f"file:labledger-views-{uuid.uuid4()}?mode=memory&cache=shared",
        }
    return ledger_env(settings)


def view_class(settings: Settings) -> type[SQLiteViewStore] | type[PostgresViewStore]:
    if settings.store == "postgres":
        from .postgres_view_store import PostgresViewStore  # only a PostgreSQL ledger loads it

        return PostgresViewStore
    return SQLiteViewStore


def open_view_store(settings: Settings) -> ViewStore:
    """The views' tracking recorder, built as eventsourcing's projection runner builds it."""

    def build() -> ViewStore:
        factory: Any = InfrastructureFactory.construct(
            env=Environment(VIEWS_NAME, views_env(settings))
        )
        store: ViewStore = factory.tracking_recorder(view_class(settings))
        return store

    with store_errors(settings):
        return creating_tables(build)


class Views:
    """The read models of one ledger: caught up on demand, queried as plain rows."""

    def __init__(self, ledger: Ledger, store: ViewStore, page: int = VIEW_PAGE) -> None:
        self.ledger, self.store, self.page = ledger, store, page
        self.caught_up: bool = False
        """True once this command caught the views up (see `TransferExecutor.follow_up`)."""
        self._reached: int | None = None
        """The position the last catch-up reached: where the next one starts looking."""

    def catch_up(self) -> int:
        """Fold every event recorded since the tracking position; returns the new position.

        Asked again in the same command with nothing recorded since (by this process or any
        other), it answers from the position it reached, after one look at the log's last
        position: no transaction on the views, no page read."""
        if self._reached is not None and self._last_recorded() <= self._reached:
            return self._reached
        position = self.store.position(self.ledger.name)
        while batch := logged_page(self.ledger, after=position, limit=self.page):
            position = max(self.store.apply_page(self.ledger.name, batch), batch[-1][0])
        self.caught_up = True
        self._reached = position
        return position

    def _last_recorded(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def replay(self) -> int:
        """Rebuild the views from the first event; returns the position reached."""
        self._reached = None
        self.store.reset(self.ledger.name)
        return self.catch_up()

    def position(self) -> int:
        return self.store.position(self.ledger.name)

    # -- queries (call catch_up first) ---------------------------------------------------------

    def sessions(self, session_ids: Iterable[UUID] | None = None) -> list[SessionRow]:
        rows = self.store.rows(SessionRow)
        if session_ids is None:
            return rows
        wanted = {str(session_id) for session_id in session_ids}
        return [row for row in rows if row.id in wanted]

    def datasets(self, session_ids: Iterable[str] | None = None) -> list[DatasetRow]:
        return self.store.rows(DatasetRow, session_ids)

    def intents(self) -> list[IntentRow]:
        """Open intents, oldest first."""
        return self.store.rows(IntentRow)

    def pending_intents(self, session_id: UUID | None = None) -> list[PendingIntent]:
        """Intents without a final outcome (of one session and its files, or all), in log order:
        the tracked equivalent of `Ledger.pending_intents`."""
        self.catch_up()
        intents = [row.as_pending() for row in self.intents()]
        if session_id is None:
            return intents
        return [intent for intent in intents if intent.session_id == session_id]

    def audit(self, query: AuditQuery) -> list[AuditEntry]:
        return self.store.audit(query)

    def handovers(
        self, session_ids: frozenset[UUID] | None = None, catch_up: bool = True
    ) -> list[Handover]:
        """Emitted manifests the watchdog has not confirmed yet (of these sessions, or all),
        oldest first: what sync checks for confirmation or stall (`catch_up=False`: as the
        views stand, when the caller knows nothing since changed a hand-over)."""
        if catch_up:
            self.catch_up()
        return sorted(
            (
                handover_of(row)
                for row in self.sessions(session_ids)
                if row.transfer in ("emitted", "stalled") and row.manifest_path and row.emitted_at
            ),
            key=lambda handover: handover.emitted_at,
        )

    def manifest_owner(self, name: str) -> UUID | None:
        """The session that asked first for a manifest of this name (names must be unique)."""
        self.catch_up()
        owners = [row for row in self.sessions() if row.manifest_name == name]
        return UUID(owners[0].id) if owners else None

    def rows(self, cls: type[R]) -> list[R]:
        return self.store.rows(cls)

    def close(self) -> None:
        self.store.close()


def handover_of(row: SessionRow) -> Handover:
    """A session row with an emitted manifest as the transfer follow-up takes it."""
    assert row.manifest_path is not None and row.emitted_at is not None
    return Handover(
        session_id=UUID(row.id),
        session_key=row.key,
        name=row.manifest_name or "",
        path=row.manifest_path,
        sha256=row.manifest_sha256 or "",
        emitted_at=datetime.fromisoformat(row.emitted_at),
        state=row.transfer,
    )


def logged_page(ledger: Ledger, after: int, limit: int) -> list[tuple[int, LoggedEvent]]:
    """Up to `limit` events after position `after`, as the fold reads them: decoded straight
    from the stored rows (see `projections.logged`), not through the ledger's mapper."""
    mapper = ledger.mapper
    if mapper.cipher is not None or mapper.compressor is not None:  # not labledger's settings
        notifications = ledger.recorder.select_notifications(start=after + 1, limit=limit)
        return [(n.id, of_domain_event(mapper.to_domain_event(n))) for n in notifications]
    return [
        (position, decoded(topic, originator_id, state))
        for position, topic, originator_id, state in stored_page(ledger.recorder, after, limit)
    ]


def stored_page(recorder: Any, after: int, limit: int) -> list[tuple[int, str, Any, bytes]]:
    """(position, topic, aggregate id, state) of up to `limit` stored events after `after`.

    On SQLite one plain query (the recorder's own select makes a Notification and a UUID of
    every row, which the fold would turn back into text); elsewhere the recorder's select."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = (
            f"SELECT rowid, topic, originator_id, state FROM {recorder.events_table_name} "  # noqa: S608
            "WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(statement, (after, limit))
            return [(row[0], row[1], row[2], row[3]) for row in c.fetchall()]
    notifications = recorder.select_notifications(start=after + 1, limit=limit)
    return [(n.id, n.topic, n.originator_id, n.state) for n in notifications]


def open_views(settings: Settings, ledger: Ledger) -> Views:
    """The views of this ledger, on its store (tables created if needed), not yet caught up."""
    return Views(ledger, open_view_store(settings))
