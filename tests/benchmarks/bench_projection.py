"""Benchmark of the read models: replay at several sizes, catch-up, and the pending lookup.

A script, not a test: `python tests/benchmarks/bench_projection.py [--events N ...]
[--store sqlite|postgres ...] [--repeat R] [--files F] [--cache DIR]`. For each store and size it
records a ledger of about N events (sessions of F files: scanned, asked, every file registered,
as the replay figure records them (`replay_events.record_session`);
SQLite ledgers are kept in --cache and copied per run, PostgreSQL ones are built in a fresh schema
per size, dropped at the end), then prints:
- append: seconds to record the ledger (events per second);
- replay: seconds and peak memory (RSS) of rebuilding the views from the first event, each run in
  a process of its own, sizes interleaved, median and spread of R runs; and the time per event of
  each size over that of the smallest (linear: 10x the events in about 10x the time);
- catch-up: seconds to fold one more session into views already current, and the cost of a
  catch-up asked again when nothing new was recorded (as sync and its follow-ups ask);
- pending: the pending work from the views and by folding the whole log, which must agree.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the checkout's root makes `tests.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg
from psycopg import sql

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.database.views import open_views
from labledger.adapters.settings import Settings
from tests.benchmarks.replay_events import record_session

PG = {"host": "127.0.0.1", "port": 5432, "dbname": "test", "user": "root"}


def fill(settings: Settings, events: int, files: int) -> tuple[int, float]:
    """Record sessions until the ledger holds about `events` events; (events, seconds)."""
    ledger = open_ledger(settings)
    started = time.perf_counter()
    index = 0
    while (recorded := ledger.recorder.max_notification_id() or 0) < events:
        record_session(ledger, index, max(1, min(files, (events - recorded) // 4)))
        index += 1
    took = time.perf_counter() - started
    ledger.close()
    return recorded, took


def pg_settings(schema: str) -> Settings:
    return Settings.model_validate({"store": "postgres", "postgres": {**PG, "schema": schema}})


def drop_schema(schema: str) -> None:
    with psycopg.connect(**PG, autocommit=True) as connection:  # type: ignore[arg-type]
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def replay_once(settings: Settings) -> dict[str, float]:
    """Replay in this process: wall and CPU seconds, and the process's peak RSS in MiB."""
    ledger = open_ledger(settings)
    views = open_views(settings, ledger)
    started, cpu = time.perf_counter(), time.process_time()
    position = views.replay()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    views.close()
    ledger.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"events": position, "seconds": seconds, "cpu": cpu, "rss_mib": rss}


def replay_in_process(settings: Settings) -> dict[str, float]:
    """`replay_once` in a fresh interpreter (so each run's peak memory is its own)."""
    out = subprocess.run(
        [sys.executable, __file__, "--replay-only", settings.model_dump_json()],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def catch_up_costs(settings: Settings, files: int) -> dict[str, float]:
    """One new session folded into current views; a catch-up asked again with nothing new."""
    ledger = open_ledger(settings)
    views = open_views(settings, ledger)
    views.catch_up()
    before = ledger.recorder.max_notification_id() or 0
    record_session(ledger, 10_000_000, files)
    started = time.perf_counter()
    views.catch_up()
    one_session = time.perf_counter() - started
    times = []
    for _ in range(200):
        started = time.perf_counter()
        views.catch_up()
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    from_views = views.pending_intents()
    pending_views = time.perf_counter() - started
    started = time.perf_counter()
    folded = ledger.pending_intents()
    pending_fold = time.perf_counter() - started
    assert from_views == folded, "the views and the fold disagree"
    events = (ledger.recorder.max_notification_id() or 0) - before
    views.close()
    ledger.close()
    return {
        "session_events": events,
        "session_seconds": one_session,
        "again_us": statistics.median(times) * 1e6,
        "pending_views": pending_views,
        "pending_fold": pending_fold,
    }


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--store", choices=["sqlite", "postgres"], nargs="+", default=["sqlite"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ll-bench")
    parser.add_argument("--replay-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay_only:
        print(json.dumps(replay_once(Settings.model_validate_json(args.replay_only))))
        return
    for store in args.store:
        with tempfile.TemporaryDirectory(prefix="ll-bench-") as scratch:
            ledgers: dict[int, Settings] = {}
            schemas: list[str] = []
            try:
                for size in args.events:
                    if store == "sqlite":
                        cached = args.cache / f"bench-{size}-{args.files}.sqlite3"
                        if not cached.exists():
                            args.cache.mkdir(parents=True, exist_ok=True)
                            count, took = fill(Settings(sqlite_path=cached), size, args.files)
                            print(
                                f"sqlite append: {count} events in {took:.1f} s "
                                f"({count / took:.0f} events/s)"
                            )
                        ledgers[size] = Settings(sqlite_path=cached)
                    else:
                        schema = f"llbench_{uuid.uuid4().hex[:8]}"
                        schemas.append(schema)
                        ledgers[size] = pg_settings(schema)
                        count, took = fill(ledgers[size], size, args.files)
                        print(
                            f"postgres append: {count} events in {took:.1f} s "
                            f"({count / took:.0f} events/s)"
                        )
                runs: dict[int, list[dict[str, float]]] = {size: [] for size in args.events}
                for _ in range(args.repeat):  # sizes interleaved
                    for size, settings in ledgers.items():
                        if store == "sqlite":  # a copy per run: the views start empty
                            copy = Path(scratch) / f"run-{size}.sqlite3"
                            shutil.copyfile(settings.sqlite_path, copy)
                            runs[size].append(replay_in_process(Settings(sqlite_path=copy)))
                            copy.unlink()
                        else:
                            runs[size].append(replay_in_process(settings))
                smallest = min(args.events)
                base = statistics.median(r["seconds"] / r["events"] for r in runs[smallest])
                for size in args.events:
                    results = runs[size]
                    events = int(results[0]["events"])
                    per_event = statistics.median(r["seconds"] / r["events"] for r in results)
                    print(
                        f"{store} replay of {events} events: "
                        f"{_spread([r['seconds'] for r in results])}, "
                        f"cpu {statistics.median(r['cpu'] for r in results):.2f} s, "
                        f"peak RSS {max(r['rss_mib'] for r in results):.0f} MiB, "
                        f"time per event x{per_event / base:.2f} of the smallest's"
                    )
                measured = ledgers[smallest]
                if store == "sqlite":  # on a copy: the cached ledger stays as built
                    copy = Path(scratch) / "catch-up.sqlite3"
                    shutil.copyfile(measured.sqlite_path, copy)
                    measured = Settings(sqlite_path=copy)
                costs = catch_up_costs(measured, args.files)
                print(
                    f"{store} catch-up of one session ({costs['session_events']:.0f} events): "
                    f"{costs['session_seconds']:.3f} s; asked again with nothing new: "
                    f"{costs['again_us']:.0f} us; pending from the views "
                    f"{costs['pending_views']:.3f} s, by folding the log "
                    f"{costs['pending_fold']:.3f} s (both agree)"
                )
            finally:
                for schema in schemas:
                    drop_schema(schema)


if __name__ == "__main__":
    main()
