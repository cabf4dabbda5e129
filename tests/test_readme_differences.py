"""The README's table "Where labledger differs from ONE on purpose", row by row.

`DIFFERENCES` maps each row (by a short phrase of its labledger column, or of its ONE column) to
the tests that show it; `test_every_row_of_the_readme_table_has_its_tests` fails when a row has no
entry, when an entry names no row, or when a named test does not exist.

The tests written here show both sides where that is cheap: ONE-api 3.6.1's own
`RegistrationClient` on one loopback Alyx (tests/alyx_fixtures.py) does what the first column
says, and labledger does what the second says, entered as a user enters it: the Python API with
explicit settings (the `client` fixture of tests/alyx_cli.py) on a second server, the installed
`labledger` command (tests/doors.py) for `sync` and `history`, and a rig script in a fresh
interpreter where the settings must come from the environment alone.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import inspect
import logging
import math
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from one.registration import RegistrationClient as OnesClient

from labledger import RegistrationClient, WorkRefused
from labledger.domain.errors import LabledgerError
from tests.alyx_cli import API_LEDGER, alyx_env
from tests.alyx_fixtures import one_registration_client
from tests.alyx_server import TEST_TOKEN, TEST_USER, AlyxTestServer
from tests.cli_helpers import SAMPLE, SAMPLE_FILES
from tests.doors import Door

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HEADING = "### Where labledger differs from ONE on purpose"

DIFFERENCES: dict[str, list[str]] = {
    "changes only the fields given": [
        "tests/test_readme_differences.py::test_registering_again_keeps_what_one_resets",
        "tests/test_alyx_registration.py::test_update_changes_only_given_fields",
        "tests/test_alyx_registration.py::test_register_again_sends_nothing_new",
        "tests/test_alyx_policies.py::test_update_changes_only_what_was_given",
    ],
    "`subject`/`number` keywords override the path": [
        "tests/test_readme_differences.py::test_subject_and_number_come_from_the_folder",
        "tests/test_alyx_policies.py::test_bad_session_fields",
    ],
    "one more than the disk, the ledger and Alyx": [
        "tests/test_readme_differences.py::test_a_number_taken_offline_is_checked_again",
        "tests/test_alyx_registration.py::test_new_session_takes_the_number_after_alyx",
        "tests/test_alyx_policies.py::test_next_number",
    ],
    "creates are never retried blindly": [
        "tests/test_readme_differences.py::test_a_create_is_looked_up_not_sent_again_blindly",
        "tests/test_alyx_registration.py::test_lost_session_reply_is_adopted_not_duplicated",
        "tests/test_alyx_registration.py::test_lost_reply_of_a_weighing_or_water_is_adopted",
        "tests/test_alyx_client.py::test_a_create_is_sent_once_on_503",
        "tests/test_alyx_client.py::test_a_create_without_reply_is_no_reply_and_not_sent_again",
    ],
    "a crash resumes from the record": [
        "tests/test_readme_differences.py::test_a_move_is_recorded_and_its_registration_finished",
        "tests/test_alyx_crash.py::test_killed_then_sync_ends_as_uninterrupted",
        "tests/test_alyx_crash.py::test_reference_runs_register_and_move",
        "tests/test_ledger_scenarios.py::test_dataset_registration_protection_and_move",
        "tests/test_revision_mover.py::test_crash_between_link_and_unlink",
    ],
    "Every existing revision is reserved": [
        "tests/test_readme_differences.py::test_an_unprotected_revision_is_not_reused",
        "tests/test_revisions.py::test_deliberate_differences_from_one",
        "tests/test_revisions.py::test_contract_examples",
        "tests/test_revisions.py::test_lettering_stops_after_z",
    ],
    "destination holds other bytes": [
        "tests/test_readme_differences.py::test_one_overwrites_a_different_file_in_the_revision",
        "tests/test_client_returns.py::test_a_refused_move_leaves_the_other_files_of_the_request_going",
        "tests/test_revision_mover.py::test_never_overwrites_another_file",
    ],
    "Only files not yet registered as they are now": [
        "tests/test_readme_differences.py::test_registering_a_session_again_sends_only_new_files",
        "tests/test_alyx_registration.py::test_register_again_sends_nothing_new",
        "tests/test_one_cross_check.py::test_new_session_files_and_reregistration",
    ],
    "One version for all": [
        "tests/test_readme_differences.py::test_versions_and_repeated_paths",
        "tests/test_client_returns.py::test_versions_one_for_all_or_one_per_file_by_position",
        "tests/test_one_surface.py::test_versions_one_for_all_or_one_per_file",
        "tests/test_one_surface.py::test_versions_otherwise_refused_saying_what_was_given",
        "tests/test_alyx_offline.py::test_bad_register_input_changes_nothing",
    ],
    "named with the reason in `client.warnings`": [
        "tests/test_readme_differences.py::test_a_path_left_out_is_named",
        "tests/test_client_returns.py::test_a_list_with_files_that_cannot_be_registered",
        "tests/test_one_drop_in.py::test_register_files_mixed_lists_single_paths_and_dry_bodies",
    ],
    "A dry run returns `None`": [
        "tests/test_readme_differences.py::test_a_single_unusable_path",
        "tests/test_client_returns.py::test_one_path_returns_one_record_and_dry_runs_keep_the_order_given",
        "tests/test_one_surface.py::test_a_rig_script_asks_alyx_as_ones_client_does",
    ],
    "`labledger sync` finishes it": [
        "tests/test_readme_differences.py::test_work_is_queued_where_one_raises",
        "tests/test_client_returns.py::test_queued_work_returns_none_in_every_place",
        "tests/test_client_returns.py::test_work_waiting_for_the_operator_returns_none_and_stays_pending",
        "tests/test_alyx_registration.py::test_offline_then_sync_reaches_the_same_state",
        "tests/test_alyx_registration.py::test_server_down_queues_and_exits_0",
        "tests/test_operator_fixes.py::test_an_unknown_user_and_a_failing_server_keep_the_work_pending",
        "tests/test_operator_fixes.py::test_an_unknown_repository_waits_and_asking_again_with_the_right_one_replaces_it",
    ],
    "Every refusal is a `LabledgerError`": [
        "tests/test_readme_differences.py::test_every_refusal_is_a_labledger_error",
        "tests/test_client_returns.py::test_work_alyx_refuses_raises_as_in_one",
        "tests/test_one_drop_in_refusals.py::test_refusals_raise_on_both_sides",
    ],
    "as are implausible values": [
        "tests/test_readme_differences.py::test_one_sends_what_no_scale_measured",
        "tests/test_registration_client.py::test_weight_and_water",
        "tests/test_weighings_water.py::test_weights_refused",
        "tests/test_weighings_water.py::test_volumes_refused",
        "tests/test_weighings_water.py::test_impossible_values_are_refused_in_one_line",
        "tests/test_weighings_water.py::test_api_refuses_impossible_values",
        "tests/test_weighings_water.py::test_api_water_waits_for_its_session",
        "tests/test_alyx_offline.py::test_bad_values_change_nothing",
    ],
    "within 10 minutes is recognised": [
        "tests/test_readme_differences.py::test_a_measurement_asked_again_is_recognised",
        "tests/test_weighings_water.py::test_rerun_after_a_timeout_records_once_and_again_records_another",
        "tests/test_weighings_water.py::test_api_rerun_returns_the_first_record_and_again_records_another",
        "tests/test_weighings_water.py::test_weighing_repeat_rule",
        "tests/test_weighings_water.py::test_water_repeat_rule",
    ],
    "A time with a UTC offset is refused": [
        "tests/test_readme_differences.py::test_a_time_with_an_offset",
        "tests/test_alyx_offline.py::test_bad_values_change_nothing",
        "tests/test_alyx_offline.py::test_bad_register_input_changes_nothing",
        "tests/test_alyx_policies.py::test_positive_and_times",
    ],
    "It starts now": [
        "tests/test_readme_differences.py::test_ones_new_session_of_today_starts_at_midnight",
        "tests/test_new_session_dates.py::test_new_session_today_starts_now",
        "tests/test_new_session_dates.py::test_new_session_on_a_past_day_starts_at_its_midnight",
        "tests/test_new_session_dates.py::test_create_new_session_on_any_day",
    ],
    "`--refuse-protected`": [
        "tests/test_readme_differences.py::test_one_has_no_way_to_refuse_a_revision",
        "tests/test_alyx_registration.py::test_refuse_protected_fails_instead_of_moving",
    ],
    "Every flag is tried": [
        "tests/test_readme_differences.py::test_every_flag_is_tried",
    ],
    "The configured lab is used": [
        "tests/test_readme_differences.py::test_a_path_without_a_lab_gets_the_configured_lab",
        "tests/test_alf.py::test_no_path_lab_takes_the_configured_one",
    ],
    "labledger's own settings, login and token": [
        "tests/test_one_surface.py::test_a_rig_script_passing_its_one_instance_reaches_ones_server",
        "tests/test_one_surface.py::test_a_one_instance_passed_without_a_labledger_password_says_what_to_set",
        "tests/test_one_surface.py::test_server_and_user_taken_from_one_only_where_settings_name_none",
    ],
    "Refused: only session files": [
        "tests/test_readme_differences.py::test_content_type_of_another_relation",
        "tests/test_readme_differences.py::test_register_files_refuses_content_type",
        "tests/test_one_surface.py::test_a_rig_script_asks_alyx_as_ones_client_does",
    ],
}
"""README row (a phrase of its labledger column, or of its ONE column) -> the tests that show it."""


# -- the table and its tests ----------------------------------------------------------------------


def _table_rows() -> list[tuple[str, str]]:
    """(ONE column, labledger column) of every row of the README's table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADING)
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            table.append(line)
    header, rule, *rows = table
    assert header.startswith("| ONE-api 3.6.1 | labledger | why |"), header
    assert set(rule) <= set("|-: "), rule
    cells = [re.split(r"(?<!\\)\|", row.strip().strip("|")) for row in rows]
    assert all(len(row) == 3 for row in cells), "every row has three cells"
    return [(one.strip(), ours.strip()) for one, ours, _ in cells]


