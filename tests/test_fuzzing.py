"""Bad input, generated: never a traceback or an internal error (exit 70), and nothing changed by
a refused input.

Hypothesis generates what an operator, a rig's file system or a broken server can hand labledger:

- file and folder names inside a session: any bytes the OS allows (non-UTF-8 included);
- session paths: subject, date and number folders of any bytes;
- settings files: wrong types, unknown keys, anchors and aliases, YAML tags (a Python object tag
  among them), text that is no YAML at all;
- command lines: any command with options and values drawn from the real ones and from noise;
- server replies: HTML, truncated JSON, JSON of the wrong type, bodies of megabytes, where Alyx
  answers a list, a subject or a registration.

Each example runs the command line entry point in this process (a fresh scratch home, no
`LABLEDGER_*` variable, its own ledger), as the installed command would run it: a few hundred
examples in the test run; `LABLEDGER_TEST_FUZZ_EXAMPLES=2000` makes it 10,000 (2,000 per test).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labledger.scripts.cli import main
from tests.alyx_cli import alyx_env
from tests.alyx_server import AlyxTestServer
from tests.alyx_server.faults import FaultRule
from tests.cli_helpers import SAMPLE, events_in

EXAMPLES = int(os.environ.get("LABLEDGER_TEST_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LAB = {"LABLEDGER_LAB": "cortexlab"}
"""The one setting a rig's scans need: the lab of the session folders."""
INTERNAL = 70
"""The exit status of an internal error: a bug, whatever the input."""


# -- running labledger in this process -----------------------------------------------------------


class Ran:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def sound(self) -> Ran:
        """This run ended as any run must: no traceback, no internal error, every line text."""
        said = f"exit {self.code}\n--- out\n{self.out}\n--- err\n{self.err}"
        assert self.code != INTERNAL, said
        assert "Traceback" not in self.out + self.err, said
        assert "internal error" not in self.err, said
        (self.out + self.err).encode("utf-8")  # printable, storable, sendable
        if self.code != 0:
            errors = [line for line in self.err.splitlines() if "error:" in line]
            assert errors, f"refused without saying why: {said}"
        return self


@contextlib.contextmanager
def scratch_home(extra: dict[str, str] | None = None) -> Iterator[Path]:
    """A fresh home for one example: HOME and the XDG folders under it, no LABLEDGER_* variable
    but `extra` (what a shell gives the command); the caller's environment comes back after."""
    saved = dict(os.environ)
    root = Path(tempfile.mkdtemp(prefix="labledger-fuzz-"))
    try:
        for name in [n for n in os.environ if n.startswith(("LABLEDGER_", "XDG_"))]:
            del os.environ[name]
        os.environ["HOME"] = str(root / "home")
        (root / "home").mkdir()
        os.environ.update(extra or {})
        yield root
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


def run(*argv: str | Path) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([os.fsdecode(arg) if isinstance(arg, Path) else arg for arg in argv])
        except SystemExit as exit_:  # argparse's own exits
            code = exit_.code if isinstance(exit_.code, int) else 1
    return Ran(code, out.getvalue(), err.getvalue())


def tree(root: Path) -> dict[bytes, str]:
    """Every entry under `root` by its path's bytes: md5 of files, 'folder' for folders."""
    found: dict[bytes, str] = {}
    for folder, folders, files in os.walk(os.fsencode(root)):
        for name in folders:
            found[os.path.join(folder, name)] = "folder"
        for name in files:
            with open(os.path.join(folder, name), "rb") as file:
                found[os.path.join(folder, name)] = hashlib.md5(file.read()).hexdigest()
    return found


# -- file and folder names -----------------------------------------------------------------------

NAME_BYTES = st.binary(min_size=1, max_size=24).filter(
    lambda name: b"/" not in name and b"\0" not in name and name not in (b".", b"..")
)
"""One path component: any bytes a POSIX file system allows."""


