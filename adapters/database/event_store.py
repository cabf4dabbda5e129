"""Opening the ledger on its event store: eventsourcing's own SQLite, PostgreSQL or in-memory.

Settings become eventsourcing's environment keys here and nowhere else. Every way the store can
fail to open or to write (locked or corrupt SQLite file, unreachable PostgreSQL, a folder that
cannot be created) becomes one `LedgerUnavailable` line naming the store and the fix.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, TypeVar

from ...domain.errors import LedgerUnavailable
from ..filesystem.user_dirs import LEDGER_FILE_NAME, default_data_dir
from ..settings import Settings
from .integrity import check_sqlite_ledger
from .store_failures import explain

if TYPE_CHECKING:
    from ...domain.ledger import Ledger

T = TypeVar("T")


def describe_store(settings: Settings) -> str:
    """Where the ledger is, for messages (never the password)."""
    if settings.store == "sqlite":
        return f"SQLite ledger {settings.sqlite_path}"
    if settings.store == "postgres":
        pg = settings.postgres
        schema = f" schema {pg.schema_name}" if pg.schema_name else ""
        return f"PostgreSQL ledger {pg.user}@{pg.host}:{pg.port}/{pg.dbname}{schema}"
    return "in-memory ledger"


def ledger_env(settings: Settings) -> dict[str, str]:
    """eventsourcing's environment for the configured store."""
    if settings.store == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if settings.store == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": str(settings.sqlite_lock_timeout),
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
        }
    pg = settings.postgres
    env = {
        "PERSISTENCE_MODULE": POSTGRES_FACTORY,
        "POSTGRES_DBNAME": pg.dbname,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password.get_secret_value() if pg.password else "",
        "POSTGRES_CONNECT_TIMEOUT": str(pg.connect_timeout),
        "POSTGRES_POOL_SIZE": "2",
    }
    if pg.schema_name:
        env["POSTGRES_SCHEMA"] = pg.schema_name
    if not pg.create_tables:
        env["CREATE_TABLE"] = "no"
    env.update({f"POSTGRES_{param.upper()}": value for param, value in pg.tls().items()})
    return env


POSTGRES_FACTORY = f"{__package__}.postgres_factory:TLSPostgresFactory"
SQLITE_RECORDER = f"{__package__}.bulk_reads:BulkSQLiteRecorder"
"""eventsourcing's SQLite application recorder that also reads many aggregates in one query."""
"""eventsourcing's PostgreSQL factory with the TLS settings passed on (named, not imported: a
command on SQLite never loads eventsourcing's PostgreSQL module)."""


def settings_to_read(settings: Settings) -> Settings:
    """The settings a report (status, audit, history ...) opens the ledger and views with: it
    never creates an SQLite ledger. At the default location a missing file is an empty ledger,
    held in memory (a new rig has recorded nothing yet); a missing file given explicitly is
    refused in one line, since a mistyped path would otherwise be created, folders and all, and
    the report would say that nothing was recorded."""
    if settings.store != "sqlite" or settings.sqlite_path.exists():
        return settings
    if settings.sqlite_path != default_data_dir() / LEDGER_FILE_NAME:
        raise LedgerUnavailable(
            f"{describe_store(settings)} does not exist; correct the path (--ledger, "
            "sqlite_path or LABLEDGER_SQLITE_PATH), or record something first (scan, register)"
        )
    return settings.model_copy(update={"store": "memory"})


def open_ledger(settings: Settings) -> Ledger:
    """The ledger on the configured store, its tables created if needed."""
    with store_errors(settings):
        if settings.store == "sqlite":
            settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            _check_sqlite_file(settings)
            _use_wal(settings)
            check_sqlite_ledger(
                settings.sqlite_path, describe_store(settings), settings.sqlite_lock_timeout
            )
        elif settings.store == "postgres":
            creating_tables(lambda: _reach_postgres(settings))
        from ...domain.ledger import Ledger  # eventsourcing: only a command that opens the ledger

        return creating_tables(lambda: Ledger(env=ledger_env(settings)))


CREATE_ATTEMPTS = 5
"""Times a store is opened again when another process was creating the same tables."""


