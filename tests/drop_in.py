"""Twin servers for the drop-in cross-check of the Python API (tests/test_one_drop_in.py).

`Twin` holds two fresh loopback Alyx servers and two identical data roots: ONE-api 3.6.1's
`RegistrationClient` works on the first, in the test process; labledger's `RegistrationClient`
on the second, in one fresh interpreter per scenario started as a rig script is (tests/doors.py's
environment: scratch HOME, only LABLEDGER_* variables, the machine's clock). `step(*calls)` gives
both clients the same calls (tests/drop_in_runner.py describes them); between steps, `both(...)`
makes the same server-side or file change on both sides. `differences()` compares, call by call,
what each returned, then the servers' end states and the data trees, after `Normaliser`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn

from tests.alyx_cli import alyx_env
from tests.alyx_fixtures import one_registration_client
from tests.alyx_server import AlyxTestServer
from tests.cli_helpers import SAMPLE
from tests.doors import Door
from tests.drop_in_runner import MARK, encode, perform

RUNNER = Path(__file__).with_name("drop_in_runner.py")
LAB_ROOT = "cortexlab/Subjects"
TIMEOUT = 60.0
"""Seconds one step of labledger's calls may take."""


# -- describing calls -----------------------------------------------------------------------------


def call(method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """One call, as `perform` reads it; build argument markers with the helpers below."""
    return {"method": method, "args": list(args), "kwargs": kwargs}


def at(rel: str) -> dict[str, str]:
    """A `Path` under the side's data root."""
    return {"$path": rel}


def text(rel: str) -> dict[str, str]:
    """The same path, given as a string."""
    return {"$str": rel}


def day(value: dt.date) -> dict[str, str]:
    return {"$date": value.isoformat()}


def moment(value: dt.datetime) -> dict[str, str]:
    return {"$datetime": value.isoformat()}


def ref(index: int, *keys: str | int) -> dict[str, list[str | int]]:
    """What call `index` of the scenario returned (on that side), indexed by `keys`."""
    return {"$ref": [index, *keys]}


# -- normalising ----------------------------------------------------------------------------------

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SERVER_TIMES = frozenset({"created_datetime", "auto_datetime"})
"""The keys whose datetimes the server makes (client-sent times, e.g. `start_time`, `date_time`,
`session_start_time`, are kept)."""


class Normaliser:
    """Makes one side's values comparable with the other side's. Each side gets its own.

    * each distinct UUID becomes `<id1>`, `<id2>`, … in order of first appearance (dicts walked
      in key order), the same placeholder wherever the same id appears again;
    * the side's server address becomes `<alyx>` (ids and urls are the server's);
    * a non-null value under a `SERVER_TIMES` key becomes `<server time>`.

    Everything else (md5s, sizes, paths, names, client-sent times) is kept as it is.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.ids: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: "<server time>"
                if key in SERVER_TIMES and value[key] is not None
                else self(value[key])
                for key in sorted(value)
            }
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, str):
            return UUID_TEXT.sub(self._placeholder, value.replace(self.base_url, "<alyx>"))
        return value

    def _placeholder(self, found: re.Match[str]) -> str:
        return self.ids.setdefault(found[0], f"<id{len(self.ids) + 1}>")


def _order_free(method: str, result: Any) -> Any:
    """`create_sessions` lists the flags in the file system's order (ONE) or sorted (labledger):
    its folders and records are compared sorted by folder, before ids are numbered."""
    if method != "create_sessions" or not isinstance(result, list) or len(result) != 2:
        return result
    folders, records = result
    if not (isinstance(folders, list) and isinstance(records, list)):
        return result
    if len(folders) != len(records):
        return result
    pairs = sorted(zip(folders, records, strict=True), key=lambda pair: str(pair[0]))
    return [[f for f, _ in pairs], [r for _, r in pairs]]


def tree(root: Path) -> dict[str, str]:
    """Every file under `root`: relative path → md5."""
    return {
        p.relative_to(root).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def differences(one: Any, ours: Any, where: str, limit: int = 4) -> list[str]:
    """Where two normalised values differ, one short line each (at most `limit`)."""
    found: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict) and set(a) & set(b):
            for key in sorted(set(a) | set(b)):
                if len(found) >= limit:
                    return
                if key not in b:
                    found.append(f"{path}.{key}: labledger lacks it (ONE: {_short(a[key])})")
                elif key not in a:
                    found.append(f"{path}.{key}: only labledger has it ({_short(b[key])})")
                else:
                    walk(a[key], b[key], f"{path}.{key}")
            return
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{path}[{index}]")
            return
        found.append(f"{path}: ONE {_short(a)} != labledger {_short(b)}")

    walk(one, ours, where)
    return found


def _raised(result: Any) -> bool:
    return isinstance(result, dict) and set(result) == {"raised"}


def _short(value: Any, width: int = 160) -> str:
    shown = json.dumps(value, sort_keys=True)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


# -- the twin -------------------------------------------------------------------------------------


class _Labledger:
    """labledger's side: the runner script in a fresh interpreter, kept for the whole scenario."""

    def __init__(self, door: Door, root: Path, env: dict[str, str]) -> None:
        script = door.cwd / RUNNER.name
        shutil.copyfile(RUNNER, script)
        self.stderr = door.cwd / "runner.stderr"
        self._stderr_file = self.stderr.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, script.name, str(root)],
            cwd=door.cwd,
            env=door.environment(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, calls: list[dict[str, Any]]) -> list[Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(calls) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            self._fail("exited before the calls were sent")
        while True:
            try:
                line = self._lines.get(timeout=TIMEOUT)
            except queue.Empty:
                self._fail(f"gave no answer within {TIMEOUT} s")
            if line is None:
                self._fail(f"exited with {self.process.wait()}")
            if line.startswith(MARK):
                answer: list[Any] = json.loads(line[len(MARK) :])
                return answer

    def _fail(self, what: str) -> NoReturn:
        self._stderr_file.flush()
        raise AssertionError(f"labledger's runner {what}:\n{self.stderr.read_text()[-4000:]}")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr_file.close()


class Twin:
    """ONE's client and labledger's, each with its own server and a copy of the same data."""

    def __init__(self, tmp_path: Path) -> None:
        self.one_server = AlyxTestServer().start()
        self.our_server = AlyxTestServer().start()
        self.one_root = tmp_path / "one" / "data"
        self.our_root = tmp_path / "ours" / "data"
        self.one_root.mkdir(parents=True)
        self.our_root.mkdir(parents=True)
        try:
            self.one = one_registration_client(self.one_server, tmp_path / "one")
            door = Door(tmp_path / "ours")
            env = alyx_env(self.our_server, tmp_path / "ours") | {
                "LABLEDGER_SQLITE_PATH": str(tmp_path / "ours" / "ledger.sqlite3")
            }
            self._ours = _Labledger(door, self.our_root, env)
        except BaseException:
            self.one_server.stop()
            self.our_server.stop()
            raise
        self._one_raw: list[Any] = []
        self.one_results: list[Any] = []
        self.our_results: list[Any] = []
        self.calls: list[dict[str, Any]] = []

    def close(self) -> None:
        self._ours.close()
        self.one_server.stop()
        self.our_server.stop()

    # -- set-up, the same on both sides --

    def session(self, key: str = "algernon/2026-11-21/001") -> str:
        """A copy of the sample session at `<root>/cortexlab/Subjects/<key>`; its relative path."""
        rel = f"{LAB_ROOT}/{key}"
        for root in (self.one_root, self.our_root):
            shutil.copytree(SAMPLE, root / rel)
        return rel

    def both(self, action: Callable[[AlyxTestServer, Path], object]) -> None:
        """The same server-side or file change on both sides: `action(server, data root)`."""
        action(self.one_server, self.one_root)
        action(self.our_server, self.our_root)

    def write(self, rel: str, content: bytes) -> None:
        def write(_: AlyxTestServer, root: Path) -> None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)

        self.both(write)

    def remove(self, rel: str) -> None:
        self.both(lambda _, root: (root / rel).unlink())

    def protect(self, rel: str) -> None:
        """Tag the dataset at `<root>/cortexlab/Subjects/<rel>` protected on both servers."""
        key = rel.removeprefix(f"{LAB_ROOT}/")
        self.both(lambda server, _: server.state.protect_dataset(server.state.dataset_at(key).id))

    # -- calls --

    def step(self, *calls: dict[str, Any], refusals: bool = False) -> None:
        """Both clients make `calls`, in order. ONE's may raise only with `refusals`; a call
        that raises on both sides counts as the same result (labledger's errors are its own
        one-line errors on purpose: the type and message are not compared)."""
        self.calls.extend(calls)
        self.one_results += perform(
            self.one, list(calls), self.one_root, self._one_raw, catch=refusals
        )
        self.our_results += self._ours.run(list(calls))

    # -- comparing --

    def differences(self) -> list[str]:
        """What differs, call by call, then the servers' end states and the data trees."""
        one = Normaliser(self.one_server.base_url)(self._sides(self.one_server, self.one_root))
        ours = Normaliser(self.our_server.base_url)(self._sides(self.our_server, self.our_root))
        found: list[str] = []
        for index, spec in enumerate(self.calls):
            where = f"call {index} {spec['method']}"
            if not (_raised(one["calls"][index]) and _raised(ours["calls"][index])):
                found += differences(one["calls"][index], ours["calls"][index], where)
        for part in sorted(one["snapshot"]):
            found += differences(one["snapshot"][part], ours["snapshot"][part], f"server {part}")
        found += differences(one["tree"], ours["tree"], "data tree")
        return found

    def _sides(self, server: AlyxTestServer, root: Path) -> dict[str, Any]:
        results = self.one_results if root == self.one_root else self.our_results
        return {
            "calls": [
                _order_free(c["method"], r) for c, r in zip(self.calls, results, strict=True)
            ],
            "snapshot": encode(server.state.snapshot(), root),
            "tree": tree(root),
        }

    def assert_same(self) -> None:
        found = self.differences()
        assert not found, "labledger is not ONE's drop-in here:\n" + "\n".join(found)