@FUZZ
@given(names=st.lists(st.lists(NAME_BYTES, min_size=1, max_size=3), min_size=1, max_size=6))
def test_any_names_inside_a_session_are_scanned_and_registered_or_left_out(
    names: list[list[bytes]],
) -> None:
    with scratch_home(LAB) as root:
        session = root / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
        shutil.copytree(SAMPLE, session)
        for parts in names:
            path = os.path.join(os.fsencode(session), *parts)
            with contextlib.suppress(OSError):  # a name a folder took, too long, ...
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as file:
                    file.write(b"fuzz")
        before = tree(session)
        ledger = root / "ledger.sqlite3"
        for command in ("scan", "register"):
            ran = run(command, "--json", session, "--ledger", ledger).sound()
            assert ran.code == 0, ran.err  # offline: queued, and the odd names left out
            json.loads(ran.out)
        run("status", "--json", "--ledger", ledger).sound()
        assert tree(session) == before, "a scan or an offline register changed the files"


@FUZZ
@given(parts=st.lists(NAME_BYTES, min_size=3, max_size=3))
def test_any_session_path_is_taken_or_refused_in_one_line(parts: list[bytes]) -> None:
    with scratch_home(LAB) as root:
        session = os.path.join(os.fsencode(root), b"cortexlab", b"Subjects", *parts)
        try:
            os.makedirs(session)
        except OSError:
            return  # a name this file system does not allow
        with open(os.path.join(session, b"spikes.times.npy"), "wb") as file:
            file.write(b"fuzz")
        ledger = root / "ledger.sqlite3"
        for command in ("scan", "register"):
            ran = run(command, os.fsdecode(session), "--ledger", ledger).sound()
            if ran.code != 0:
                assert events_in(ledger) == 0, "a refused session left events in the ledger"


# -- settings files ------------------------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "lab",
        "store",
        "sqlite_path",
        "alyx",
        "watchdog",
        "postgres",
        "hash_workers",
        "known_labs",
        "alyx_user",
        "base_url",
        "username",
        "password",
        "max_attempts",
        "read_timeout",
        "config",
        "flag_dir",
        "schedule_time",
        "no_such_key",
        "",
    ]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
ODD_YAML = st.sampled_from(
    [
        "lab: &a cortexlab\nknown_labs: [*a, *a]\n",
        "a: &x [1, 2]\nb: &y [*x, *x, *x]\nc: [*y, *y, *y]\nlab: *x\n",
        "lab: !!python/object/apply:os.system ['echo owned']\n",
        "lab: !!binary aGVsbG8=\n",
        "!!python/name:os.system\n",
        "alyx: !custom {base_url: x}\n",
        "lab: [unclosed\n",
        "\t- tab indented\n",
        "lab: cortexlab\nlab: other\n",
        "? [complex, key]\n: value\n",
        "%YAML 9.9\n---\nlab: x\n",
        "\xff\xfe not text",
        "",
        "---\n---\n",
        "alyx:\n  base_url: ftp://example.org\n",
        "hash_workers: -3\nstore: mongo\n",
    ]
)


def _yaml_of(value: Any) -> str:
    import yaml

    return yaml.safe_dump(value, allow_unicode=True)


@FUZZ
@given(text=st.one_of(ODD_YAML, st.dictionaries(KEYS, VALUES, max_size=5).map(_yaml_of)))
def test_any_settings_file_is_used_or_refused_in_one_line(text: str) -> None:
    with scratch_home() as root:
        config = root / "settings.yaml"
        config.write_bytes(text.encode("utf-8", "surrogateescape"))
        ledger = root / "ledger.sqlite3"
        for argv in (("config", "show"), ("status",), ("scan", str(SAMPLE))):
            ran = run(*argv, "--config", config, "--ledger", ledger).sound()
            if ran.code != 0:
                errors = [line for line in ran.err.splitlines() if "error:" in line]
                assert len(errors) == 1, ran.err
        assert not (root / "owned").exists()


