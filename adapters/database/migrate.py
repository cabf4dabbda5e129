"""`labledger migrate --to postgres`: move a rig's SQLite ledger into the lab's PostgreSQL.

Every stored event is copied as it is (originator id, version, topic and the encoded state, byte
for byte) in log order, a page per transaction, so the PostgreSQL log holds the same events in
the same order and numbers them as SQLite did (a fresh table counts from 1 as SQLite did). The
SQLite file is opened read-only and left as it was.

Before copying, the events already in the target are compared with the ledger's, in order:

* the target is empty: everything is copied;
* the target holds the ledger's first events (a migration interrupted between pages, or a rig
  that kept writing to SQLite after migrating): only the rest is copied;
* the target holds the whole ledger (a second run, perhaps after rigs wrote more): nothing is
  copied, and the result says so;
* the target holds an event the ledger does not have at that place: nothing is copied. The
  ledgers of two rigs cannot be merged by copying: both number the events of shared aggregates
  (a subject weighed on both rigs) from version 1, and those versions would collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent

from ...domain.errors import LabledgerError
from ...domain.ledger import Ledger
from ..settings import Settings
from .event_store import describe_store, open_ledger, store_errors
from .integrity import check_sqlite_ledger
from .views import open_views

PAGE = 1000
"""Events read, compared or copied at a time; each copied page is one transaction."""


@dataclass(frozen=True)
class Migration:
    """What a migration found and did."""

    source: str
    target: str
    events: int
    """Events of the SQLite ledger."""
    already: int
    """Of those, how many the target held before this run."""
    copied: int
    after: int
    """Events the target holds after the ledger's (written there since an earlier migration)."""
    position: int
    """The target's read models were folded up to this position."""


def migrate(settings: Settings, page: int = PAGE) -> Migration:
    """Copy the SQLite ledger of `settings` into its PostgreSQL store (see the module's text)."""
    source_settings = settings.model_copy(update={"store": "sqlite"})
    target_settings = settings.model_copy(update={"store": "postgres"})
    source = _open_read_only(source_settings)
    try:
        target = open_ledger(target_settings)
        try:
            with store_errors(target_settings):
                already, after = _compare(source, target, source_settings, target_settings)
                copied = 0 if after else _copy(source, target, after=already, page=page)
                views = open_views(target_settings, target)
                try:
                    position = views.catch_up()
                finally:
                    views.close()
        finally:
            target.close()
    finally:
        source.close()
    return Migration(
        source=describe_store(source_settings),
        target=describe_store(target_settings),
        events=already + copied,
        already=already,
        copied=copied,
        after=after,
        position=position,
    )


def _open_read_only(settings: Settings) -> Ledger:
    """The SQLite ledger, opened so that nothing can write to it (no table is created)."""
    path = settings.sqlite_path
    where = describe_store(settings)
    if not path.is_file():
        raise LabledgerError(
            f"{where} does not exist; set sqlite_path (or --ledger) to the rig's ledger file"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": f"{path.resolve().as_uri()}?mode=ro",
        "CREATE_TABLE": "no",
    }
    with store_errors(settings):
        check_sqlite_ledger(path, where, settings.sqlite_lock_timeout)  # copy nothing from damage
        ledger = Ledger(env=env)
        ledger.recorder.max_notification_id()  # a file without the ledger's table fails here
    return ledger


def _notifications(ledger: Ledger, after: int = 0, page: int = PAGE) -> Iterator[Notification]:
    """The stored events of the log after the `after`-th, in log order, read a page at a time."""
    recorder: Any = ledger.recorder
    start = None
    skip = after
    while True:
        batch = recorder.select_notifications(start=start, limit=page, inclusive_of_start=False)
        if not batch:
            return
        for notification in batch:
            if skip:
                skip -= 1
                continue
            yield notification
        start = batch[-1].id


def _key(event: Notification) -> tuple[str, int, str, bytes]:
    return (str(event.originator_id), event.originator_version, event.topic, bytes(event.state))


def _compare(
    source: Ledger, target: Ledger, source_settings: Settings, target_settings: Settings
) -> tuple[int, int]:
    """(the ledger's events the target already holds, the target's events after them); refuses
    a target whose events are not the ledger's."""
    theirs = _notifications(target)
    held = 0
    for mine in _notifications(source):
        found = next(theirs, None)
        if found is None:
            return held, 0
        if _key(found) != _key(mine):
            raise LabledgerError(
                f"{describe_store(target_settings)} already holds other events than "
                f"{describe_store(source_settings)} (they differ at event {held + 1}); nothing "
                "was copied. Migrate into an empty schema: set postgres.schema to a new one"
            )
        held += 1
    return held, sum(1 for _ in theirs)


def _copy(source: Ledger, target: Ledger, after: int, page: int) -> int:
    """Copy the ledger's events after the `after`-th, a page per transaction; returns how many."""
    copied = 0
    batch: list[StoredEvent] = []
    for event in _notifications(source, after, page):
        batch.append(
            StoredEvent(
                originator_id=event.originator_id,
                originator_version=event.originator_version,
                topic=event.topic,
                state=event.state,
            )
        )
        if len(batch) == page:
            copied += _insert(target, batch)
            batch = []
    return copied + (_insert(target, batch) if batch else 0)


def _insert(target: Ledger, batch: list[StoredEvent]) -> int:
    target.recorder.insert_events(batch)
    return len(batch)
