"""`labledger migrate --to postgres` moves a rig's SQLite ledger into PostgreSQL without losing or
reordering an event, leaves the SQLite file as it was, copies only what is missing when run again,
and refuses a target that holds another ledger's events.

The rig's history is made by the installed command (tests/doors.py) with no Alyx configured:
scans, queued registrations, a file changed and scanned again. The target is a fresh schema of
the machine's PostgreSQL (database `test`), dropped afterwards.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from labledger.adapters.database.migrate import migrate
from labledger.adapters.settings import Settings
from tests.cli_helpers import sample_session, zero_a_page
from tests.conftest import PG, drop_schema, pg_settings
from tests.doors import Door
from tests.test_lab_database import machine_server, one_line_error

Event = tuple[int, str, int, str, bytes]
"""(position, aggregate id, version, topic, stored state) of one stored event."""


@pytest.fixture
def schema(pg_schema: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"{pg_schema}_mig_{abs(hash(request.node.name)) % 10**8}"
    drop_schema(name)
    yield name
    drop_schema(name)


def rig(door: Door, schema: str) -> Door:
    """This door as a rig of cortexlab on SQLite, its postgres.* settings naming `schema`."""
    door.env.update(machine_server(POSTGRES__SCHEMA=schema, LAB="cortexlab", ALYX_USER="op"))
    door.env["LABLEDGER_STORE"] = "sqlite"
    return door


def history(door: Door) -> None:
    """Two sessions registered offline (queued), then a file of the first changed and rescanned."""
    data = door.cwd / "data"
    first = sample_session(data)
    door("register", first).ok()
    door("register", sample_session(data, "bilbo/2026-11-22/002")).ok()
    (first / "alf" / "licks.times.npy").write_bytes(b"changed on the rig")
    door("scan", first).ok()


def sqlite_events(ledger: Path) -> list[Event]:
    with closing(sqlite3.connect(f"{ledger.as_uri()}?mode=ro", uri=True)) as connection:
        rows = connection.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY rowid"
        ).fetchall()
    return [(row[0], str(UUID(str(row[1]))), row[2], row[3], bytes(row[4])) for row in rows]


def postgres_events(schema: str) -> list[Event]:
    with psycopg.connect(**PG) as connection:
        rows = connection.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {} ORDER BY notification_id"
            ).format(sql.Identifier(schema, "labledger_events"))
        ).fetchall()
    return [(row[0], str(UUID(str(row[1]))), row[2], row[3], bytes(row[4])) for row in rows]


def fingerprint(ledger: Path) -> dict[str, str]:
    """The SQLite ledger's files (the database and its write-ahead log) by content; SQLite's
    shared-memory index and an empty write-ahead log are a reader's bookkeeping, not content."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(ledger.parent.glob(ledger.name + "*"))
        if not path.name.endswith("-shm") and path.stat().st_size
    }


def reports(door: Door, store: str) -> dict[str, Any]:
    """What an operator reads of the ledger on `store`."""
    env = {"LABLEDGER_STORE": store}
    folder = door.cwd / "data" / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    return {
        "status": door("status", "--json", env=env).ok().json(),
        "audit": door("audit", "--json", env=env).ok().json(),
        "history": door("history", folder, "--files", "--json", env=env).ok().json(),
    }


def test_migrate_copies_every_event_in_order_and_the_reports_agree(door: Door, schema: str) -> None:
    rig(door, schema)
    history(door)
    before = fingerprint(door.ledger_file)
    events = sqlite_events(door.ledger_file)
    assert len(events) > 30

    done = door("migrate", "--to", "postgres").ok()
    assert f"copied {len(events)} events" in done.out, done.out
    assert postgres_events(schema) == events, "the same events, numbered and ordered alike"
    assert fingerprint(door.ledger_file) == before, "the SQLite ledger was changed"
    assert reports(door, "postgres") == reports(door, "sqlite")

    again = door("migrate", "--to", "postgres").ok()
    assert "nothing to copy" in again.out and f"all {len(events)} events" in again.out
    assert postgres_events(schema) == events


def test_a_rig_that_kept_writing_to_sqlite_migrates_only_the_rest(door: Door, schema: str) -> None:
    """The first migration in pages smaller than the ledger (several transactions, one log);
    the rig records more on SQLite; the second copies only those."""
    rig(door, schema)
    door("register", sample_session(door.cwd / "data")).ok()
    first = len(sqlite_events(door.ledger_file))
    settings: Settings = pg_settings(schema, sqlite_path=door.ledger_file)
    done = migrate(settings, page=4)
    assert (done.events, done.copied, done.already, done.after) == (first, first, 0, 0)
    assert postgres_events(schema) == sqlite_events(door.ledger_file)
    door("register", sample_session(door.cwd / "data", "bilbo/2026-11-22/002")).ok()
    events = sqlite_events(door.ledger_file)

    again = door("migrate", "--to", "postgres").ok()
    assert f"copied {len(events) - first} events, after the {first} copied before" in again.out
    assert postgres_events(schema) == events


def test_a_target_holding_another_rigs_events_is_refused_and_nothing_copied(
    door: Door, schema: str, tmp_path: Path
) -> None:
    other = rig(Door(tmp_path / "other_rig"), schema)
    other("register", sample_session(other.cwd / "data", "bilbo/2026-11-22/002")).ok()
    other("migrate", "--to", "postgres").ok()
    theirs = postgres_events(schema)

    rig(door, schema)
    door("register", sample_session(door.cwd / "data")).ok()
    one_line_error(
        door("migrate", "--to", "postgres"), "already holds other events", "nothing was copied"
    )
    assert postgres_events(schema) == theirs


def test_a_missing_sqlite_ledger_is_named(door: Door, schema: str) -> None:
    rig(door, schema)
    missing = door.cwd / "no-such-ledger.sqlite3"
    one_line_error(
        door("migrate", "--to", "postgres", "--ledger", missing), str(missing), "does not exist"
    )
    assert not missing.exists()


def test_a_damaged_sqlite_ledger_is_named_and_nothing_copied(door: Door, schema: str) -> None:
    """A page of the rig's ledger zeroed: migrate copies none of it (a half-copied log in the
    lab's database would hide the damage) and says how to recover."""
    rig(door, schema)
    history(door)
    zero_a_page(door.ledger_file)
    before = fingerprint(door.ledger_file)
    one_line_error(door("migrate", "--to", "postgres"), "is damaged", "backup")
    assert fingerprint(door.ledger_file) == before
    with psycopg.connect(**PG) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    assert tables == [] or postgres_events(schema) == []
