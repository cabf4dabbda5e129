"""What the operator can fix never loses work, and refused work can be asked for again.

Each test runs the installed `labledger` (tests/doors.py) against the loopback Alyx server, as an
operator at a rig would: the fault is made, the command reports it in one line and keeps the work
pending; the fault is fixed, `sync` (or `retry`, for work the server refused) finishes it, and the
server ends as an uninterrupted run would have left it.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from labledger.domain.exit_status import STILL_QUEUED
from tests.alyx_cli import alyx_env
from tests.alyx_server import TEST_PASSWORD, AlyxTestServer
from tests.cli_helpers import SAMPLE, SAMPLE_FILES
from tests.doors import Door

WRONG = "not-the-password-42"


def _sessions(door: Door, *numbers: str) -> list[Path]:
    """Copies of the sample session, numbered as given, under the working directory."""
    made = []
    for number in numbers:
        target = door.cwd / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / number
        shutil.copytree(SAMPLE, target)
        made.append(target)
    return made


def _offline(server: AlyxTestServer, tmp_path: Path) -> dict[str, str]:
    """The test server's settings without its address: commands only record their intents."""
    env = alyx_env(server, tmp_path)
    del env["LABLEDGER_ALYX__BASE_URL"]
    return env


def _pending(door: Door) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = door("pending", "--json").ok().json()
    return rows


