"""A server that accepts connections but never answers, or a port that refuses them: an
operator's command gives up after one read timeout (at once on a refused connection), queues its
work and says so, without the lost-reply advice meant for creates; `sync` against a working server
then performs the work exactly once. On a terminal a live line says what waits; in a log, nothing
but one final line.

Everything runs as a user does: the installed `labledger` in a subprocess, its settings in the
user's settings file (read timeout 1 s), against real sockets on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import yaml

from labledger.adapters.alyx.command_run import Waiting
from labledger.scripts.waiting_line import describe
from tests.alyx_server import TEST_PASSWORD, TEST_USER, AlyxTestServer
from tests.cli_helpers import SAMPLE_FILES, sample_session
from tests.doors import LABLEDGER, Door

GIVES_UP_WITHIN = 10.0
"""Seconds a command may take in all against a silent or refusing server (read timeout 1 s)."""

LOST_REPLY_ADVICE = re.compile(r"may have been done|look it up", re.IGNORECASE)
"""The advice for a create whose reply was lost: never for a login or a read."""

SILENT_FOR = 60.0
"""Seconds the silent server lives at most, should a test never stop it."""


@pytest.fixture
def silent_server() -> Iterator[str]:
    """The address of a loopback server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        deadline = time.monotonic() + SILENT_FOR
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, name="silent-alyx", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


@pytest.fixture
def refusing_server() -> str:
    """The address of a loopback port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _settings(door: Door, base_url: str, **alyx: object) -> None:
    """The user's settings file, as a rig has it: this lab and user, Alyx at `base_url`."""
    path = door.home / ".config" / "labledger" / "settings.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = {
        "lab": "cortexlab",
        "alyx_user": TEST_USER,
        "reference_dir": str(door.home / "reference"),
        "alyx": {
            "base_url": base_url,
            "username": TEST_USER,
            "password": TEST_PASSWORD,
            "token_file": str(door.home / "tokens.json"),
            "read_timeout": 1,
            **alyx,
        },
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")


def _ask(door: Door, command: str) -> list[str]:
    """The arguments of an operator's command that needs Alyx."""
    if command == "weigh":
        return ["weigh", "algernon", "25.3"]
    return ["register", str(sample_session(door.cwd))]


@pytest.mark.parametrize(
    ("command", "server"),
    [("weigh", "silent"), ("register", "silent"), ("weigh", "refusing")],
)
def test_an_operator_command_gives_up_soon_and_queues_the_work(
    door: Door, request: pytest.FixtureRequest, command: str, server: str
) -> None:
    _settings(door, request.getfixturevalue(f"{server}_server"))

    started = time.monotonic()
    ran = door(*_ask(door, command))
    took = time.monotonic() - started

    assert ran.code == 0, ran.err
    assert took < GIVES_UP_WITHIN, f"{command} took {took:.1f} s against a {server} server"
    assert "queued" in ran.out
    assert "attempts" not in ran.out, "one try, then the work is queued"
    assert not LOST_REPLY_ADVICE.search(ran.out + ran.err), ran.out + ran.err
    assert "Alyx not answering" not in ran.err, "no live line in a log"
    final = [line for line in ran.err.splitlines() if "gave up waiting" in line]
    assert len(final) == (1 if server == "silent" else 0), ran.err  # refused at once: no wait
    pending = door("pending", "--json").ok().json()
    assert len(pending) == (1 if command == "weigh" else 1 + len(SAMPLE_FILES))

    with AlyxTestServer() as alyx:
        door("sync", env={"LABLEDGER_ALYX__BASE_URL": alyx.base_url}).ok()  # 0: all done
        state = alyx.state.snapshot()
        if command == "weigh":
            assert len(alyx.requests.calls("POST", "/weighings")) == 1
            assert [weighing["weight"] for weighing in state["weighings"]] == [25.3]
        else:
            assert len(alyx.requests.calls("POST", "/sessions")) == 1
            assert len(state["sessions"]) == 1 and len(state["datasets"]) == len(SAMPLE_FILES)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal needs POSIX")
