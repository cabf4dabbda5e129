"""A fresh loopback Alyx test server in its own process, with its request log read as it runs.

Why a process of its own, started as the README starts it (`python -m tests.alyx_server --port
0`): its request handling then shares no interpreter (nor GIL) with the benchmark, as a real
server would not, and its database starts empty at each start, so every run registers onto a
fresh Alyx. The server prints one line per request (`POST /register-file`); the lines are read in
a thread, so a figure can count requests and act when some have been answered (the resume
figure kills a registration at 90 % of its file requests).
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tests.benchmarks.processes import PYTHON, ROOT, clean_env

USER = "test_user"
PASSWORD = "TapetesBloc18"
LAB = "cortexlab"
SUBJECTS = ("algernon", "ZM_1085")
"""The subjects the test server holds at start (tests/alyx_server/seed.py)."""
_READY = re.compile(r"^ready: (http://127\.0\.0\.1:\d+)")
_REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+)")


class LoopbackAlyx:
    """`with LoopbackAlyx(home) as alyx:` a fresh server; `alyx.url`, `alyx.requests`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.url = ""
        self.requests: list[str] = []
        self._changed = threading.Condition()
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> LoopbackAlyx:
        self._process = subprocess.Popen(
            [PYTHON, "-m", "tests.alyx_server", "--port", "0"],
            cwd=ROOT,
            env=clean_env(self.home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._process.stdout is not None
        started = time.monotonic()
        preamble = []
        for line in self._process.stdout:
            preamble.append(line)
            found = _READY.match(line)
            if found:
                self.url = found.group(1)
                break
            if time.monotonic() - started > 60:
                break
        if not self.url:
            self._process.kill()
            raise RuntimeError("the Alyx test server did not start:\n" + "".join(preamble))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            found = _REQUEST.match(line)
            if found:
                with self._changed:
                    self.requests.append(f"{found.group(1)} {found.group(2)}")
                    self._changed.notify_all()

    def count(self, prefix: str = "") -> int:
        """Requests logged so far whose line starts with `prefix` (e.g. `POST /register-file`)."""
        with self._changed:
            return sum(1 for line in self.requests if line.startswith(prefix))

    def wait_until(self, predicate: Callable[[LoopbackAlyx], bool], timeout: float) -> bool:
        """Block until `predicate(self)` holds after a logged request, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))
        return True

    def settle(self) -> None:
        """Wait until the log stops growing (its last lines are read from the pipe)."""
        last = -1
        while last != len(self.requests):
            last = len(self.requests)
            time.sleep(0.03)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        process.kill()  # its data live in memory: nothing to save, no need to wait for it
        process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)

    def env(self, ledger: Path) -> dict[str, str]:
        """The README's settings that point labledger at this server, with its own ledger."""
        return {
            "LABLEDGER_LAB": LAB,
            "LABLEDGER_ALYX_USER": USER,
            "LABLEDGER_ALYX__BASE_URL": self.url,
            "LABLEDGER_ALYX__USERNAME": USER,
            "LABLEDGER_ALYX__PASSWORD": PASSWORD,
            "LABLEDGER_SQLITE_PATH": str(ledger),
        }