# -- command lines -------------------------------------------------------------------------------

COMMANDS = [
    "scan",
    "history",
    "new-session",
    "register",
    "check-protected",
    "weigh",
    "water",
    "transfer",
    "watchdog",
    "sync",
    "retry",
    "status",
    "audit",
    "pending",
    "replay",
    "migrate",
    "config",
    "bogus",
]
TOKENS = st.one_of(
    st.sampled_from(
        [
            "--json",
            "--html",
            "--csv",
            "--wide",
            "--quiet",
            "--dry-run",
            "--force",
            "--again",
            "--lab",
            "--date-time",
            "--session",
            "--since",
            "--until",
            "--kind",
            "--to",
            "--start-time",
            "--acquired",
            "--users",
            "--water-type",
            "--adlib",
            "--all",
            "--yes",
            "--out",
            "-",
            "--",
            "show",
            "init",
            "validate",
            "status",
            "restart",
            "algernon",
            "25.1",
            "-1",
            "nan",
            "inf",
            "1e309",
            "2026-02-30",
            "2026-11-21T10:00:00",
            "2026-11-21T10:00:00+02:00",
            "cortexlab/Subjects/algernon/2026-11-21/001",
            str(SAMPLE),
            "postgres",
            "sqlite",
        ]
    ),
    st.text(max_size=20),
)


@FUZZ
@given(command=st.sampled_from(COMMANDS), tokens=st.lists(TOKENS, max_size=6))
def test_any_command_line_is_run_or_refused_in_one_line(command: str, tokens: list[str]) -> None:
    if "\0" in "".join(tokens):
        tokens = [token.replace("\0", "") for token in tokens]  # no OS passes a NUL in argv
    with scratch_home() as root:
        ledger = root / "ledger.sqlite3"
        run(command, *tokens, "--ledger", ledger).sound()


# -- server replies ------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/subjects/"),
    ("GET", "/sessions"),
    ("POST", "/sessions"),
    ("POST", "/register-file"),
    ("GET", "/dataset-types"),
    ("POST", "/auth-token"),
]
REPLY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["id", "url", "results", "count", "token", "name", "hash", "x"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)
REPLIES = st.one_of(
    REPLY_JSON.map(json.dumps),
    REPLY_JSON.map(lambda value: json.dumps(value)[: max(1, len(json.dumps(value)) // 2)]),
    st.just("<html><body><h1>Server Error</h1></body></html>"),
    st.integers(1, 4).map(lambda mib: '{"results": [' + '"x", ' * (mib << 17) + '"x"]}'),
)


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[AlyxTestServer]:
    with AlyxTestServer() as server:
        yield server


@FUZZ
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    status=st.sampled_from([200, 201, 400, 500]),
    body=REPLIES,
)
def test_any_reply_of_the_server_keeps_the_work_and_the_files(
    fuzzed_server: AlyxTestServer, endpoint: tuple[str, str], status: int, body: str
) -> None:
    server = fuzzed_server
    with scratch_home() as root:
        env = alyx_env(server, root) | {"LABLEDGER_ALYX__READ_TIMEOUT": "5"}
        os.environ.update(env)
        session = root / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
        shutil.copytree(SAMPLE, session)
        before = tree(session)
        method, path = endpoint
        rule = server.faults.add(
            FaultRule(method, path, "status", times=None, status=status, body=body)
        )
        try:
            ran = run("register", "--json", session, "--ledger", root / "ledger.sqlite3")
        finally:
            server.faults.remove(rule)
        ran.sound()
        assert tree(session) == before
        # whatever the reply, the work is on Alyx or still pending in the ledger
        status_rows = run("status", "--json", "--ledger", root / "ledger.sqlite3").sound()
        rows = json.loads(status_rows.out) if status_rows.code == 0 else []
        for row in rows:
            assert row["registered"] + row["pending"] >= 6 or row["last_error"], row