@pytest.mark.parametrize(
    ("command", "server", "live"),
    [
        ("weigh", "silent", "Alyx not answering POST /auth-token: 1 s (gives up at 2 s)"),
        ("sync", "refusing", "Alyx not answering POST /auth-token (connection refused), retry 2/3"),
    ],
)
def test_a_terminal_sees_one_live_line_while_alyx_keeps_it_waiting(
    door: Door, request: pytest.FixtureRequest, command: str, server: str, live: str
) -> None:
    """stderr is a terminal: the live line is drawn in place (carriage return, erase to the end
    of the line), erased when the wait ends, and the final line stays."""
    import pty

    _settings(
        door,
        request.getfixturevalue(f"{server}_server"),
        read_timeout=2,
        max_attempts=3,
        max_wait=0.5,
    )
    if command == "weigh":
        argv = _ask(door, command)
    else:
        door("weigh", "algernon", "25.3", env={"LABLEDGER_ALYX__BASE_URL": ""}).ok()
        argv = ["sync"]
    terminal, stderr = pty.openpty()
    try:
        run = subprocess.Popen(
            [str(LABLEDGER), *argv],
            cwd=door.cwd,
            env=door.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        os.close(stderr)
        seen = _read_all(terminal)
        run.communicate(timeout=GIVES_UP_WITHIN)
    finally:
        os.close(terminal)

    assert live in seen, seen
    last_draw = seen.rindex("\r\x1b[K")
    final = seen[last_draw:].removeprefix("\r\x1b[K")
    assert final.startswith("labledger: gave up waiting: "), seen
    # the live line erased, one final message left (wrapped between words at the pty's width)
    assert final.count("labledger:") == 1 and "Alyx not answering" not in final, seen
    assert final.endswith("\n") and max(len(line.rstrip("\r")) for line in final.splitlines()) <= 80


def _read_all(terminal: int) -> str:
    """Everything written to the pseudo-terminal until the command closes it (or the time a
    command may take has passed)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + GIVES_UP_WITHIN
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([terminal], [], [], left)[0]:
            break
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the other end closed: the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


REPLY = Waiting("GET /subjects", 1, 1, 30.0, since=100.0)
RETRY = Waiting("GET /subjects", 2, 3, 4.0, "503", since=100.0)
LINES = [
    # the calls waiting, seconds on the clock, the live line
    ((), 110.0, None),
    ((REPLY,), 100.5, None),  # an answer within a second needs no line
    ((REPLY,), 104.2, "Alyx not answering GET /subjects: 4 s (gives up at 30 s)"),
    (
        (Waiting("GET /subjects", 2, 5, 30.0, since=100.0),),
        104.2,
        "Alyx not answering GET /subjects: 4 s (gives up at 30 s), attempt 2/5",
    ),
    ((RETRY,), 100.0, "Alyx not answering GET /subjects (503), retry 2/3 in 4 s"),
    ((RETRY,), 101.5, "Alyx not answering GET /subjects (503), retry 2/3 in 3 s"),
    (
        (RETRY, REPLY, REPLY),
        102.0,
        "Alyx not answering GET /subjects (503), retry 2/3 in 2 s (and 2 more calls waiting)",
    ),
    (
        (RETRY, REPLY),
        101.5,
        "Alyx not answering GET /subjects (503), retry 2/3 in 3 s (and 1 more call waiting)",
    ),
    ((REPLY, RETRY), 100.2, "Alyx not answering GET /subjects (503), retry 2/3 in 4 s"),
]


@pytest.mark.parametrize(("waiting", "now", "line"), LINES)
def test_the_live_line_row_by_row(
    waiting: tuple[Waiting, ...], now: float, line: str | None
) -> None:
    assert describe(waiting, now) == line
