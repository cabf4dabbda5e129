"""The materialised views in the ledger's PostgreSQL database (see `view_store`).

A module of its own so that only a PostgreSQL ledger loads eventsourcing's PostgreSQL recorder
and psycopg: a command on an SQLite ledger never pays for them.
"""

from __future__ import annotations

import zlib
from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL

from .view_store import AUDIT_TABLE, ROWS_TABLE, Dialect, ViewQueries


class PostgresViewStore(ViewQueries, PostgresTrackingRecorder):
    """The views in the ledger's PostgreSQL database and schema."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = self.datastore.schema

        def name(table: str) -> str:
            return f'"{schema}"."{table}"'

        tracking = name(self.tracking_table_name)
        self.dialect = Dialect(
            "%s",
            name(ROWS_TABLE),
            name(AUDIT_TABLE),
            tracking,
            "BIGINT",
            # a transaction-scoped advisory lock, keyed by the tracking table's name
            f"SELECT pg_advisory_xact_lock({zlib.crc32(tracking.encode())})",
        )
        for statement in self.view_statements():
            # this module's own statements (constants and the table names), never outside text
            self.sql_create_statements.append(
                SQL(statement).format()  # pyright: ignore[reportArgumentType]
            )

    def close(self) -> None:
        self.datastore.close()