def creating_tables(open_store: Callable[[], T]) -> T:
    """`open_store()`, opened again if another process created the same schema or tables at the
    same moment (two rigs, or a rig script and an operator, starting on a new ledger). Neither
    PostgreSQL's `CREATE … IF NOT EXISTS` nor eventsourcing's table set-up is safe against a
    concurrent twin (see `RACE_SIGNS`); the next attempt finds the tables made."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return open_store()
        except _driver_errors() as error:
            if not _raced(error) or attempt == CREATE_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable: the loop returns or raises")


RACE_SIGNS = (
    "already exists",
    "pg_type_typname_nsp_index",
    "tuple concurrently updated",
    "Failed to record tracking for __migration__",
    "database is locked",
)
"""What the stores say when two processes create the same schema or tables at the same moment:
PostgreSQL's catalogue conflicts; eventsourcing's tracking table, which both processes found
missing and both marked as created; SQLite refusing at once, without waiting for its lock, a
transaction that read the schema before the other process changed it."""


def _driver_errors() -> tuple[type[Exception], ...]:
    """The base errors of the store libraries loaded so far: eventsourcing's persistence error,
    and psycopg's. They are imported only where a store is opened (psycopg only for PostgreSQL:
    eventsourcing's postgres module, `_reach_postgres`), so a command that never opens the
    ledger, or one on SQLite, does not pay for them; and before a library is loaded none of its
    errors can have been raised."""
    errors: list[type[Exception]] = []
    if (persistence := sys.modules.get("eventsourcing.persistence")) is not None:
        errors.append(persistence.PersistenceError)
    if (psycopg := sys.modules.get("psycopg")) is not None:
        errors.append(psycopg.Error)
    return tuple(errors)


def _store_failures() -> tuple[type[Exception], ...]:
    """What `store_errors` turns into one line: SQLite's and the file system's errors, and those
    of the store libraries loaded (asked when an error is raised, after the command ran)."""
    return (sqlite3.Error, OSError, *_driver_errors())


def _raced(error: Exception) -> bool:
    return any(sign in str(error) for sign in RACE_SIGNS)


def _check_sqlite_file(settings: Settings) -> None:
    """Refuse a file that is not an SQLite database before eventsourcing touches it."""
    path = settings.sqlite_path
    if path.is_dir():
        raise LedgerUnavailable(
            f"{describe_store(settings)} is a folder; give the ledger's file, e.g. "
            f"{path / LEDGER_FILE_NAME}"
        )
    folder_writable = os.access(path.parent, os.W_OK) if path.parent.exists() else True
    if (path.exists() and not os.access(path, os.W_OK)) or not folder_writable:
        raise LedgerUnavailable(
            f"{describe_store(settings)} cannot be written (a read-only file, folder or file "
            "system; SQLite also writes beside the file); make it writable, or set sqlite_path "
            "to a writable place"
        )
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as file:
            if file.read(16) != b"SQLite format 3\x00":
                raise LedgerUnavailable(
                    f"{describe_store(settings)} is not an SQLite database (corrupt or another "
                    "file); move it aside or set sqlite_path to another file"
                )


def _use_wal(settings: Settings) -> None:
    """Put the SQLite file in WAL mode before eventsourcing opens it.

    eventsourcing switches a new file to WAL on its first connection, but SQLite answers that
    switch with "database is locked" at once, without waiting, while another process has the file
    open: two rig scripts starting on a new ledger at the same moment would fail. WAL mode is
    stored in the file, so after this eventsourcing only reads it. The switch is tried again until
    `sqlite_lock_timeout` has passed, like any other wait for SQLite's lock.
    """
    deadline = time.monotonic() + settings.sqlite_lock_timeout
    while True:
        try:
            with closing(sqlite3.connect(settings.sqlite_path, timeout=1)) as connection:
                (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
                if mode.lower() != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _reach_postgres(settings: Settings) -> None:
    """Connect once, directly, before eventsourcing's connection pool does: the pool would only
    say it got no connection in `connect_timeout` seconds, where libpq says why at once (no such
    database or role, refused, TLS). eventsourcing creates tables but not schemas; a configured
    schema is created here when missing (PostgreSQL asks for the privilege to create one even
    where IF NOT EXISTS then finds it: a lab's role may own its schema but not the database)."""
    import psycopg  # a PostgreSQL store only (see `_driver_errors`)
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    pg = settings.postgres
    with psycopg.connect(
        make_conninfo("", **pg.tls()),
        dbname=pg.dbname,
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password.get_secret_value() if pg.password else None,
        connect_timeout=pg.connect_timeout,
        autocommit=True,
    ) as connection:
        if not (pg.schema_name and pg.create_tables):
            return
        found = connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (pg.schema_name,)
        ).fetchone()
        if found is None:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(pg.schema_name))
            )


@contextmanager
def store_errors(settings: Settings) -> Iterator[None]:
    """Turn the store's failures into one line naming the store and the fix."""
    where = describe_store(settings)
    try:
        yield
    except LedgerUnavailable:
        raise
    except _store_failures() as error:
        raise LedgerUnavailable(f"{where}: {explain(error, settings.postgres)}") from error
