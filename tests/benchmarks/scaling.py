"""The scaling table (`figures.py --scaling`): how each cost grows with the size of the work.

Why a table of its own: a figure at one size says nothing of the next lab's size. Each measure
runs at three sizes, interleaved (every size once per repetition), and is called "linear or
better" when its cost per unit at the largest size is at most 1.1× that at the middle size
(10× smaller; the smallest size is dominated by start-up). The measures:

- replay: `labledger replay` at 10 k, 100 k and 1 M events, on SQLite (a new file per size) and
  on PostgreSQL (a new schema per size, dropped after), all built now, with the replay
  process's peak resident memory (its own max RSS, measured alone);
- append: events written per second while building those ledgers through the Python API (one
  transaction for a session's scan and requests, one for its outcomes: see replay_events.py);
- scan: `labledger scan` of a fresh ledger, one session of 1 k, 10 k and 100 k small files;
- registration: register + sync of 1, 20 and 100 sessions of 50 files, fresh server and ledger.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from labledger.adapters.settings import Settings
from tests.benchmarks.alf_sessions import KIB, Planned, build_planned, file_names, session_folder
from tests.benchmarks.figure_registration import Runner, make_jobs
from tests.benchmarks.processes import MEASURED, clean_env, labledger, peak_rss_kib
from tests.benchmarks.replay_events import Built, fresh_ledger

PG = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "root"}
"""The PostgreSQL the tests use (trust authentication)."""
LINEAR = 1.1


@dataclass(frozen=True)
class ScalingSizes:
    """The three sizes of each measure."""

    events: tuple[int, int, int] = (10_033, 100_330, 1_003_300)
    files_per_session: int = 1000
    scan_files: tuple[int, int, int] = (1_000, 10_000, 100_000)
    sessions: tuple[int, int, int] = (1, 20, 100)
    files_per_registered_session: int = 50


QUICK_SCALING = ScalingSizes((300, 1_000, 3_000), 100, (30, 100, 300), (1, 2, 4), 5)


@dataclass
class Series:
    """One measure on one store at its sizes: per size, the repetitions' values."""

    measure: str
    store: str
    unit: str
    values: dict[int, list[float]] = field(default_factory=dict)
    memory_kib: dict[int, list[int]] = field(default_factory=dict)
    higher_is_better: bool = False
    """A rate (events/s): linear when the rate at the largest size holds, within 1.1×."""

    def add(self, size: int, value: float, rss: int | None = None) -> None:
        self.values.setdefault(size, []).append(value)
        if rss is not None:
            self.memory_kib.setdefault(size, []).append(rss)

    def linear(self) -> str:
        sizes = sorted(self.values)
        middle, largest = sizes[-2], sizes[-1]
        at_middle = statistics.median(self.values[middle])
        at_largest = statistics.median(self.values[largest])
        if self.higher_is_better:
            factor = at_middle / at_largest if at_largest else float("inf")
        else:
            factor = (at_largest / largest) / (at_middle / middle) if at_middle else float("inf")
        verdict = "linear or better" if factor <= LINEAR else "NOT linear"
        return f"{verdict} ({factor:.2f}× per {self.unit})"


def _pg_settings(schema: str) -> Settings:
    return Settings.model_validate({"store": "postgres", "postgres": {**PG, "schema": schema}})


def _pg_env(schema: str) -> dict[str, str]:
    return {
        "LABLEDGER_STORE": "postgres",
        "LABLEDGER_POSTGRES__HOST": str(PG["host"]),
        "LABLEDGER_POSTGRES__PORT": str(PG["port"]),
        "LABLEDGER_POSTGRES__DBNAME": str(PG["dbname"]),
        "LABLEDGER_POSTGRES__USER": str(PG["user"]),
        "LABLEDGER_POSTGRES__SCHEMA": schema,
    }


def _drop(schemas: Sequence[str]) -> None:
    with psycopg.connect(**PG, autocommit=True) as connection:  # type: ignore[arg-type]
        for schema in schemas:
            statement = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
            connection.execute(statement.format(sql.Identifier(schema)))


def _replays(
    ledgers: dict[int, tuple[Built, dict[str, str]]], home: Path, repeat: int, series: Series
) -> None:
    for _ in range(repeat):
        for built, extra in ledgers.values():
            seconds, rss = peak_rss_kib([MEASURED.labledger, "replay"], clean_env(home, extra))
            series.add(built.events, seconds, rss)


def _built_series(
    store: str, ledgers: dict[int, tuple[Built, dict[str, str]]], home: Path, repeat: int
) -> list[Series]:
    appends = Series("append (Python API)", store, "event/s", higher_is_better=True)
    for built, _ in ledgers.values():
        appends.add(built.events, built.events / built.build_seconds)
    replays = Series("replay", store, "event")
    _replays(ledgers, home, repeat, replays)
    return [replays, appends]


