"""eventsourcing's PostgreSQL factory, with libpq's TLS parameters passed to its connections.

eventsourcing 9.5's `PostgresDatastore` opens its connections with the host, port, database,
user and password only: it has no environment key or argument for `sslmode`, `sslrootcert`,
`sslcert` or `sslkey`. Its connection pool is built closed and opened on first use, so this
factory sets the pool's connection string (which psycopg merges with the datastore's keyword
arguments) to the TLS parameters right after eventsourcing built the datastore: every connection
of the ledger, of its views and of `project --follow` (all built by this factory) then carries
them. libpq's own `PGSSLMODE`/`PGSSLROOTCERT` variables would do the same, but for the whole
process and every other connection in it (a rig launcher that uses labledger's Python API).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import Environment
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Identifier

from .bulk_reads import CHUNK

TLS_KEYS = {
    "sslmode": "POSTGRES_SSLMODE",
    "sslrootcert": "POSTGRES_SSLROOTCERT",
    "sslcert": "POSTGRES_SSLCERT",
    "sslkey": "POSTGRES_SSLKEY",
}
"""libpq's TLS parameter -> the environment key this factory reads it from."""


class BulkPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, with `select_events_of` (see
    `bulk_reads`: many aggregates' events in one query)."""

    def select_events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of these aggregates, grouped by aggregate, each in version order."""
        statement = SQL(
            "SELECT * FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        found: list[StoredEvent] = []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for start in range(0, len(originator_ids), CHUNK):
                curs.execute(statement, [list(originator_ids[start : start + CHUNK])])
                found.extend(
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                    for row in curs.fetchall()
                )
        return found


class TLSPostgresFactory(PostgresFactory):
    """eventsourcing's `PostgresFactory`, its connections also given the TLS keys' values, its
    ledger's recorder able to read many aggregates at once."""

    application_recorder_class = BulkPostgresRecorder

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        tls = {param: value for param, key in TLS_KEYS.items() if (value := self.env.get(key))}
        if tls:
            self.datastore.pool.conninfo = make_conninfo("", **tls)
