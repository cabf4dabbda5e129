"""Defects found by trying labledger from outside, each entered through the user's door: the
installed `labledger` in a subprocess with a scratch home, against the loopback Alyx.

Each test names what a user saw, then checks what must hold instead: one line that names the
thing and the fix, and nothing changed (or the work done, where labledger can do it).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE
from tests.doors import Door


@pytest.fixture
def server() -> Iterator[AlyxTestServer]:
    with AlyxTestServer() as running:
        yield running


def session_copy(door: Door, name: str = "algernon/2026-11-21/001") -> Path:
    folder = door.cwd / "data" / "cortexlab" / "Subjects" / name
    shutil.copytree(SAMPLE, folder)
    return folder


def test_a_token_cache_that_is_a_symbolic_link_is_refused_and_left_as_it_is(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Seen: labledger replaced the link with a file and narrowed the mode of the file it
    pointed to. A link planted at the token path is how a token leaks, so it is refused."""
    door.env.update(alyx_env(server, tmp_path))
    elsewhere = tmp_path / "someone-elses.json"
    elsewhere.write_text("{}\n")
    elsewhere.chmod(0o644)
    link = Path(door.env["LABLEDGER_ALYX__TOKEN_FILE"])
    link.symlink_to(elsewhere)
    folder = session_copy(door)

    ran = door("register", folder)

    assert ran.code == 1, ran
    errors = [line for line in ran.err.splitlines() if line.startswith("labledger: error:")]
    assert len(errors) == 1, ran.err
    assert "is a symbolic link" in errors[0] and "alyx.token_file" in errors[0], errors
    assert "nothing lost" in errors[0], errors  # as a refused login: the work stays pending
    assert link.is_symlink() and os.readlink(link) == str(elsewhere)
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644
    assert elsewhere.read_text() == "{}\n"
    assert "Traceback" not in ran.err + ran.out
    assert server.state.sessions == {}
    # the work is kept: once the operator removes the link, sync registers the session
    link.unlink()
    door("sync").ok()
    assert len(server.state.sessions) == 1
    assert stat.S_IMODE(link.stat().st_mode) == 0o600 and not link.is_symlink()


def test_a_name_that_is_not_utf8_is_left_out_with_its_reason_and_the_rest_is_registered(
    door: Door, server: AlyxTestServer, tmp_path: Path
) -> None:
    """Seen: a file or folder name with byte 0xff inside a session made `register --json` exit
    70 (`UnicodeEncodeError: surrogates not allowed`)."""
    door.env.update(alyx_env(server, tmp_path))
    folder = session_copy(door)
    raw = os.fsencode(folder)
    with open(os.path.join(raw, b"alf", b"spikes.\xff.npy"), "wb") as file:
        file.write(b"bytes")
    os.mkdir(os.path.join(raw, b"raw\xfe"))
    with open(os.path.join(raw, b"raw\xfe", b"_iblrig_taskData.raw.jsonable"), "wb") as file:
        file.write(b"{}")

    for args in (["scan", "--json"], ["register", "--json"], ["status", "--json"]):
        ran = door(*args, folder).ok() if args[0] != "status" else door(*args).ok()
        assert "Traceback" not in ran.err
        ran.json()
    ran = door("register", folder).ok()
    assert "spikes.\\xff.npy" in ran.out and "raw\\xfe" in ran.out, ran.out
    assert "not valid UTF-8" in ran.out
    registered = {f"{d.collection}/{d.name}" for d in server.state.datasets.values()}
    assert len(registered) == 6 and not any("\\x" in path for path in registered), registered


def test_a_session_path_that_is_not_utf8_gets_one_line(door: Door, tmp_path: Path) -> None:
    """A session folder whose own name is not UTF-8 cannot be an ALF session: one line, exit 2
    or 1, nothing recorded."""
    folder = door.cwd / "data" / "cortexlab" / "Subjects"
    folder.mkdir(parents=True)
    session = os.path.join(os.fsencode(folder), b"alg\xffernon", b"2026-11-21", b"001")
    os.makedirs(session)
    for command in ("scan", "register"):
        ran = door(command, os.fsdecode(session))
        assert ran.code in (1, 2), ran
        assert "Traceback" not in ran.err
        assert len(ran.err.strip().splitlines()) == 1, ran.err
    assert not door.ledger_file.exists() or door("status", "--json").ok().json() == []


