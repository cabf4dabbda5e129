"""Pytest fixtures for the local Alyx 3.6.1 test server (`tests/alyx_server`).

* `alyx_server`: a fresh server with fresh state on 127.0.0.1 (port chosen by the OS), stopped at
  teardown. `.base_url`, `.state` (`AlyxState`), `.faults` (`Faults`), `.requests`
  (`RequestLog`).
* `alyx_http`: an `httpx.Client` on that server, authenticated as `test_user`.
* `one_client`: ONE-api's own `RegistrationClient` logged in to that server as `test_user`,
  isolated from the real home directory (see `one_registration_client`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alyx_server import TEST_PASSWORD, TEST_TOKEN, TEST_USER, AlyxTestServer


@pytest.fixture
def alyx_server() -> Iterator[AlyxTestServer]:
    """A running Alyx test server with the fixture state; stopped after the test."""
    server = AlyxTestServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def alyx_http(alyx_server: AlyxTestServer) -> Iterator[httpx.Client]:
    """An HTTP client on `alyx_server` sending `Authorization: Token <test_user's token>`."""
    with httpx.Client(
        base_url=alyx_server.base_url,
        headers={"Authorization": f"Token {TEST_TOKEN}", "Accept": "application/json"},
        timeout=10,
    ) as client:
        yield client


def one_registration_client(
    alyx_server: AlyxTestServer,
    tmp_path: Path,
    *,
    username: str = TEST_USER,
    password: str = TEST_PASSWORD,
) -> Any:
    """ONE-api 3.6.1's `one.registration.RegistrationClient` on `alyx_server`.

    ONE keeps its parameters in `~/.one` and, for a new database URL, creates a download cache
    under `one.params.CACHE_DIR_DEFAULT` (computed from the real home when ONE is imported). Both
    are redirected into `tmp_path` (HOME and that constant are patched until the server stops).
    ONE is built in remote mode (no cache tables are fetched: no `/cache.zip`, no `/cache/info`),
    silent, with its REST cache off, logging in with the password: its start-up requests are
    `POST /auth-token`, `GET /api/schema`, then the client's `GET /dataset-types` and
    `GET /data-formats`. iblutil's md5 reads files through a 256 MiB buffer it allocates per
    file (0.2 s each); the buffer is shrunk, the hashes are the same.
    """
    import one.params
    from one.api import ONE
    from one.registration import RegistrationClient

    home = tmp_path / "one_home"
    cache = tmp_path / "one_cache"
    home.mkdir(parents=True, exist_ok=True)
    patch = pytest.MonkeyPatch()
    alyx_server.add_finalizer(patch.undo)
    patch.setenv("HOME", str(home))
    patch.setattr(one.params, "CACHE_DIR_DEFAULT", str(cache))
    patch.setattr("iblutil.io.hashfile.BUF_SIZE", 2**20)
    one_api = ONE(
        base_url=alyx_server.base_url,
        username=username,
        password=password,
        silent=True,
        mode="remote",
        cache_dir=cache,
        cache_rest=None,
    )
    return RegistrationClient(one_api)


@pytest.fixture
def one_client(alyx_server: AlyxTestServer, tmp_path: Path) -> Any:
    """ONE's `RegistrationClient` logged in to `alyx_server` as `test_user`."""
    return one_registration_client(alyx_server, tmp_path)
