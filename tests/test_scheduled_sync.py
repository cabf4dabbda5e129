"""`labledger sync` run by a scheduler: its exit status tells all done (0), work still queued (75)
and the operator must act (1) apart, and `--quiet` prints only what needs the operator.

The table (`domain.exit_status`) is checked row by row; then each status through the installed
command in a subprocess: a real loopback Alyx for all done and for a refusal, no server and a
refused port for queued work, a wrong password for blocked work, a manifest left in the
watchdog's folder past its deadline for a stalled transfer.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from typing import get_args

import pytest

from labledger.domain.exit_status import (
    ALL_DONE,
    EXIT_RULES,
    MUST_ACT,
    STILL_QUEUED,
    SYNC_MEANINGS,
    exit_status,
)
from labledger.domain.outcomes import Outcome
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import ROOT
from tests.doors import Door
from tests.test_operator_fixes import _offline, _sessions
from tests.watchdog_folders import watched_service

SESSION_KEY = "cortexlab/algernon/2026-11-21/001"

# -- the table, row by row -------------------------------------------------------------------------

ROWS = [
    # outcome, sync's status, the status of register / weigh / water / transfer / retry
    ("done", ALL_DONE, ALL_DONE),
    ("queued", STILL_QUEUED, ALL_DONE),
    ("blocked", MUST_ACT, MUST_ACT),
    ("failed", MUST_ACT, MUST_ACT),
    ("stalled", MUST_ACT, ALL_DONE),
]


@pytest.mark.parametrize(("outcome", "sync", "other"), ROWS)
def test_each_outcome_gives_its_status(outcome: Outcome, sync: int, other: int) -> None:
    assert exit_status([outcome], scheduled=True) == sync
    assert exit_status([outcome], scheduled=False) == other


def test_every_outcome_has_one_row() -> None:
    assert [rule.outcome for rule in EXIT_RULES] == [row[0] for row in ROWS]
    assert sorted(get_args(Outcome)) == sorted(row[0] for row in ROWS)


@pytest.mark.parametrize(
    ("outcomes", "sync", "other"),
    [
        ([], ALL_DONE, ALL_DONE),
        (["done", "queued"], STILL_QUEUED, ALL_DONE),
        (["queued", "failed", "done"], MUST_ACT, MUST_ACT),
        (["stalled", "queued"], MUST_ACT, ALL_DONE),
        (["done", "done"], ALL_DONE, ALL_DONE),
    ],
)
def test_a_run_exits_with_its_most_urgent_result(
    outcomes: list[Outcome], sync: int, other: int
) -> None:
    assert exit_status(outcomes, scheduled=True) == sync
    assert exit_status(outcomes, scheduled=False) == other


def test_the_codes_do_not_collide_with_other_meanings() -> None:
    """1 is an error to fix (as any command's), 2 usage, 70 internal, 130 Ctrl-C."""
    assert STILL_QUEUED not in (ALL_DONE, MUST_ACT, 2, 70, 130)
    assert sorted(SYNC_MEANINGS) == sorted({ALL_DONE, MUST_ACT, STILL_QUEUED})


def test_help_and_readme_give_every_status(door: Door) -> None:
    helped = door("sync", "--help").ok().out
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running sync on a schedule", 1)[1].split("\n## ", 1)[0]
    for code, meaning in SYNC_MEANINGS.items():
        assert re.search(rf"^  {code}\s+{re.escape(meaning[:30])}", helped, re.MULTILINE), code
        assert re.search(rf"^\| {code} \|", section, re.MULTILINE), f"README lacks {code}"
    assert "--quiet" in helped and "--quiet" in section


# -- through the installed command --------------------------------------------------------------


def _session(door: Door) -> Path:
    (folder,) = _sessions(door, "001")
    return folder


def _refused_url() -> str:
    """The address of a port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_all_done_exits_0_and_quiet_prints_nothing(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(_offline(server, tmp_path))
    door("register", _session(door)).ok()
    door.env.update(alyx_env(server, tmp_path))

    synced = door("sync", "--json")

    assert synced.code == ALL_DONE, synced.err
    assert {row["outcome"] for row in synced.json()} == {"done"}
    assert [s["key"] for s in server.state.snapshot()["sessions"]] == ["algernon/2026-11-21/001"]
    assert door("sync", "--quiet") == (ALL_DONE, "", "")


@pytest.mark.parametrize("where", ["no server configured", "connection refused"])
def test_work_still_queued_exits_75(
    door: Door, server: AlyxTestServer, tmp_path: Path, where: str
) -> None:
    door.env.update(_offline(server, tmp_path))
    door("register", _session(door)).ok()  # queued: the other commands exit 0, as (a) says
    if where == "connection refused":
        door.env["LABLEDGER_ALYX__BASE_URL"] = _refused_url()
    else:
        synced = door("sync")
        assert synced.code == STILL_QUEUED, synced.err
        assert "queued" in synced.out and synced.err == ""

    assert door("sync", "--quiet") == (STILL_QUEUED, "", ""), "no waiting line either"


def test_work_the_server_refuses_exits_1_with_one_line_per_item(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(_offline(server, tmp_path))
    door("register", _session(door), "--location", "rig-room-7").ok()
    door.env.update(alyx_env(server, tmp_path))

    quiet = door("sync", "--quiet")

    assert quiet.code == MUST_ACT and quiet.out == ""
    (line,) = quiet.err.splitlines()
    assert line.startswith(f"labledger: failed: {SESSION_KEY}: register session: ")
    assert "rig-room-7" in line and line.endswith("then `labledger retry`")
    loud = door("sync")  # the files now wait for a session that is refused: blocked
    assert loud.code == MUST_ACT and "waiting for a fix" in loud.err


def test_work_blocked_by_a_wrong_password_exits_1(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(_offline(server, tmp_path))
    door("register", _session(door)).ok()
    door.env.update(alyx_env(server, tmp_path), LABLEDGER_ALYX__PASSWORD="not-the-password")

    quiet = door("sync", "--quiet")

    assert quiet.code == MUST_ACT and quiet.out == ""
    assert quiet.err.startswith("labledger: blocked: ") and "alyx.password" in quiet.err
    assert all(line.endswith("then run `labledger sync`") for line in quiet.err.splitlines())
    assert "not-the-password" not in quiet.err


def _watchdog(door: Door, tmp_path: Path) -> Path:
    """The watchdog's folders and a settings file that hands sessions to it, with a deadline
    of a fraction of a second; the flag folder is returned."""
    service = watched_service(tmp_path, stall_after_minutes=0.001, schedule_time=None)
    door.env["LABLEDGER_CONFIG"] = str(service.settings)
    return service.flag_dir


def test_a_stalled_transfer_exits_1_until_the_watchdog_takes_it(door: Door, tmp_path: Path) -> None:
    flag = _watchdog(door, tmp_path)
    session = _session(door)
    door("scan", session).ok()
    door("transfer", session, "--acquired", "11:16:17").ok()
    time.sleep(0.1)  # past the deadline

    loud = door("sync")
    quiet = door("sync", "--quiet")

    assert loud.code == MUST_ACT
    assert f"1 transfer stalled, first {SESSION_KEY}: still in flag_dir" in loud.err
    assert quiet.code == MUST_ACT and quiet.out == ""
    (line,) = quiet.err.splitlines()
    assert line.startswith(f"labledger: stalled: {SESSION_KEY}: confirm transfer: still in")
    (manifest,) = flag.iterdir()
    manifest.rename(flag.parent / "manifest_complete" / manifest.name)  # the service's success
    assert door("sync", "--quiet") == (ALL_DONE, "", "")
