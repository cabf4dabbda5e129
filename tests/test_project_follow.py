"""`labledger project --follow` on PostgreSQL keeps the views current while another rig writes.

The follower is a real process (the installed console command). The test writes as "another rig"
through its own ledger object, then only READS the views' tracking position (it never catches up
itself), so the views can only have moved because the follower's projection runner folded the new
events. Finally the followed views equal a replay from the first event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.database.views import open_views
from labledger.adapters.settings import Settings
from labledger.domain.ledger import Ledger
from tests.conftest import PG, drop_schema, pg_settings
from tests.doors import ctrl_c_as_at_a_terminal
from tests.projection_scenario import STEPS, run_step
from tests.test_projections import snapshot

COMMAND = Path(sys.executable).parent / "labledger"


@pytest.fixture
def follow_schema(pg_schema: str) -> Iterator[str]:
    schema = f"{pg_schema}_follow"
    yield schema
    drop_schema(schema)


def _env(schema: str, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABLEDGER_")}
    env.update({f"LABLEDGER_POSTGRES__{key.upper()}": str(value) for key, value in PG.items()})
    env.update(
        LABLEDGER_STORE="postgres",
        LABLEDGER_POSTGRES__SCHEMA=schema,
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return env


def _wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_follow_folds_what_another_rig_writes(follow_schema: str, tmp_path: Path) -> None:
    settings: Settings = pg_settings(follow_schema)
    rig: Ledger = open_ledger(settings)
    run_step(rig, STEPS[0])  # a backlog, folded in pages before the runner takes over
    follower = subprocess.Popen(
        [str(COMMAND), "project", "--follow", "--timeout", "60"],
        preexec_fn=ctrl_c_as_at_a_terminal,
        env=_env(follow_schema, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    views = open_views(settings, rig)
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        assert "events folded" in first, first + (follower.stderr.read() if follower.stderr else "")
        assert "following PostgreSQL ledger" in follower.stdout.readline()
        backlog = views.position()
        assert backlog == max(position for position, _ in rig.read_log())

        for step in STEPS[1:]:
            run_step(rig, step)
        last = max(position for position, _ in rig.read_log())
        assert last > backlog
        assert _wait_for(lambda: views.position() == last, 15), (
            f"the follower reached {views.position()} of {last}"
        )
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=20)
    assert follower.returncode == 130, err  # interrupted, as the README's unit expects
    assert f"stopped at position {last}" in out
    followed = snapshot(views)
    views.replay()
    assert snapshot(views) == followed
    views.close()
    rig.close()


def test_follow_that_reaches_its_timeout_exits_0(follow_schema: str, tmp_path: Path) -> None:
    """Only Ctrl-C is an interruption (130); the end of --timeout is the run done."""
    done = subprocess.run(
        [str(COMMAND), "project", "--follow", "--timeout", "0.5"],
        env=_env(follow_schema, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped at position 0" in done.stdout


def test_follow_refuses_sqlite_in_one_line(tmp_path: Path) -> None:
    env = _env("unused", tmp_path)
    env["LABLEDGER_STORE"] = "sqlite"
    env["LABLEDGER_SQLITE_PATH"] = str(tmp_path / "ledger.sqlite3")
    done = subprocess.run(
        [str(COMMAND), "project", "--follow"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "--follow needs the PostgreSQL store" in done.stderr
