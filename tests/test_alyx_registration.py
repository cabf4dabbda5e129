"""Registration through the CLI against the loopback Alyx test server: sessions, files, protected
revisions, weighings and water; offline then sync; lost replies and outages never duplicate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import Cli

START = "2026-11-21T09:30:00"


def _today() -> str:
    return dt.date.today().isoformat()


def _days_since(before: str) -> set[str]:
    """The local dates a command begun on `before` may have named a revision after: midnight
    may pass while it runs (the code reads the date once; the test cannot know when)."""
    return {before, _today()}


def _register(cli: Cli, session: Path, *extra: str) -> Any:
    result = cli("register", str(session), "--start-time", START, "--json", *extra)
    assert result.code == 0, result.err + result.out
    return result.json()


def _posts(server: AlyxTestServer, path: str) -> int:
    return sum(
        1 for r in server.requests.all() if r.method == "POST" and r.path.rstrip("/") == path
    )


def test_register_session_and_files(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    rows = _register(online, session)
    assert [row["outcome"] for row in rows] == ["done", "done"]
    state = server.state.snapshot()
    (alyx_session,) = state["sessions"]
    assert alyx_session["key"] == "algernon/2026-11-21/001"
    assert alyx_session["start_time"] == START and alyx_session["users"] == ["test_user"]
    assert len(state["datasets"]) == 6
    assert all(d["default"] and d["hash"] for d in state["datasets"])
    assert _posts(server, "/register-file") == 1 and _posts(server, "/sessions") == 1
    (status,) = online("status", "--json").json()
    assert status["pending"] == 0 and status["alyx_eid"]


def test_register_again_sends_nothing_new(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    _register(online, session)
    before = server.state.snapshot()
    rows = online("register", str(session), "--json").json()
    assert rows == [] or all(row["outcome"] == "done" for row in rows)
    assert _posts(server, "/register-file") == 1 and _posts(server, "/sessions") == 1
    assert server.state.snapshot() == before


def test_update_changes_only_given_fields(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    _register(online, session, "--task-protocol", "choiceWorld")
    result = online("register", str(session), "--no-files", "--n-trials", "400")
    assert result.code == 0, result.err
    (alyx_session,) = server.state.snapshot()["sessions"]
    assert alyx_session["n_trials"] == 400
    assert alyx_session["task_protocol"] == "choiceWorld"  # not reset (ONE's PUT would)
    assert alyx_session["start_time"] == START


def test_offline_then_sync_reaches_the_same_state(
    cli: Cli, server: AlyxTestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:

    env = alyx_env(server, tmp_path)
    for name, value in env.items():
        if name != "LABLEDGER_ALYX__BASE_URL":
            monkeypatch.setenv(name, value)
    session = cli.session()
    queued = cli("register", str(session), "--start-time", START)
    assert queued.code == 0 and "queued" in queued.out
    assert server.state.snapshot()["sessions"] == []
    monkeypatch.setenv("LABLEDGER_ALYX__BASE_URL", env["LABLEDGER_ALYX__BASE_URL"])
    synced = cli("sync", "--json")
    assert synced.code == 0, synced.err
    state = server.state.snapshot()
    assert len(state["sessions"]) == 1 and len(state["datasets"]) == 6


def test_server_down_queues_and_exits_0(online: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABLEDGER_ALYX__BASE_URL", "http://127.0.0.1:9")
    session = online.session()
    result = online("register", str(session), "--start-time", START)
    assert result.code == 0, result.err
    assert "queued" in result.out and "unreachable" in result.out


def test_lost_session_reply_is_adopted_not_duplicated(online: Cli, server: AlyxTestServer) -> None:
    server.faults.lose_reply("POST", "/sessions")
    session = online.session()
    first = online("register", str(session), "--start-time", START, "--json")
    assert first.code == 0
    assert any(row["outcome"] == "queued" for row in first.json())
    assert len(server.state.snapshot()["sessions"]) == 1  # the server did create it
    second = online("sync", "--json")
    assert second.code == 0, second.err
    state = server.state.snapshot()
    assert len(state["sessions"]) == 1 and len(state["datasets"]) == 6
    assert _posts(server, "/sessions") == 1


@pytest.mark.parametrize("command", [("weigh", "algernon", "25.3"), ("water", "algernon", "0.8")])
def test_lost_reply_of_a_weighing_or_water_is_adopted(
    online: Cli, server: AlyxTestServer, command: tuple[str, ...]
) -> None:
    endpoint = "/weighings" if command[0] == "weigh" else "/water-administrations"
    server.faults.lose_reply("POST", endpoint)
    first = online(*command, "--date-time", "2026-11-21T10:00:00")
    assert first.code == 0 and "queued" in first.out
    again = online(*command, "--date-time", "2026-11-21T10:00:00")
    assert again.code == 0 and "already on Alyx" in again.out
    state = server.state.snapshot()
    assert len(state["weighings"]) + len(state["water_administrations"]) == 1
    assert _posts(server, endpoint) == 1


def test_water_linked_to_a_session_folder(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    _register(online, session)
    result = online(
        "water",
        "algernon",
        "0.123456",
        "--session",
        str(session),
        "--water-type",
        "Water 10% Sucrose",
        "--date-time",
        "2026-11-21T10:00:00",
    )
    assert result.code == 0, result.err
    (water,) = server.state.snapshot()["water_administrations"]
    assert water["session"] == "algernon/2026-11-21/001"
    assert water["water_administered"] == 0.1235 and water["water_type"] == "Water 10% Sucrose"


def test_refused_weighing_is_final_with_the_servers_words(online: Cli) -> None:
    result = online("weigh", "nobody", "20")
    assert result.code == 1
    assert "subject nobody does not exist on Alyx" in result.out + result.err
    (row,) = online("sync", "--json").json() or [None]
    assert row is None  # a refusal closes the intent: nothing left to retry


def _protect(server: AlyxTestServer, rel: str) -> None:
    dataset = server.state.dataset_at(f"algernon/2026-11-21/001/{rel}")
    server.state.protect_dataset(dataset.id)


def test_changed_protected_file_moves_to_todays_revision(
    online: Cli, server: AlyxTestServer
) -> None:
    session = online.session()
    _register(online, session)
    _protect(server, "alf/probe00/spikes.times.npy")
    target = session / "alf" / "probe00" / "spikes.times.npy"
    target.write_bytes(target.read_bytes() + b"\x00")  # a new version of a protected file
    before = _today()
    rows = _register(online, session)
    assert rows[-1]["outcome"] == "done", rows
    (today,) = [
        day
        for day in _days_since(before)
        if (session / "alf" / "probe00" / f"#{day}#" / "spikes.times.npy").exists()
    ]
    assert not target.exists()
    datasets = [d for d in server.state.snapshot()["datasets"] if d["name"] == "spikes.times.npy"]
    by_revision = {d["revision"]: d for d in datasets}
    assert set(by_revision) == {"", today}
    assert by_revision[today]["default"] and not by_revision[""]["default"]
    assert by_revision[""]["protected"]


def test_refuse_protected_fails_instead_of_moving(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    _register(online, session)
    _protect(server, "alf/licks.times.npy")
    target = session / "alf" / "licks.times.npy"
    target.write_bytes(target.read_bytes() + b"\x00")
    before = _today()
    result = online("register", str(session), "--refuse-protected", "--json")
    assert result.code == 1 and "refused and closed" in result.err and "retry" in result.err
    assert "protected, refused: alf/licks.times.npy" in result.json()[-1]["detail"]
    assert target.exists()
    events = online("history", str(target), "--json").json()
    assert "refused as asked (--refuse-protected)" in events[-1]["details"]["reason"]
    assert not any((session / "alf" / f"#{day}#").exists() for day in _days_since(before))


def test_check_protected_shows_the_row(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    _register(online, session)
    _protect(server, "alf/licks.times.npy")
    before = _today()
    rows = online("check-protected", str(session / "alf" / "licks.times.npy"), "--json").json()
    (row,) = rows
    assert row["protected"] and row["row"] == "other protected latest"
    assert row["would_go"] in {f"alf/#{day}#/licks.times.npy" for day in _days_since(before)}


@pytest.mark.parametrize("days_ago", [0, 9])
def test_new_session_takes_the_number_after_alyx(
    online: Cli, server: AlyxTestServer, tmp_path: Path, days_ago: int
) -> None:
    day = (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()  # another rig's, that day
    server.state.add_session("algernon", f"{day}T08:00:00", number=1)
    root = tmp_path / "cortexlab" / "Subjects"
    root.mkdir(parents=True)
    result = online("new-session", "algernon", "--root", str(root), "--date", day)
    assert result.code == 0, result.err
    assert "002" in result.out and "Alyx already holds" in result.err
    assert (root / "algernon" / day / "002").is_dir()
    numbers = sorted(s["number"] for s in server.state.snapshot()["sessions"])
    assert numbers == [1, 2]


def test_register_options_reach_alyx(online: Cli, server: AlyxTestServer) -> None:
    session = online.session()
    args = ("--server-only", "--max-md5-size", "1", "--versions", "1.0.0", "--field", "qc=PASS")
    _register(online, session, *args)
    (body,) = [r.body for r in server.requests.calls("POST", "/register-file")]
    assert body["server_only"] is True and body["qc"] == "PASS"
    assert set(body["hashes"]) == {None} and set(body["versions"]) == {"1.0.0"}
    for dataset in server.state.snapshot()["datasets"]:
        assert dataset["version"] == "1.0.0" and dataset["qc"] == "PASS"
        (record,) = dataset["file_records"]  # the server repository only, present
        assert record["repository"] == "flatiron_cortexlab" and record["exists"]


def test_flags_are_removed_only_once_registered(
    online: Cli, server: AlyxTestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    session = online.session()
    flag = session / "create_me.flag"
    flag.touch()
    dry = online("register", "--flags", str(tmp_path / "cortexlab"), "--dry-run")
    assert dry.code == 0 and flag.exists() and online.event_count() == 0
    monkeypatch.setenv("LABLEDGER_ALYX__BASE_URL", "http://127.0.0.1:9")  # server down
    queued = online("register", "--flags", str(tmp_path / "cortexlab"))
    assert queued.code == 0 and "queued" in queued.out and flag.exists()
    monkeypatch.setenv("LABLEDGER_ALYX__BASE_URL", server.base_url)
    done = online("register", "--flags", str(tmp_path / "cortexlab"))
    assert done.code == 0, done.err
    assert not flag.exists() and len(server.state.snapshot()["datasets"]) == 6


def test_a_failed_file_request_is_read_back_from_alyx_before_it_is_sent_again(
    online: Cli, server: AlyxTestServer
) -> None:
    """The server acted on the request and its reply was lost, and the retries failed: the next
    run reads the session's datasets from Alyx, records what the server kept, and sends only
    what it did not (here, a file added since)."""
    session = online.session()
    server.faults.lose_reply("POST", "/register-file")
    server.faults.status("POST", "/register-file", 503, times=None)
    first = online("register", str(session), "--start-time", START, "--json")
    assert first.code == 0, first.err
    assert any(row["outcome"] == "queued" for row in first.json())
    assert len(server.state.snapshot()["datasets"]) == 6, "the server kept the whole request"
    server.faults.clear()
    server.requests.clear()
    extra = session / "alf" / "licks.times.csv"
    extra.write_text("1.25\n2.50\n")

    again = online("register", str(session), "--json")

    assert again.code == 0, again.err
    assert "6 found on Alyx after an earlier failed request" in again.out
    (post,) = [r for r in server.requests.all() if r.method == "POST"]
    assert post.body["filenames"] == ["alf/licks.times.csv"], "only what Alyx did not keep"
    reads = [r for r in server.requests.all() if r.method == "GET" and r.path == "/datasets"]
    assert len(reads) == 1
    assert len(server.state.snapshot()["datasets"]) == 7
    assert online("pending", "--json").json() == []
