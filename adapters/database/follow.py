"""`labledger project --follow`: keep the read models current while other rigs write.

On PostgreSQL, eventsourcing's `ProjectionRunner` subscribes to the ledger (LISTEN/NOTIFY) from
the views' tracking position and hands each new event to `LedgerProjection`, which folds it with
its position in one transaction through the same view store the reports use. SQLite has no
notifications, so following it is refused: reports catch up by themselves there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, NamedTuple

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection, ProjectionRunner

from ...domain.errors import LabledgerError
from ...domain.ledger import Ledger
from ..settings import Settings
from .event_store import open_ledger, store_errors
from .postgres_view_store import PostgresViewStore
from .views import VIEWS_NAME, open_views, views_env


class LedgerProjection(Projection[PostgresViewStore]):
    """Folds each event the runner delivers into the views, with its tracking position."""

    name = VIEWS_NAME

    @singledispatchmethod  # as the base declares it; every event type takes this one path
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply_page(tracking.application_name, [(tracking.notification_id, domain_event)])


def check_followable(settings: Settings) -> None:
    """Refuse to follow a store without notifications, before the command reads or prints
    anything (a refused command does nothing)."""
    if settings.store != "postgres":
        raise LabledgerError(
            "--follow needs the PostgreSQL store (SQLite has no notifications); reports catch "
            "up by themselves, or run `labledger project` from cron"
        )


class Followed(NamedTuple):
    """Where following stopped, and whether Ctrl-C (SIGINT) stopped it rather than the timeout:
    the command then exits 130, as every command does when interrupted."""

    position: int
    interrupted: bool


def follow(
    settings: Settings, timeout: float | None = None, started: Callable[[int], None] | None = None
) -> Followed:
    """Follow the ledger until interrupted (or `timeout` seconds); where it stopped, and why.

    The backlog is folded in pages first (fast); the runner then takes over from that position,
    and `started` is told the position once the runner is subscribed (events recorded after that
    are the runner's to fold). Ctrl-C at any point stops cleanly: every page is its own
    transaction, so there is nothing half-folded to lose.
    """
    check_followable(settings)
    ledger = open_ledger(settings)  # creates the schema and tables if needed
    views = open_views(settings, ledger)
    interrupted = True  # until the runner returns on its own (the timeout)
    with contextlib.suppress(KeyboardInterrupt):
        views.catch_up()
        with (
            store_errors(settings),
            ProjectionRunner(
                application_class=Ledger,
                projection_class=LedgerProjection,
                view_class=PostgresViewStore,
                env=views_env(settings),
            ) as runner,
        ):
            if started is not None:
                started(views.position())
            runner.run_forever(timeout=timeout)
        interrupted = False
    return Followed(views.position(), interrupted)
