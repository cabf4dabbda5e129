"""A `labledger` CLI wired to a running Alyx test server (shared by the Alyx scenario tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labledger import RegistrationClient
from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.settings import load_settings
from tests.alyx_server import TEST_PASSWORD, TEST_USER, AlyxTestServer
from tests.cli_helpers import Cli


def alyx_env(server: AlyxTestServer, tmp_path: Path) -> dict[str, str]:
    """The environment that points labledger at `server` as test_user, with fast retries."""
    return {
        "LABLEDGER_LAB": "cortexlab",
        "LABLEDGER_ALYX_USER": TEST_USER,
        "LABLEDGER_ALYX__BASE_URL": server.base_url,
        "LABLEDGER_ALYX__USERNAME": TEST_USER,
        "LABLEDGER_ALYX__PASSWORD": TEST_PASSWORD,
        "LABLEDGER_ALYX__TOKEN_FILE": str(tmp_path / "tokens.json"),
        "LABLEDGER_ALYX__READ_TIMEOUT": "2",
        "LABLEDGER_ALYX__MAX_ATTEMPTS": "3",
        "LABLEDGER_ALYX__MAX_WAIT": "0.05",
        "LABLEDGER_REFERENCE_DIR": str(tmp_path / "reference"),
    }


@pytest.fixture
def server() -> Iterator[AlyxTestServer]:
    with AlyxTestServer() as running:
        yield running


@pytest.fixture
def online(
    cli: Cli, server: AlyxTestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Cli:
    for name, value in alyx_env(server, tmp_path).items():
        monkeypatch.setenv(name, value)
    return cli


API_LEDGER = "l.sqlite3"
"""The `client` fixture's ledger file, in the test's tmp_path."""


@pytest.fixture
def client(server: AlyxTestServer, tmp_path: Path) -> RegistrationClient:
    """The Python API on `server`, with its ledger in tmp_path/API_LEDGER, its settings passed
    explicitly (nothing read from the test process's environment)."""
    env = alyx_env(server, tmp_path) | {"LABLEDGER_SQLITE_PATH": str(tmp_path / API_LEDGER)}
    settings = load_settings(environ=env)
    return RegistrationClient(None, settings=settings, ledger=open_ledger(settings))
