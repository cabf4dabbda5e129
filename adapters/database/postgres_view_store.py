"""The materialised views in the ledger's PostgreSQL database (see `view_store`).

A module of its own so that only a PostgreSQL ledger loads eventsourcing's PostgreSQL recorder
and psycopg: a command on an SQLite ledger never pays for them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
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

    def _insert_many(
        self,
        c: Any,
        table: str,
        columns: Sequence[str],
        values: list[tuple[Any, ...]],
        conflict: str = "",
    ) -> None:
        """All of a page's rows in ONE statement, each column sent as an array and unnested: run
        one by one (psycopg's executemany), a replay spent most of its time sending statements
        and waiting for each (the values go as parameters, as everywhere). The arrays go in
        binary (`%b`): psycopg quotes each element of a text array through a regex."""
        arrays = ", ".join(
            f"%b::{'bigint' if name == 'position' else 'text'}[]" for name in columns
        )
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({arrays}){conflict}"
        )
        c.execute(
            self.dialect.sql(statement), [list(column) for column in zip(*values, strict=True)]
        )

    def fetch_docs(self, c: Any, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The rows of these keys, in one statement: the keys unnested and joined on the primary
        key. (With `kind = ... AND id = ANY(...)` the planner, without statistics on a table
        that grows as it is replayed, scanned the session index instead.)"""
        if not keys:
            return {}
        c.execute(
            self.dialect.sql(
                "SELECT r.kind, r.id, r.body FROM unnest(%b::text[], %b::text[]) AS k(kind, id) "
                "JOIN {rows} AS r ON r.kind = k.kind AND r.id = k.id"
            ),
            _key_arrays(keys),
        )
        return {(row["kind"], row["id"]): json.loads(row["body"]) for row in c.fetchall()}

    def _delete_many(self, c: Any, keys: list[tuple[str, str]]) -> None:
        c.execute(
            self.dialect.sql(
                "DELETE FROM {rows} WHERE (kind, id) IN "
                "(SELECT * FROM unnest(%b::text[], %b::text[]))"
            ),
            _key_arrays(keys),
        )

    def close(self) -> None:
        self.datastore.close()


def _key_arrays(keys: Sequence[tuple[str, str]]) -> list[list[str]]:
    """(kind, id) keys as the two arrays a statement unnests back into pairs."""
    kinds, ids = zip(*keys, strict=True)
    return [list(kinds), list(ids)]