def replay_series(sizes: ScalingSizes, repeat: int, work: Path) -> list[Series]:
    """Replay time and memory, and append rates, at each size on both stores: every ledger is
    built now through the Python API (timed: the append rate), SQLite in the scratch folder,
    PostgreSQL in a schema of its own, dropped at the end."""
    files = sizes.files_per_session
    sqlite = {}
    for size in sizes.events:
        path = work / f"sqlite-{size}.sqlite3"
        built = fresh_ledger(Settings(store="sqlite", sqlite_path=path), size, files)
        sqlite[size] = (built, {"LABLEDGER_SQLITE_PATH": str(path)})
    found = _built_series("SQLite", sqlite, work / "home", repeat)
    schemas = {size: f"labledger_bench_{uuid.uuid4().hex[:10]}" for size in sizes.events}
    try:
        postgres = {
            size: (fresh_ledger(_pg_settings(schema), size, files), _pg_env(schema))
            for size, schema in schemas.items()
        }
        found += _built_series("PostgreSQL", postgres, work / "home", repeat)
    finally:
        _drop(list(schemas.values()))
    return found


def scan_series(cache: Path, sizes: ScalingSizes, repeat: int, work: Path) -> Series:
    """`labledger scan` of one session of n small files (1 to 8 KiB), fresh ledger each run."""
    folders = {}
    for count in sizes.scan_files:
        root = cache / f"scan-small-{count}"
        folder = session_folder(root, "ZM_1085", dt.date(2026, 4, 1), 1)
        names = file_names(count)
        plan = [Planned(rel, KIB + (i * 7919) % (7 * KIB)) for i, rel in enumerate(names)]
        build_planned(folder, plan, count)
        folders[count] = folder
    series = Series("scan (fresh ledger)", "SQLite", "file")
    runs = 0
    for _ in range(repeat):
        for count, folder in folders.items():
            runs += 1
            ledger = work / f"scan{runs}.sqlite3"
            env = clean_env(work / "home", {"LABLEDGER_SQLITE_PATH": str(ledger)})
            env["LABLEDGER_LAB"] = "cortexlab"
            series.add(count, labledger(["scan", folder], env).seconds)
            ledger.unlink(missing_ok=True)
    return series


def registration_series(sizes: ScalingSizes, repeat: int, work: Path) -> Series:
    """register + sync of n sessions, on a fresh server and ledger each run."""
    files = sizes.files_per_registered_session
    jobs = {
        count: make_jobs(work / f"data{count}", count, files, copies=1)[0]
        for count in sizes.sessions
    }
    runner = Runner(work / "runs")
    series = Series(f"register + sync ({files} files a session)", "SQLite", "session")
    for _ in range(repeat):
        for count, job in jobs.items():
            series.add(count, runner.labledger_full(job))
    return series


def _plural(unit: str, size: int) -> str:
    """`1 session`, `20 sessions` (a rate's unit names what it counts: event/s → events)."""
    noun = unit.split("/")[0]
    return noun if size == 1 else f"{noun}s"


def _cell(values: Sequence[float], unit: str) -> str:
    median = statistics.median(values)
    if unit == "event/s":
        return f"{median:,.0f} events/s"
    return f"{median:.2f} s ({min(values):.2f}–{max(values):.2f})"


def table(all_series: Sequence[Series]) -> str:
    lines = [
        "| measure | store | size | median (min–max) | per unit | peak memory | linear? |",
        "|---|---|---|---|---|---|---|",
    ]
    for series in all_series:
        sizes = sorted(series.values)
        for size in sizes:
            values = series.values[size]
            median = statistics.median(values)
            per = "—" if series.higher_is_better else f"{median / size * 1e3:.3f} ms/{series.unit}"
            memory = series.memory_kib.get(size)
            rss = f"{statistics.median(memory) / 1024:.0f} MiB" if memory else "—"
            verdict = series.linear() if size == sizes[-1] else ""
            lines.append(
                f"| {series.measure} | {series.store} | {size:,} {_plural(series.unit, size)} "
                f"| {_cell(values, series.unit)} | {per} | {rss} | {verdict} |"
            )
    return "\n".join(lines)


def scaling(cache: Path, sizes: ScalingSizes, repeat: int, log: Callable[[str], None]) -> str:
    """Every measure at its three sizes; the table as markdown."""
    with tempfile.TemporaryDirectory(prefix="labledger-bench-scaling-") as tmp:
        work = Path(tmp)
        log("scaling: replay and append")
        found = replay_series(sizes, repeat, work)
        log("scaling: scan")
        found.append(scan_series(cache, sizes, repeat, work))
        log("scaling: registration")
        found.append(registration_series(sizes, repeat, work))
    return table(found)