def test_a_wrong_password_keeps_all_work_pending_until_it_is_fixed(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(_offline(server, tmp_path))
    first, second = _sessions(door, "001", "002")
    door("register", first, second).ok()
    door.env.update(alyx_env(server, tmp_path), LABLEDGER_ALYX__PASSWORD=WRONG)

    refused = door("sync")

    assert refused.code == 1
    (line,) = [text for text in refused.err.splitlines() if text.startswith("labledger: error")]
    assert "alyx.password" in line and "refused the login" in line
    assert WRONG not in refused.out + refused.err
    assert len(server.requests.calls("POST", "/auth-token")) == 1  # not retried, not per session
    assert server.requests.calls("POST", "/sessions") == []
    assert server.requests.calls("POST", "/register-file") == []
    assert len(_pending(door)) == 2 + 2 * len(SAMPLE_FILES)  # nothing closed

    door.env["LABLEDGER_ALYX__PASSWORD"] = TEST_PASSWORD
    door("sync").ok()

    snapshot = server.state.snapshot()
    assert sorted(s["key"] for s in snapshot["sessions"]) == [
        "algernon/2026-11-21/001",
        "algernon/2026-11-21/002",
    ]
    assert len(snapshot["datasets"]) == 2 * len(SAMPLE_FILES)
    assert _pending(door) == []


def test_a_missing_password_is_named_and_nothing_is_lost(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    env = alyx_env(server, tmp_path)
    del env["LABLEDGER_ALYX__PASSWORD"]
    door.env.update(env)
    (session,) = _sessions(door, "001")

    ran = door("register", session)

    assert ran.code == 1 and "LABLEDGER_ALYX__PASSWORD" in ran.err
    assert len(_pending(door)) == 1 + len(SAMPLE_FILES)
    door.env["LABLEDGER_ALYX__PASSWORD"] = TEST_PASSWORD
    door("sync").ok()
    assert len(server.state.snapshot()["datasets"]) == len(SAMPLE_FILES)


def test_an_unknown_user_and_a_failing_server_keep_the_work_pending(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """A 500 (here Alyx's "LabMember matching query does not exist" for a created_by it does
    not know) names the user and keeps the files pending; fixed, sync registers them."""
    door.env.update(alyx_env(server, tmp_path))
    (session,) = _sessions(door, "001")
    door("register", session, "--no-files").ok()
    server.faults.status(
        "POST", "/register-file", 500, body={"detail": "LabMember matching query does not exist."}
    )

    ran = door("register", session)

    assert ran.code == 1 and "Alyx has no user test_user, sent as created_by" in ran.err
    assert len(_pending(door)) == len(SAMPLE_FILES)
    server.faults.status("POST", "/register-file", 502, times=3)  # then a gateway that fails
    assert door("sync").code == 0 or len(_pending(door)) == len(SAMPLE_FILES)
    door("sync").ok()
    assert len(server.state.snapshot()["datasets"]) == len(SAMPLE_FILES)
    assert _pending(door) == []


def test_files_are_never_sent_before_their_session_is_on_alyx(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """The session's creation is refused for its content (a location Alyx does not know): the
    files wait, nothing is posted for them; once the location exists, `retry` finishes both."""
    door.env.update(alyx_env(server, tmp_path))
    (session,) = _sessions(door, "001")

    ran = door("register", session, "--location", "rig-room-7", "--json")

    assert ran.code == 1
    rows = {row["action"]: row for row in ran.json()}
    assert rows["register session"]["outcome"] == "failed"
    assert "location: Object with name=rig-room-7 does not exist" in ran.out
    assert rows[f"register {len(SAMPLE_FILES)} files"]["detail"] == "waits for session"
    assert server.requests.calls("POST", "/register-file") == []
    status = door("status", "--json").ok().json()
    assert status[0]["pending"] == len(SAMPLE_FILES)  # the session's registration is closed

    again = door("sync", "--json")
    (files,) = again.json()
    assert again.code == 1 and files["outcome"] == "blocked"
    assert "not on Alyx" in files["detail"] and "labledger retry" in files["detail"]
    assert server.requests.calls("POST", "/register-file") == []

    server.state.add_location("rig-room-7")
    retried = door("retry", "algernon/2026-11-21/001", "--json").ok().json()
    assert [(row["action"], row["outcome"]) for row in retried[:1]] == [
        ("create or update the session", "asked again")
    ]
    assert "rig-room-7" in retried[0]["detail"]
    (alyx_session,) = server.state.snapshot()["sessions"]
    assert alyx_session["location"] == "rig-room-7"
    assert len(server.state.snapshot()["datasets"]) == len(SAMPLE_FILES)
    assert _pending(door) == []
    kinds = [e["event"] for e in door("audit", "--kind", "Session.Retried", "--json").json()]
    assert kinds == ["Session.Retried"]


def test_retry_records_refused_work_again_and_pending_shows_it(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """A weighing of a subject Alyx does not have yet is refused (a typed name may be a typo);
    once the animal is created on Alyx, `retry SUBJECT` posts it. Without a server, `retry`
    records the new intent and `pending` lists it."""
    door.env.update(alyx_env(server, tmp_path))
    at = "2026-11-21T10:00:00"
    refused = door("weigh", "newmouse", "21.5", "--date-time", at)
    assert refused.code == 1 and "subject newmouse does not exist on Alyx" in refused.err
    assert "labledger retry" in refused.err
    assert door("retry", "nobody").code == 1  # names nothing refused: one line, nothing done
    assert _pending(door) == []

    del door.env["LABLEDGER_ALYX__BASE_URL"]
    queued = door("retry", "newmouse").ok()
    assert "queued" in queued.out
    (step,) = _pending(door)
    assert step["action"] == "post the weighing" and step["intent"] == "Subject.WeighingRequested"

    server.state.add_subject("newmouse")
    door.env.update(alyx_env(server, tmp_path))
    door("sync").ok()
    (weighing,) = [w for w in server.state.snapshot()["weighings"] if w["subject"] == "newmouse"]
    assert weighing["weight"] == 21.5
    assert door("retry").ok().out.strip() == "nothing to retry: no work was refused"


def test_a_hung_server_costs_one_read_timeout_per_command(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Four sessions (the default four workers) and a server that accepts but never answers in
    time: one read timeout, then everything is queued at once; nothing is lost."""
    door.env.update(_offline(server, tmp_path))
    sessions = _sessions(door, "001", "002", "003", "004")
    door("register", *sessions).ok()
    door.env.update(alyx_env(server, tmp_path), LABLEDGER_ALYX__READ_TIMEOUT="1")
    every_call = re.compile(r"^/(sessions|subjects|users|register-file)")
    server.faults.delay(None, every_call, 3, times=None)

    started = time.monotonic()
    ran = door("sync", "--json")
    took = time.monotonic() - started

    assert ran.code == STILL_QUEUED, ran.err
    assert {row["outcome"] for row in ran.json()} == {"queued"}
    assert took < 1 + 2.5, f"sync took {took:.1f} s for a 1 s read timeout"
    assert len(_pending(door)) == 4 * (1 + len(SAMPLE_FILES))
    server.faults.clear()
    door("sync").ok()
    assert len(server.state.snapshot()["sessions"]) == 4


def test_new_session_with_a_wrong_password_makes_the_folder_and_keeps_it_pending(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """The rig can start its session: the number comes from the disk and the ledger (checked
    again before it is registered), and the registration waits for the right password."""
    door.env.update(alyx_env(server, tmp_path), LABLEDGER_ALYX__PASSWORD=WRONG)
    root = door.cwd / "cortexlab" / "Subjects"
    root.mkdir(parents=True)  # a rig's data root exists

    ran = door("new-session", "algernon", "--root", root)

    assert ran.code == 1 and "alyx.password" in ran.err and WRONG not in ran.out + ran.err
    folder = Path(ran.out.splitlines()[0])
    assert folder.is_dir() and folder.name == "001"
    (step,) = _pending(door)
    assert step["action"] == "create or update the session"
    door.env["LABLEDGER_ALYX__PASSWORD"] = TEST_PASSWORD
    door("sync").ok()
    (alyx_session,) = server.state.snapshot()["sessions"]
    assert alyx_session["number"] == 1


def test_an_unknown_repository_waits_and_asking_again_with_the_right_one_replaces_it(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """The registration waits for a repository Alyx knows (one could be added there); the
    operator who mistyped it asks again with the right name, and that request replaces the
    first instead of waiting behind it."""
    door.env.update(alyx_env(server, tmp_path))
    (session,) = _sessions(door, "001")

    ran = door("register", session, "--repository", "flatiron_cortexlob", "--json")

    assert ran.code == 1
    files = ran.json()[-1]
    assert files["outcome"] == "blocked" and "alyx.repository (or --repository)" in files["detail"]
    assert len(_pending(door)) == len(SAMPLE_FILES)

    door("register", session, "--repository", "flatiron_cortexlab").ok()

    datasets = server.state.snapshot()["datasets"]
    assert len(datasets) == len(SAMPLE_FILES)
    sent = [request.body["name"] for request in server.requests.calls("POST", "/register-file")]
    assert sent == ["flatiron_cortexlob", "flatiron_cortexlab"]
    assert _pending(door) == []
    replaced = door("audit", "--kind", "Dataset.RegistrationReplaced", "--json").ok().json()
    assert len(replaced) == len(SAMPLE_FILES)


def test_register_against_a_hung_server_waits_one_read_timeout_in_all(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """`register` asks Alyx for its reference lists, then registers: the first call that times
    out marks the server as hung for the whole command, whichever client asks next."""
    door.env.update(alyx_env(server, tmp_path), LABLEDGER_ALYX__READ_TIMEOUT="1")
    sessions = _sessions(door, "001", "002")
    server.faults.delay(None, re.compile(r"^/"), 3, times=None)

    started = time.monotonic()
    ran = door("register", *sessions, "--json")
    took = time.monotonic() - started

    assert ran.code == 0, ran.err
    assert {row["outcome"] for row in ran.json()} == {"queued"}
    assert len(server.requests) == 1, server.requests.lines()
    assert took < 1 + 2.5, f"register took {took:.1f} s for a 1 s read timeout"
    assert len(_pending(door)) == 2 * (1 + len(SAMPLE_FILES))


def test_a_weighing_and_water_with_a_wrong_password_wait_for_it(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    door.env.update(alyx_env(server, tmp_path), LABLEDGER_ALYX__PASSWORD=WRONG)
    at = "2026-11-21T10:00:00"

    weighed = door("weigh", "algernon", "24.1", "--date-time", at)
    watered = door("water", "algernon", "0.6", "--date-time", at)

    for ran in (weighed, watered):
        assert ran.code == 1 and "refused the login" in ran.err and WRONG not in ran.err
    assert [step["action"] for step in _pending(door)] == [
        "post the weighing",
        "post the water administration",
    ]
    door.env["LABLEDGER_ALYX__PASSWORD"] = TEST_PASSWORD
    door("sync").ok()
    snapshot = server.state.snapshot()
    assert [w["weight"] for w in snapshot["weighings"] if w["subject"] == "algernon"] == [24.1]
    water = [w for w in snapshot["water_administrations"] if w["subject"] == "algernon"]
    assert [w["water_administered"] for w in water] == [0.6]