@functools.cache
def _functions(rel: str) -> set[str]:
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    return {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_row_of_the_readme_table_has_its_tests() -> None:
    rows = _table_rows()
    assert len(rows) >= 20, f"only {len(rows)} rows found under {HEADING!r}"
    matched: dict[str, list[int]] = {
        key: [i for i, (one, ours) in enumerate(rows) if key in ours or key in one]
        for key in DIFFERENCES
    }
    unknown = sorted(key for key, found in matched.items() if not found)
    assert not unknown, f"no README row says these any more: {unknown}"
    ambiguous = sorted(key for key, found in matched.items() if len(found) > 1)
    assert not ambiguous, f"phrases found in more than one row: {ambiguous}"
    covered = {found[0] for found in matched.values()}
    untested = [rows[i][1] for i in range(len(rows)) if i not in covered]
    assert not untested, f"README rows without tests in DIFFERENCES: {untested}"
    twice = sorted(i for i in covered if sum(found == [i] for found in matched.values()) > 1)
    assert not twice, f"rows named by two phrases: {[rows[i][1] for i in twice]}"

    missing = []
    for key, tests in DIFFERENCES.items():
        assert tests, f"{key!r} names no test"
        for test in tests:
            rel, _, name = test.partition("::")
            if not (ROOT / rel).is_file() or name not in _functions(rel):
                missing.append(test)
    assert not missing, f"tests named in DIFFERENCES that do not exist: {missing}"


# -- both clients ---------------------------------------------------------------------------------

KEY = "algernon/2026-11-21/001"
DAY = "2026-11-21"
START = f"{DAY}T09:30:00"


@dataclass
class Ones:
    """ONE's client on its own loopback Alyx, and where its data lives."""

    server: AlyxTestServer
    client: Any
    root: Path

    def session(self, key: str = KEY) -> Path:
        return _copy(self.root, key)


@pytest.fixture
def one(tmp_path: Path) -> Iterator[Ones]:
    with AlyxTestServer() as server:
        client = one_registration_client(server, tmp_path / "one_env")
        yield Ones(server, client, tmp_path / "one")


def _copy(root: Path, key: str = KEY) -> Path:
    target = root / "cortexlab" / "Subjects" / key
    shutil.copytree(SAMPLE, target)
    return target


def _ours(tmp_path: Path, key: str = KEY) -> Path:
    """A copy of the sample session for labledger's side."""
    return _copy(tmp_path / "ours", key)


def _same_env(server: AlyxTestServer, tmp_path: Path) -> dict[str, str]:
    """The `client` fixture's settings as variables: the installed command on the same ledger."""
    return alyx_env(server, tmp_path) | {"LABLEDGER_SQLITE_PATH": str(tmp_path / API_LEDGER)}


def _today() -> set[str]:
    """Today's date, and tomorrow's: midnight may pass while a test runs."""
    today = dt.date.today()
    return {today.isoformat(), (today + dt.timedelta(days=1)).isoformat()}


def _protect(server: AlyxTestServer, rel: str, key: str = KEY) -> None:
    server.state.protect_dataset(server.state.dataset_at(f"{key}/{rel}").id)


def _posts(server: AlyxTestServer, path: str) -> list[Any]:
    return [request.body for request in server.requests.calls("POST", path)]


SESSION_ID = re.compile(r"^/sessions/[0-9a-f-]{36}$")


# -- the rows -------------------------------------------------------------------------------------


def test_registering_again_keeps_what_one_resets(
    one: Ones, client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    fields: dict[str, Any] = {"users": [TEST_USER, "operator2"], "start_time": START}
    for alyx in (one.server, server):
        alyx.state.add_user("operator2")

    ones = one.session()
    one.client.register_session(ones, file_list=False, **fields)
    one.client.register_session(ones, file_list=False)
    (reset,) = one.server.state.snapshot()["sessions"]
    assert (reset["start_time"], reset["users"]) == (f"{DAY}T00:00:00", [TEST_USER])
    assert len(one.server.requests.calls("PUT", SESSION_ID)) == 1

    ours = _ours(tmp_path)
    client.register_session(ours, file_list=False, **fields)
    server.requests.clear()
    again, _ = client.register_session(ours, file_list=False)
    assert server.requests.all() == [], "nothing to change: nothing sent"
    assert again is not None and (again["start_time"], again["users"]) == (START, fields["users"])
    client.register_session(ours, file_list=False, n_trials=400)
    (put,) = server.requests.calls("PUT", SESSION_ID)
    assert put.body["start_time"] == START and put.body["users"] == fields["users"]
    (kept,) = server.state.snapshot()["sessions"]
    assert (kept["start_time"], kept["n_trials"]) == (START, 400)
    assert sorted(kept["users"]) == sorted(fields["users"])


def test_subject_and_number_come_from_the_folder(
    one: Ones, client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    one.client.register_session(one.session(), file_list=False, subject="ZM_1085", number="002")
    (moved,) = one.server.state.snapshot()["sessions"]
    assert moved["key"] == f"ZM_1085/{DAY}/002", "ONE registered the folder as another session"

    ours = _ours(tmp_path)
    for given in ({"subject": "ZM_1085"}, {"number": "002"}):
        with pytest.raises(LabledgerError, match="comes from the session folder") as refused:
            client.register_session(ours, file_list=False, **given)
        assert "rename the folder" in str(refused.value) and "\n" not in str(refused.value)
    assert server.state.snapshot()["sessions"] == [] and _posts(server, "/sessions") == []


def test_a_number_taken_offline_is_checked_again(
    one: Ones, door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    day = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    other_rig = one.server.state.add_session("algernon", f"{day}T08:00:00", number=1)
    folder, eid = one.client.create_new_session("algernon", one.root / "cortexlab/Subjects", day)
    assert folder.name == "001" and str(eid) == other_rig.id, "ONE took the other rig's session"

    online = alyx_env(server, tmp_path)
    door.env.update({k: v for k, v in online.items() if k != "LABLEDGER_ALYX__BASE_URL"})
    root = tmp_path / "ours" / "cortexlab" / "Subjects"
    root.mkdir(parents=True)  # a rig's data root exists
    made = door("new-session", "algernon", "--root", root, "--date", day).ok()
    assert made.out.splitlines()[0] == str(root / "algernon" / day / "001")
    assert "checked again before it is registered" in made.err
    server.state.add_session("algernon", f"{day}T08:00:00", number=1)  # another rig, meanwhile
    door.env["LABLEDGER_ALYX__BASE_URL"] = server.base_url

    synced = door("sync")

    assert synced.code == 1
    assert "registered by another rig after this folder was made offline" in synced.err
    assert "rename the folder to a free number" in synced.err
    assert server.requests.calls("POST", "/sessions") == []
    assert server.requests.calls("PUT", SESSION_ID) == []
    (theirs,) = server.state.snapshot()["sessions"]
    assert theirs["start_time"] == f"{day}T08:00:00"


def test_a_refused_sessions_files_never_go_into_the_other_rigs_session(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Alyx refused the session (another rig took its number meanwhile): the files recorded
    for it wait, blocked, at every sync; they are never posted into the session Alyx holds
    under the same subject, date and number."""
    day = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    online = alyx_env(server, tmp_path)
    door.env.update({k: v for k, v in online.items() if k != "LABLEDGER_ALYX__BASE_URL"})
    root = tmp_path / "ours" / "cortexlab" / "Subjects"
    root.mkdir(parents=True)
    made = door("new-session", "algernon", "--root", root, "--date", day).ok()
    folder = Path(made.out.split()[0])
    (folder / "alf").mkdir()
    shutil.copy(SAMPLE / "alf" / "licks.times.npy", folder / "alf" / "licks.times.npy")
    door("register", folder).ok()  # no server yet: the session and its file are queued
    theirs = server.state.add_session("algernon", f"{day}T08:00:00", number=1)
    door.env["LABLEDGER_ALYX__BASE_URL"] = server.base_url

    first = door("sync")
    again = door("sync")

    assert "registered by another rig after this folder was made offline" in first.err
    assert again.code == 1, again.out
    assert "its registration was refused" in again.err + again.out
    assert server.requests.calls("POST", "/register-file") == []
    assert [d for d in server.state.snapshot().get("datasets", []) if theirs.id in str(d)] == []


def test_a_create_is_looked_up_not_sent_again_blindly(
    one: Ones, client: RegistrationClient, door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    when = f"{DAY}T10:00:00"
    one.server.faults.status("POST", "/weighings", 503)
    one.client.register_weight("algernon", 25.3, date_time=when)
    assert len(_posts(one.server, "/weighings")) == 2, "ONE posted the create again"

    server.faults.status("POST", "/weighings", 503)
    assert client.register_weight("algernon", 25.3, date_time=when) is None
    assert [r.outcome for r in client.last_results] == ["queued"]
    assert len(_posts(server, "/weighings")) == 1
    # the 503 came from a proxy while Alyx did record it: the weighing is there
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Token {TEST_TOKEN}"}
    ) as http:
        body = {"subject": "algernon", "date_time": when, "weight": 25.3, "user": TEST_USER}
        assert http.post("/weighings", json=body).status_code == 201
    server.requests.clear()
    door.env.update(_same_env(server, tmp_path))

    (row,) = door("sync", "--json").ok().json()

    assert row["outcome"] == "done" and "already on Alyx" in row["detail"]
    assert "GET /subjects/algernon" in server.requests.lines(), "the subject's records, read"
    assert _posts(server, "/weighings") == [], "not posted again"
    assert len(server.state.snapshot()["weighings"]) == 1

    # a session another client made: looked up first, adopted, not created again
    made = server.state.add_session("algernon", f"{DAY}T08:00:00", number=1)
    session, _ = client.register_session(_ours(tmp_path), file_list=False)
    assert session is not None and session["id"] == made.id
    assert _posts(server, "/sessions") == [] and server.requests.calls("GET", "/sessions")


def test_a_move_is_recorded_and_its_registration_finished(
    one: Ones, client: RegistrationClient, door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    rel = "alf/probe00/spikes.times.npy"
    sides = ((one.client, one.server, one.session()), (client, server, _ours(tmp_path)))
    for registrar, alyx, folder in sides:
        registrar.register_session(folder, file_list=False)
        registrar.register_files([folder / rel])
        _protect(alyx, rel)
        (folder / rel).write_bytes(b"new spikes")
        alyx.faults.status("POST", "/register-file", 500, skip=1)  # the POST after the move

    ones = sides[0][2]
    with pytest.raises(Exception, match="500"):
        one.client.register_files([ones / rel])
    (moved,) = [p for p in ones.rglob("spikes.times.npy")]
    assert moved.parent.name.strip("#") in _today(), "ONE moved the file"
    assert [d["revision"] for d in one.server.state.snapshot()["datasets"]] == [""]

    ours = sides[1][2]
    assert client.register_files([ours / rel]) == [None]
    (ours_moved,) = [p for p in ours.rglob("spikes.times.npy")]
    revision = ours_moved.parent.name.strip("#")
    door.env.update(_same_env(server, tmp_path))
    events = [e["event"] for e in door("history", ours / rel, "--json").ok().json()]
    assert events[-3:] == [
        "Dataset.MoveRequested",
        "Dataset.Moved",
        "Dataset.RegistrationRelocated",
    ]

    door("sync").ok()

    revisions = {d["revision"] for d in server.state.snapshot()["datasets"]}
    assert revisions == {"", revision}, "the moved file is registered where it is"


def test_an_unprotected_revision_is_not_reused(
    one: Ones, client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Today's revision protected and latest, with an unprotected `<today>a` already there, made
    before today's protected one."""
    today = dt.date.today().isoformat()
    licks = "alf/licks.times.npy"
    sides = ((one.client, one.server, one.session()), (client, server, _ours(tmp_path)))
    for registrar, alyx, folder in sides:
        for revision, content in ((f"{today}a", b"unprotected a"), (today, b"protected")):
            (folder / f"alf/#{revision}#").mkdir()
            (folder / f"alf/#{revision}#/licks.times.npy").write_bytes(content)
        registrar.register_session(folder, file_list=False)
        for rel in (licks, f"alf/#{today}a#/{licks[4:]}", f"alf/#{today}#/{licks[4:]}"):
            registrar.register_files([folder / rel])
        _protect(alyx, licks)
        _protect(alyx, f"alf/#{today}#/licks.times.npy")
        (folder / licks).write_bytes(b"new licks")

    ones, ours = sides[0][2], sides[1][2]
    (record,) = one.client.register_files([ones / licks])
    assert record["revision"] == f"{today}a"
    assert (ones / f"alf/#{today}a#/licks.times.npy").read_bytes() == b"new licks", "overwritten"

    (record,) = client.register_files([ours / licks])
    assert record is not None and record["revision"] == f"{today}b"
    assert (ours / f"alf/#{today}a#/licks.times.npy").read_bytes() == b"unprotected a"
    (warning,) = [w for w in client.warnings if "ONE would" in w]
    assert f"labledger registers revision {today}b, ONE would have used {today}a" in warning

    letters = [f"v{chr(c)}" for c in range(ord("a"), ord("z") + 1)]
    assert OnesClient._next_revision("v", letters) == "v{", "ONE's letters run past z"


def test_one_overwrites_a_different_file_in_the_revision(one: Ones) -> None:
    """ONE's side of the move into a dated unprotected revision holding other bytes (labledger's:
    test_client_returns)."""
    past = (dt.date.today() - dt.timedelta(days=9)).isoformat()
    folder = one.session()
    licks = folder / "alf" / "licks.times.npy"
    in_past = folder / "alf" / f"#{past}#" / "licks.times.npy"
    in_past.parent.mkdir()
    in_past.write_bytes(b"licks, past revision")
    one.client.register_session(folder, file_list=False)
    one.client.register_files([licks, in_past])
    _protect(one.server, "alf/licks.times.npy")
    licks.write_bytes(b"new licks")

    (record,) = one.client.register_files([licks])

    assert record["revision"] == past
    assert in_past.read_bytes() == b"new licks", "the past revision's file is gone"


def test_registering_a_session_again_sends_only_new_files(
    one: Ones, client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    ones = one.session()
    one.client.register_session(ones)
    one.client.register_session(ones)
    assert [len(body["filenames"]) for body in _posts(one.server, "/register-file")] == [6, 6]

    ours = _ours(tmp_path)
    _, first = client.register_session(ours, start_time=START)
    _, again = client.register_session(ours)
    assert first is not None and again == first, "the records Alyx sent the first time"
    (ours / "alf" / "licks.times.npy").write_bytes(b"new licks")
    _, third = client.register_session(ours)
    bodies = _posts(server, "/register-file")
    assert [body["filenames"] for body in bodies[1:]] == [["alf/licks.times.npy"]]
    assert third is not None and len(third) == len(first) == len(SAMPLE_FILES)
    changed = SAMPLE_FILES.index("alf/licks.times.npy")
    assert [r for i, r in enumerate(third) if i != changed] == [
        r for i, r in enumerate(first) if i != changed
    ]


def test_versions_and_repeated_paths(
    one: Ones, client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    names = ["alf/licks.times.npy", "notes.txt", "alf/probe00/spikes.times.npy"]
    ones = one.session()
    one.client.register_session(ones, file_list=False)
    one.client.register_files([ones / name for name in names], versions=["1.0", "2.0"])
    versions = {d["name"]: d["version"] for d in one.server.state.snapshot()["datasets"]}
    assert versions == {"licks.times.npy": "1.0", "spikes.times.npy": "1.0"}, "cycled"
    twice = one.client.register_files([ones / names[0], ones / names[0]])
    assert twice[0] is not None and twice[1] is None

    ours = _ours(tmp_path)
    client.register_session(ours, file_list=False)
    with pytest.raises(LabledgerError, match="2 versions given for 3 files"):
        client.register_files([ours / name for name in names], versions=["1.0", "2.0"])
    with pytest.raises(LabledgerError, match=r"given twice: alf/licks\.times\.npy; give each once"):
        client.register_files([ours / names[0], ours / names[0]])
    assert _posts(server, "/register-file") == []
    client.register_files([ours / name for name in names], versions=["1.0", "2.0", "3.0"])
    versions = {d["name"]: d["version"] for d in server.state.snapshot()["datasets"]}
    assert versions == {"licks.times.npy": "1.0", "spikes.times.npy": "3.0"}, "by position"


def test_a_path_left_out_is_named(
    one: Ones, client: RegistrationClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ones = one.session()
    one.client.register_session(ones, file_list=False)
    with caplog.at_level(logging.DEBUG, logger="one"):
        records = one.client.register_files([ones / "alf/licks.times.npy", ones / "notes.txt"])
    assert records[0] is not None and records[1] is None
    said = [(r.levelno, r.getMessage()) for r in caplog.records if "notes.txt" in r.getMessage()]
    assert said and {level for level, _ in said} == {logging.DEBUG}

    ours = _ours(tmp_path)
    client.register_session(ours, file_list=False)
    records = client.register_files([ours / "alf/licks.times.npy", ours / "notes.txt"])
    assert records[0] is not None and records[1] is None
    (warning,) = [w for w in client.warnings if "notes.txt" in w]
    assert "rename the file" in warning
    (result,) = [r for r in client.last_results if r.action == "left out"]
    assert result.target == str(ours / "notes.txt") and result.detail == warning


def test_a_single_unusable_path(one: Ones, client: RegistrationClient, tmp_path: Path) -> None:
    notes = one.session() / "notes.txt"
    with pytest.raises(IndexError):
        one.client.register_files(notes, dry=True)
    with pytest.raises(IndexError):
        one.client.check_protected_files(notes)

    notes = _ours(tmp_path) / "notes.txt"
    assert client.register_files(notes, dry=True) is None
    with pytest.raises(LabledgerError) as refused:
        client.check_protected_files(notes)
    message = str(refused.value)
    assert message.startswith(f"{notes}: file name") and "rename the file" in message
    assert "\n" not in message


RIG_SCRIPT = """
import json
from labledger import RegistrationClient

client = RegistrationClient()
out = {{}}
{calls}
out["outcomes"] = [r.outcome for r in client.last_results]
print(json.dumps(out))
"""


def test_work_is_queued_where_one_raises(
    one: Ones, door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    ones = one.session()
    with pytest.raises(Exception, match="nobody") as unknown:
        one.client.register_session(one.session(f"nobody/{DAY}/001"), file_list=False)
    assert type(unknown.value).__name__ == "AlyxSubjectNotFound"
    one.server.stop()
    with pytest.raises(Exception, match="Connection") as down:
        one.client.register_session(ones, file_list=False)
    assert type(down.value).__name__ == "ConnectionError"

    ours, nobody = _ours(tmp_path), _ours(tmp_path, f"nobody/{DAY}/001")
    door.env.update(alyx_env(server, tmp_path) | {"LABLEDGER_ALYX__BASE_URL": "http://127.0.0.1:9"})
    calls = (
        f"out['session'] = client.register_session({str(ours)!r}, start_time={START!r})\n"
        f"out['weighing'] = client.register_weight('algernon', 25.3, {START!r})"
    )
    down_then = door.python(RIG_SCRIPT.format(calls=calls)).ok().json()
    assert down_then["session"] == [None, [None] * len(SAMPLE_FILES)]
    assert down_then["weighing"] is None and set(down_then["outcomes"]) == {"queued"}
    door.env["LABLEDGER_ALYX__BASE_URL"] = server.base_url
    calls = f"out['session'] = client.register_session({str(nobody)!r})"
    waiting = door.python(RIG_SCRIPT.format(calls=calls)).ok().json()
    assert waiting["session"] == [None, [None] * len(SAMPLE_FILES)]
    assert "blocked" in waiting["outcomes"]
    server.state.add_subject("nobody")  # the operator creates the subject

    door("sync").ok()

    state = server.state.snapshot()
    assert sorted(s["key"] for s in state["sessions"]) == [KEY, f"nobody/{DAY}/001"]
    assert len(state["datasets"]) == 2 * len(SAMPLE_FILES) and len(state["weighings"]) == 1
    assert door("pending", "--json").ok().json() == []


def _refusals(client: Any, root: str) -> list[list[str]]:
    """The same refused calls on either client: [call, error type, message] for each."""
    import datetime
    from pathlib import Path

    subjects = Path(root) / "cortexlab" / "Subjects"
    first, new = subjects / "algernon/2026-11-21/001", subjects / "algernon/2026-11-21/002"
    when = "2026-11-21T10:00:00"
    client.register_session(first, file_list=False)
    calls: dict[str, Callable[[], object]] = {  # (not evaluated: the rig script needs no import)
        "weight 0": lambda: client.register_weight("algernon", 0),
        "bad date": lambda: client.register_weight("algernon", 25.0, date_time="07/14/21"),
        "start off the date": lambda: client.register_session(
            new, start_time=datetime.datetime(2026, 11, 22, 10)
        ),
        "other lab": lambda: client.register_session(new, lab="otherlab"),
        "no session folder": lambda: client.register_session(subjects / "notasession"),
        "unknown subject": lambda: client.register_weight("nobody", 20.0, date_time=when),
        "unknown user": lambda: client.register_session(new, users="ghost"),
        "new session of nobody": lambda: client.create_new_session("ghost", subjects, "2026-11-21"),
        "negative weight": lambda: client.register_weight("algernon", -3.0, date_time=when),
        "unknown water type": lambda: client.register_water_administration(
            "algernon", 1.0, date_time=when, water_type="Gin"
        ),
        "unknown procedure": lambda: client.register_session(new, procedures="Flying"),
        "bad qc": lambda: client.register_files([first / "alf/licks.times.npy"], qc="bogus"),
    }
    raised = []
    for name, call in calls.items():
        try:
            call()
        except Exception as error:
            kinds = [kind.__name__ for kind in type(error).__mro__]
            raised.append([name, type(error).__name__, str(error), *kinds])
        else:
            raised.append([name, "", "", ""])
    return raised


REFUSALS_SCRIPT = """
import json
from typing import Any
from labledger import RegistrationClient

{source}
print(json.dumps(_refusals(RegistrationClient(), {root!r})))
"""


def test_every_refusal_is_a_labledger_error(
    one: Ones, door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    ours = tmp_path / "ours"
    for key in (KEY, f"algernon/{DAY}/002"):
        one.session(key)
        _copy(ours, key)
    readme = ("ALFError", "HTTPError", "AssertionError", "ValueError")  # as the README names them
    ones = {
        name: next((kind for kind in readme if kind in kinds), f"not in the README: {kinds}")
        for name, _, _, *kinds in _refusals(one.client, str(one.root))
    }
    assert set(ones.values()) == set(readme), ones

    door.env.update(alyx_env(server, tmp_path))
    script = REFUSALS_SCRIPT.format(source=inspect.getsource(_refusals), root=str(ours))
    refused = door.python(script).ok().json()

    assert [name for name, *_ in refused] == list(ones)
    for name, kind, message, *kinds in refused:
        assert "LabledgerError" in kinds, f"{name}: {kind}: {message}"
        assert message and "\n" not in message, f"{name}: {message!r}"
        if ones[name] == "HTTPError" and name != "negative weight":  # refused by Alyx
            assert kind == WorkRefused.__name__, f"{name}: {kind}: {message}"


def test_one_sends_what_no_scale_measured(one: Ones) -> None:
    """ONE's side; labledger refuses each (the tests named in DIFFERENCES)."""
    record = one.client.register_water_administration("algernon", 1.0, colour="blue", adlib=True)
    assert record["water_administered"] == 1.0, "the unknown keyword was ignored"
    with pytest.raises(ValueError, match="Water volume must be greater than 0"):
        one.client.register_weight("algernon", 0)
    for weight in (-3.0, math.inf, math.nan):
        try:
            one.client.register_weight("algernon", weight)
        except Exception as error:
            assert type(error).__name__ == "HTTPError"  # Alyx refused what reached it
    sent = [body["weight"] for body in _posts(one.server, "/weighings")]
    assert sent[0] == -3.0 and sent[1] == math.inf and math.isnan(sent[2])
    assert len(one.server.state.snapshot()["weighings"]) == 2, "inf and nan are kept"


def test_a_measurement_asked_again_is_recognised(
    one: Ones, client: RegistrationClient, server: AlyxTestServer
) -> None:
    one.server.faults.lose_reply("POST", "/weighings")
    with pytest.raises(Exception, match="Connection"):
        one.client.register_weight("algernon", 25.3)
    one.client.register_weight("algernon", 25.3)
    times = [body["date_time"] for body in _posts(one.server, "/weighings")]
    assert len(one.server.state.snapshot()["weighings"]) == 2 and times[0] != times[1]
    assert any("." in time for time in times), "ONE's now has microseconds"

    server.faults.lose_reply("POST", "/weighings")
    assert client.register_weight("algernon", 25.3) is None
    record = client.register_weight("algernon", 25.3)
    assert record is not None and any("already recorded" in w for w in client.warnings)
    (sent,) = [body["date_time"] for body in _posts(server, "/weighings")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", sent), sent
    assert len(server.state.snapshot()["weighings"]) == 1


def test_a_time_with_an_offset(
    one: Ones, client: RegistrationClient, server: AlyxTestServer
) -> None:
    aware = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    one.client.register_weight("algernon", 25.3, date_time=aware)
    (stored,) = one.server.state.snapshot()["weighings"]
    assert stored["date_time"] == "2026-11-20T23:00:00", "stored as UTC: the day before"

    for given in (aware, aware.isoformat()):
        with pytest.raises(LabledgerError, match="has a UTC offset"):
            client.register_weight("algernon", 25.3, date_time=given)
    assert _posts(server, "/weighings") == []


def test_ones_new_session_of_today_starts_at_midnight(one: Ones) -> None:
    """ONE's side; labledger's: tests/test_new_session_dates.py."""
    folder, _ = one.client.create_new_session("algernon", one.root / "cortexlab/Subjects")
    (session,) = one.server.state.snapshot()["sessions"]
    assert folder.parent.name in _today()
    assert session["start_time"] == f"{folder.parent.name}T00:00:00"


def test_one_has_no_way_to_refuse_a_revision() -> None:
    """ONE's side: no parameter of its client asks to refuse moving a protected file."""
    parameters = {
        name
        for _, method in inspect.getmembers(OnesClient, inspect.isfunction)
        for name in inspect.signature(method).parameters
    }
    assert not [name for name in parameters if "refuse" in name or "protect" in name]


def test_every_flag_is_tried(
    one: Ones, client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    """The first session created is refused by Alyx; ONE stops there, labledger goes on."""
    for root, alyx in ((one.root, one.server), (tmp_path / "ours", server)):
        for number in ("001", "002"):
            (_copy(root, f"algernon/{DAY}/{number}") / "create_me.flag").touch()
        alyx.faults.status("POST", "/sessions", 400, body={"narrative": ["refused"]})

    with pytest.raises(Exception, match="refused"):
        one.client.create_sessions(one.root)
    assert len(list(one.root.rglob("create_me.flag"))) == 2
    assert one.server.state.snapshot()["sessions"] == [], "ONE tried no other flag"

    folders, records = client.create_sessions(tmp_path / "ours")
    assert [f.name for f in folders] == ["001", "002"]
    assert records[0] is None and records[1] is not None
    assert [f.parent.name for f in (tmp_path / "ours").rglob("create_me.flag")] == ["001"]
    assert [s["number"] for s in server.state.snapshot()["sessions"]] == [2]
    assert any("refused" in w and "001" in w for w in client.warnings)


def test_a_path_without_a_lab_gets_the_configured_lab(
    one: Ones, client: RegistrationClient, tmp_path: Path
) -> None:
    no_lab = "data/algernon/2026-11-21/001/alf/licks.times.npy"
    shutil.copytree(SAMPLE, one.root / "data" / KEY)
    body = one.client.register_files(one.root / no_lab, dry=True)
    assert "labs" not in body

    shutil.copytree(SAMPLE, tmp_path / "ours" / "data" / KEY)
    body = client.register_files(tmp_path / "ours" / no_lab, dry=True)
    assert body["labs"] == "cortexlab" == client.settings.lab


def test_content_type_of_another_relation(
    one: Ones, client: RegistrationClient, tmp_path: Path
) -> None:
    subject_file = "cortexlab/Subjects/algernon/licks.times.npy"
    for root in (one.root, tmp_path / "ours"):
        (root / subject_file).parent.mkdir(parents=True)
        (root / subject_file).write_bytes(b"a subject's file")
    files, *_ = one.client.prepare_files(one.root / subject_file, content_type="subject")
    assert [[str(f) for f in found] for found in files.values()] == [
        ["Subjects/algernon/licks.times.npy"]
    ]

    for call in (client.prepare_files, client.check_protected_files):
        with pytest.raises(LabledgerError, match="content_type 'subject' is not supported"):
            call(tmp_path / "ours" / subject_file, content_type="subject")


def test_register_files_refuses_content_type(
    client: RegistrationClient, server: AlyxTestServer, tmp_path: Path
) -> None:
    ours = _ours(tmp_path)
    client.register_session(ours, file_list=False)
    with pytest.raises(LabledgerError, match="content_type 'subject' is not supported"):
        client.register_files([ours / "alf/licks.times.npy"], content_type="subject")
    assert _posts(server, "/register-file") == []
