"""Runs one labledger command under a sampling profiler of all its threads; writes what it saw.

Used by the ledger-share figure as a script: `python ledger_sampler.py OUT.json ARG...` runs
`labledger ARG...` in this interpreter (the installed entry point, `labledger.scripts.cli.main`)
while a thread samples `sys._current_frames()` about every millisecond, then writes the counts
to OUT.json. Only the standard library is imported before labledger, so the start-up is the
command's own.

Why a sampler of our own: the register and sync commands do their Alyx requests in worker
threads, and a profiler of the main thread alone would miss them; deterministic profilers
(cProfile) slow the ledger's many small calls far more than the network waits, and skew the
share. Definitions:

- a sample is one thread's stack at one tick, for every thread but the sampler;
- a sample is idle when the thread is parked, waiting for work or for other threads: its
  innermost frame is in `threading` (Condition/Event wait, join, lock acquire), `queue` (get),
  `concurrent.futures` (waiting for futures, or a pool worker waiting for a task) or `selectors`;
  idle samples are not counted at all (a pool of 4 workers does not quadruple the denominator);
- a working sample belongs to the innermost frame of its stack that is labledger's own code or
  a ledger library (`eventsourcing`, `sqlite3`, `psycopg`); frames of other libraries and of
  the standard library (json, pydantic, httpx, the import machinery) count for the code that
  called them. The sample is in the ledger when that frame is a ledger library or labledger's
  ledger code: `adapters/database/`, the views' fold (`projections/fold.py`, `logged.py`,
  `rows.py`), the domain's ledger and its commands (`domain/ledger*.py`,
  `domain/*_commands.py`, `domain/event_catalog.py`). So importing eventsourcing is the
  ledger's, importing pydantic for the settings is not, and a JSON decode is the ledger's when
  the event store asked for it;
- the share is ledger samples over working samples (a thread waiting for the server's reply is
  working, not in the ledger: that is the command's own work).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections import Counter
from types import FrameType

IDLE_FILES = (
    "/threading.py",
    "/queue.py",
    "/concurrent/futures/_base.py",
    "/concurrent/futures/thread.py",
    "/selectors.py",
)
LIBRARIES = ("/eventsourcing/", "/sqlite3/", "/psycopg/", "/psycopg_pool/")
"""Libraries whose frames are ledger code wherever they are installed."""
PACKAGE_PARTS = (
    "adapters/database/",
    "projections/fold",
    "projections/logged",
    "projections/rows",
    "domain/ledger",
    "domain/event_catalog",
)
"""Paths in labledger that are ledger code (with `domain/*_commands.py`)."""


class Sampler(threading.Thread):
    """Samples every other thread's stack until stopped; counts as the docstring defines."""

    def __init__(self, root: str, interval: float = 0.001) -> None:
        super().__init__(daemon=True, name="ledger-sampler")
        self.interval = interval
        self.stopped = threading.Event()
        self.working = 0
        self.idle = 0
        self.ledger = 0
        self.ticks = 0
        self.where: Counter[str] = Counter()
        """Ledger samples by their innermost ledger frame (file:function)."""
        self.root = root
        """labledger's folder, ending in a slash."""

    def run(self) -> None:
        own = threading.get_ident()
        while not self.stopped.wait(self.interval):
            self.ticks += 1
            for ident, frame in sys._current_frames().items():
                if ident != own:
                    self._count(frame)

    def _count(self, frame: FrameType) -> None:
        if frame.f_code.co_filename.endswith(IDLE_FILES):
            self.idle += 1
            return
        self.working += 1
        current: FrameType | None = frame
        while current is not None:
            path = current.f_code.co_filename
            owned = any(part in path for part in LIBRARIES) or self._is_labledger(path)
            if owned:  # the innermost frame that is labledger's or a ledger library's
                if self._is_ledger(path):
                    self.ledger += 1
                    self.where[f"{self._short(path)}:{current.f_code.co_name}"] += 1
                return
            current = current.f_back

    def _is_labledger(self, path: str) -> bool:
        """labledger's own code (not a library in a virtual environment inside its folder)."""
        return path.startswith(self.root) and "site-packages/" not in path[len(self.root) :]

    def _is_ledger(self, path: str) -> bool:
        if any(part in path for part in LIBRARIES):
            return True
        inside = path[len(self.root) :]
        return inside.startswith(PACKAGE_PARTS) or (
            inside.startswith("domain/") and inside.endswith("_commands.py")
        )

    def _short(self, path: str) -> str:
        if "site-packages/" in path:
            return path.rpartition("site-packages/")[2]
        return path.removeprefix(self.root)


def main() -> int:
    out = sys.argv[1]
    sys.argv = ["labledger", *sys.argv[2:]]
    sys.setswitchinterval(0.001)  # the sampler gets the GIL at its ticks, not every 5 ms
    spec = importlib.util.find_spec("labledger")  # where it is, without importing it yet
    assert spec is not None and spec.origin is not None
    sampler = Sampler(spec.origin.rpartition("/")[0] + "/")
    started = time.perf_counter()
    sampler.start()
    code = 0
    try:
        from labledger.scripts.cli import main as labledger_main

        code = labledger_main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        sampler.stopped.set()
        sampler.join()
        with open(out, "w", encoding="utf-8") as file:
            json.dump(
                {
                    "seconds": time.perf_counter() - started,
                    "ticks": sampler.ticks,
                    "working": sampler.working,
                    "idle": sampler.idle,
                    "ledger": sampler.ledger,
                    "where": dict(sampler.where.most_common(15)),
                },
                file,
            )
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