def _zero_page(ledger: Path, fraction: float) -> None:
    """Write zeros over one whole page of the file, `fraction` of the way into it (the ledger's
    log checkpointed first, as after any clean exit)."""
    with closing(sqlite3.connect(ledger)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        (pages,) = db.execute("PRAGMA page_count").fetchone()
    page = max(2, int(pages * fraction))
    with open(ledger, "r+b") as file:
        file.seek(page * page_size)
        file.write(b"\0" * page_size)


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_a_ledger_with_a_zeroed_page_is_reported_damaged_by_status_and_sync(
    door: Door, server: AlyxTestServer, tmp_path: Path, fraction: float
) -> None:
    """Seen: with a page zeroed in the middle of the SQLite ledger, `status` exited 0 with no
    warning (and `sync` too, when nothing was pending), while `audit` called it malformed."""
    door.env.update(alyx_env(server, tmp_path))
    folders = [session_copy(door, f"algernon/2026-11-21/{n:03d}") for n in range(1, 13)]
    door("register", *folders).ok()
    _zero_page(door.ledger_file, fraction)
    damaged = door.ledger_file.read_bytes()

    for command in (["status"], ["status", "--json"], ["sync"], ["audit"], ["pending"]):
        ran = door(*command)
        assert ran.code == 1, (command, ran)
        assert ran.err.count("\n") == 1 and "is damaged" in ran.err, (command, ran.err)
        assert "Move it aside" in ran.err and "Traceback" not in ran.err
    assert door.ledger_file.read_bytes() == damaged  # looked at, never written


@pytest.mark.parametrize(
    ("path", "reply"),
    [
        ("/dataset-types", 500),
        ("/labs", 500),
        ("/data-formats", "html"),
        ("/labs", "not a list"),
    ],
)
def test_a_reference_list_the_server_fails_to_serve_falls_back_to_the_packaged_lists(
    door: Door, server: AlyxTestServer, tmp_path: Path, path: str, reply: int | str
) -> None:
    """Seen: a 500 on `GET /dataset-types` or `GET /labs` made `register` exit 1 with nothing
    recorded, although the packaged lists could classify the files."""
    door.env.update(alyx_env(server, tmp_path))
    if reply == "html":
        server.faults.status("GET", path, 502, body="<html>Bad Gateway</html>", times=None)
    elif reply == "not a list":
        server.faults.status("GET", path, 200, body={"unexpected": True}, times=None)
    else:
        server.faults.status("GET", path, int(reply), times=None)
    folder = session_copy(door)

    ran = door("register", folder).ok()

    warnings = [line for line in ran.err.splitlines() if "dataset types and labs" in line]
    assert len(warnings) == 1, ran.err
    # the lists fetched before the failing GET are the cache now; with none, the packaged ones
    kept = "cached" if path == "/labs" else "packaged"
    assert f"using the {kept} dataset types and labs" in warnings[0], ran.err
    assert len(server.state.sessions) == 1 and len(server.state.datasets) == 6


def _parents(server: AlyxTestServer) -> dict[str, str | None]:
    """Each session's key -> its parent's key, as Alyx holds them."""
    sessions = server.state.sessions
    return {
        server.state.session_key(s): (
            server.state.session_key(sessions[s.parent_session]) if s.parent_session else None
        )
        for s in sessions.values()
    }


def _two_sessions_of_a_day(
    door: Door, server: AlyxTestServer, tmp_path: Path, fault: str | None, apart: bool = False
) -> dict[str, str | None]:
    """Register 001 and 002 of one subject and day in one command, or in two (`apart`), the
    first request named by `fault` failing once; then sync. How Alyx links them."""
    door.env.update(alyx_env(server, tmp_path))
    folders = [session_copy(door, f"algernon/2026-11-21/{n:03d}") for n in (1, 2)]
    if fault is not None:
        server.faults.status("POST", fault, 503, times=1)
    if apart:
        door("register", folders[0]).ok()
        ran = door("register", folders[1]).ok()
    else:
        ran = door("register", *folders).ok()  # queued work is recorded: sync performs it
    if fault is not None:  # 001 not created, or on Alyx with files to go: 002 is not created
        assert "waits for" in ran.out and "cortexlab/algernon/2026-11-21/001" in ran.out, ran.out
    door("sync").ok()
    assert len(server.state.datasets) == 12
    return _parents(server)


@pytest.mark.parametrize("apart", [False, True], ids=["one-command", "two-commands"])
@pytest.mark.parametrize("fault", ["/sessions", "/register-file"])
def test_a_days_sessions_are_linked_as_without_faults_when_the_first_one_fails_once(
    tmp_path: Path, fault: str, apart: bool
) -> None:
    """Seen under faults: two sessions of one subject and day ended with the base/parent relation
    reversed, because the second was created while the first still had files to register (in
    the same command, or by a later `register` of the second alone)."""
    with AlyxTestServer() as quiet:
        expected = _two_sessions_of_a_day(
            Door(tmp_path / "quiet"), quiet, tmp_path / "q", None, apart
        )
    with AlyxTestServer() as faulty:
        got = _two_sessions_of_a_day(
            Door(tmp_path / "faulty"), faulty, tmp_path / "f", fault, apart
        )
    assert got == expected
