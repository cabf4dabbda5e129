"""Benchmark of the read models: replay, incremental catch-up and the pending lookup sync makes.

A script, not a test: `python tests/benchmarks/bench_projection.py [--sessions N] [--files M]
[--store sqlite|postgres]`. It records N sessions of M files each (scan, registration intents,
half of them registered) into a fresh ledger, then prints:
- replay: seconds to rebuild the views from the first event (events per second);
- catch-up: seconds to fold one more session's events into views already current;
- pending: seconds for the pending work sync reads, from the views (caught up) and by folding
  the whole log as `Ledger.pending_intents` does.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.database.views import open_views
from labledger.adapters.settings import Settings
from labledger.domain import provenance
from labledger.domain.alf import SessionRef
from labledger.domain.dataset import Dataset
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.domain.observations import Observed, SessionScan
from labledger.domain.provenance import Provenance

ACTOR = Provenance("bench", "bench", "bench-rig", "labledger bench", str(uuid.uuid4()))


def record_session(ledger: Ledger, index: int, files: int, register: bool) -> None:
    day = datetime.date(2026, 1, 1) + datetime.timedelta(days=index // 10)
    ref = SessionRef("cortexlab", f"mouse{index % 7}", day, f"{index % 10 + 1:03d}")
    folder = f"/data/{ref.key}"
    observed = tuple(
        Observed(
            f"alf/probe00/spikes.times.part{n:04d}.npy",
            "alf/probe00",
            "",
            f"spikes.times.part{n:04d}.npy",
            1024,
            n,
            f"{n:032x}",
            "spikes.times",
            "npy",
        )
        for n in range(files)
    )
    with provenance.acting_as(ACTOR.for_operation(str(uuid.uuid4()))):
        ledger.request_registrations(
            [SessionScan(ref, folder, observed)],
            [(ref, folder, {})],
            [(Dataset.create_id(session_id_of(ref), o.rel_path), {}) for o in observed],
        )
    if register:
        with provenance.acting_as(ACTOR.for_operation(str(uuid.uuid4()))):
            session_id = session_id_of(ref)
            for intent in ledger.pending_intents(session_id):
                if intent.intent == "Session.RegistrationRequested":
                    ledger.record_session_registered(session_id, intent.operation_id, "eid", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-schema", default=f"labledger_bench_{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.store == "sqlite":
            settings = Settings(store="sqlite", sqlite_path=Path(folder) / "ledger.sqlite3")
        else:
            settings = Settings.model_validate(
                {
                    "store": "postgres",
                    "postgres": {"host": "127.0.0.1", "dbname": "test", "user": "root"},
                }
            ).model_copy(deep=True)
            settings.postgres.schema_name = args.pg_schema
        ledger = open_ledger(settings)
        started = time.perf_counter()
        for index in range(args.sessions):
            record_session(ledger, index, args.files, register=index % 2 == 0)
        events = ledger.recorder.max_notification_id() or 0
        print(f"recorded {events} events in {time.perf_counter() - started:.1f} s")

        views = open_views(settings, ledger)
        started = time.perf_counter()
        views.replay()
        took = time.perf_counter() - started
        print(f"replay: {took:.2f} s ({events / took:.0f} events/s)")

        record_session(ledger, args.sessions, args.files, register=False)
        started = time.perf_counter()
        views.catch_up()
        print(f"catch-up of one new session: {time.perf_counter() - started:.3f} s")

        started = time.perf_counter()
        from_views = views.pending_intents()
        print(f"pending from the views: {time.perf_counter() - started:.3f} s")
        started = time.perf_counter()
        folded = ledger.pending_intents()
        print(f"pending by folding the whole log: {time.perf_counter() - started:.3f} s")
        assert from_views == folded, "the views and the fold disagree"
        print(f"{len(from_views)} intents pending (both ways agree)")
        views.close()
        ledger.close()
        if args.store == "postgres":  # leave the shared database as it was
            with psycopg.connect(
                host="127.0.0.1", dbname="test", user="root", autocommit=True
            ) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(args.pg_schema)
                    )
                )


if __name__ == "__main__":
    main()
