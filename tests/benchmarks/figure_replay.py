"""Figure: `labledger replay` of about a million events, and whether it grows linearly.

Why two sizes run interleaved: the target is both absolute (a million events in at most 20 s)
and about growth (ten times the events in at most eleven times the time), and the second is a
ratio of two replays best made side by side. The ratio printed is the time per event of the big
ledger over that of the small one (at most 1.1 means 10× the events took at most 11× the time).

Each replay is the installed `labledger replay` on a copy of the cached ledger (see
replay_events.py), timed as a whole process: start-up, reading the log, writing the views.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

from tests.benchmarks.figure_table import Row, Target, interleave
from tests.benchmarks.processes import clean_env, labledger
from tests.benchmarks.replay_events import Built, sqlite_ledger

MAX_SECONDS = 20.0


def _built(built: Built) -> str:
    where = f"earlier, kept in {built.settings.sqlite_path.parent}" if built.cached else "now"
    return f"{built.build_seconds:.1f} s ({where})"


def replay_seconds(ledger: Path, home: Path) -> float:
    """Wall time of `labledger replay` on the SQLite ledger at `ledger`."""
    env = clean_env(home, {"LABLEDGER_SQLITE_PATH": str(ledger)})
    return labledger(["replay"], env).seconds


def _copy(built: Built, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "ledger.sqlite3"
    shutil.copyfile(built.settings.sqlite_path, target)
    return target


def replay(cache: Path, big: int, small: int, repeat: int, files: int) -> list[Row]:
    """Replay of `big` events (≤ 20 s when `big` is the full size) and `small` events."""
    large = sqlite_ledger(cache, big, files)
    little = sqlite_ledger(cache, small, files)
    with tempfile.TemporaryDirectory(prefix="labledger-bench-replay-") as tmp:
        big_path = _copy(large, Path(tmp) / "big")
        small_path = _copy(little, Path(tmp) / "small")
        home = Path(tmp) / "home"
        measured = interleave(
            {
                "big": lambda: replay_seconds(big_path, home),
                "small": lambda: replay_seconds(small_path, home),
            },
            repeat,
        )
    per_event = [
        (b / large.events) / (s / little.events)
        for b, s in zip(measured["big"], measured["small"], strict=True)
    ]
    worst = max(measured["big"])
    median_big = statistics.median(measured["big"])
    row = Row(
        f"replay of {large.events:,} events (SQLite)",
        measured["big"],
        measured["small"],
        f"replay of {little.events:,} events",
        per_event,
        Target("<=", 1.1),
        extra_check=(f"≤ {MAX_SECONDS:g} s", median_big <= MAX_SECONDS),
    )
    row.notes.append(
        "ratio: time per event at the large size over the small one (≤ 1.1: 10× the events in "
        f"≤ 11× the time); slowest large replay {worst:.1f} s; ledgers built through the "
        f"Python API in {_built(large)} and {_built(little)}"
    )
    return [row]
