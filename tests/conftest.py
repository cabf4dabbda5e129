"""Shared fixtures: an explicit actor for tests that drive the ledger directly, and the ledger on
each of its three stores.

The same scenario runs on the in-memory store, an SQLite file and the machine's PostgreSQL
(127.0.0.1:5432, database `test`, a fresh schema per test run, dropped at the end).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from typing_extensions import TypedDict

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.database.views import Views, open_views
from labledger.adapters.settings import Settings
from labledger.domain import provenance
from labledger.domain.ledger import Ledger
from labledger.domain.provenance import Provenance


class PgParams(TypedDict, closed=True):
    """Where the test PostgreSQL server is (psycopg.connect's keyword arguments, and no other
    key: closed, so that `**PG` passes only these)."""

    host: str
    port: int
    dbname: str
    user: str


PG: PgParams = {
    "host": os.environ.get("LABLEDGER_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("LABLEDGER_TEST_PG_PORT", "5432")),
    "dbname": os.environ.get("LABLEDGER_TEST_PG_DBNAME", "test"),
    "user": os.environ.get("LABLEDGER_TEST_PG_USER", "root"),
}

pytest_plugins = ["tests.cli_helpers", "tests.alyx_cli", "tests.browser", "tests.doors"]

TEST_ACTOR = Provenance(
    alyx_user="test_user",
    os_user="operator",
    host="rig-01",
    tool_version="labledger test",
    operation_id="00000000-0000-4000-8000-000000000001",
)


@pytest.fixture
def actor() -> Iterator[Provenance]:
    """Act as a recognisable operator on rig-01, for tests that record events through the
    ledger directly. Entry points (the CLI, the Python API) establish provenance themselves, so
    tests through them must not use this."""
    with provenance.acting_as(TEST_ACTOR) as who:
        yield who


def new_run() -> Provenance:
    """A further command run by the same operator (a fresh operation id)."""
    return TEST_ACTOR.for_operation(str(uuid.uuid4()))


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test run."""
    schema = f"labledger_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = psycopg.connect(**PG, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL on {PG['host']}:{PG['port']} is needed by the tests: {error}")
    with connection:
        yield schema
        connection.execute(drop_schema_statement(schema))


def drop_schema_statement(schema: str) -> sql.Composed:
    return sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))


def drop_schema(schema: str) -> None:
    """Drop a schema the tests made, and everything in it."""
    with psycopg.connect(**PG, autocommit=True) as connection:
        connection.execute(drop_schema_statement(schema))


def pg_settings(schema: str, **extra: object) -> Settings:
    return Settings.model_validate(
        {"store": "postgres", "postgres": {**PG, "schema": schema}, **extra}
    )


def _truncate(schema: str) -> None:
    with psycopg.connect(**PG, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        for (table,) in tables:
            name = sql.Identifier(schema, table)
            if table.endswith("_tracking"):  # keep eventsourcing's migration marker row
                connection.execute(
                    sql.SQL("DELETE FROM {} WHERE application_name <> %s").format(name),
                    ("__migration__",),
                )
            else:
                connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(name))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for an empty ledger on each store in turn."""
    if request.param == "memory":
        return Settings(store="memory")
    if request.param == "sqlite":
        return Settings(store="sqlite", sqlite_path=tmp_path / "ledger" / "ledger.sqlite3")
    schema: str = request.getfixturevalue("pg_schema")
    open_ledger(pg_settings(schema)).close()  # creates schema and tables
    _truncate(schema)
    return pg_settings(schema)


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Ledger]:
    app = open_ledger(store_settings)
    yield app
    app.close()


@pytest.fixture
def views(store_settings: Settings, ledger: Ledger) -> Iterator[Views]:
    """The read models of `ledger`, on the same store."""
    opened = open_views(store_settings, ledger)
    yield opened
    opened.close()


# -- pytest-xdist workers -------------------------------------------------------------------------

TERMINAL_SIZE = ("COLUMNS", "LINES")
"""A worker process of pytest-xdist has GNU readline loaded, which puts the size of a terminal it
does not have (80 × 24) into the environment. labledger, rightly, lays out for that width when
COLUMNS is set, so every command run by a test would wrap as no pipe of a real caller does."""


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """In the controller: hand each worker the terminal size its user set (or none)."""
    node.workerinput["terminal_size"] = {name: os.environ.get(name) for name in TERMINAL_SIZE}


def pytest_configure(config: pytest.Config) -> None:
    """In a worker: the environment as the user started pytest, without readline's size."""
    given = getattr(config, "workerinput", {}).get("terminal_size")
    if given is None:
        return
    for name, value in given.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
