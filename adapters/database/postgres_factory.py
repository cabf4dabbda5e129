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

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment
from psycopg.conninfo import make_conninfo

TLS_KEYS = {
    "sslmode": "POSTGRES_SSLMODE",
    "sslrootcert": "POSTGRES_SSLROOTCERT",
    "sslcert": "POSTGRES_SSLCERT",
    "sslkey": "POSTGRES_SSLKEY",
}
"""libpq's TLS parameter -> the environment key this factory reads it from."""


class TLSPostgresFactory(PostgresFactory):
    """eventsourcing's `PostgresFactory`, its connections also given the TLS keys' values."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        tls = {param: value for param, key in TLS_KEYS.items() if (value := self.env.get(key))}
        if tls:
            self.datastore.pool.conninfo = make_conninfo("", **tls)
