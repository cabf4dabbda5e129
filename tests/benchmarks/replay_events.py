"""Ledgers of a given number of events for the replay figures, built once and kept in a cache.

Why through the ledger's public Python API, in-process: the events must be those labledger
records (a scan that discovers files, the registrations asked, Alyx's answers recorded), with
their real payloads, and a million of them through the CLI and a server would take hours. Each
session holds 1,000 files and is recorded in two transactions (scan + requests; then every
outcome), so the build is quick and the log looks like a lab's: ~3 events per file.

A SQLite ledger is cached as `<cache>/replay-<events>-<files>.sqlite3` (built under a temporary
name, renamed when complete; its build time beside it in `.build-seconds`). The views it holds
are replaced at each replay, the events never change, so it is reused as it is; delete it after
a change of the events' format. `fresh_ledger` builds into a new ledger each time it is asked
(the scaling table's append rates, on SQLite and on a new PostgreSQL schema the caller drops).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labledger.adapters.database.event_store import open_ledger
from labledger.adapters.settings import Settings
from labledger.domain import provenance
from labledger.domain.alf import SessionRef
from labledger.domain.dataset import Dataset
from labledger.domain.ledger import Ledger
from labledger.domain.ledger_queries import session_id_of
from labledger.domain.observations import Observed, SessionScan
from labledger.domain.provenance import Provenance
from labledger.domain.session import Session
from tests.benchmarks.alf_sessions import LAB, file_names

FILES_PER_SESSION = 1000
ACTOR = Provenance("bench", "bench", "bench-rig", "labledger benchmark", "bench-build")
SUBJECTS = ("algernon", "ZM_1085", "SWC_043", "KS022")


@dataclass(frozen=True)
class Built:
    """A ledger ready to replay: where it is, how many events it holds, how long building it
    took (now, or when it was put in the cache)."""

    settings: Settings
    events: int
    build_seconds: float
    cached: bool


def _observed(files: int, session: int) -> tuple[Observed, ...]:
    observed = []
    for index, rel in enumerate(file_names(files)):
        collection, _, name = rel.rpartition("/")
        stem, _, extension = name.rpartition(".")
        observed.append(
            Observed(
                rel,
                collection,
                "",
                name,
                1024 + index * 37,
                1_764_000_000_000_000_000 + index,
                f"{session:016x}{index:016x}",
                stem,
                extension,
            )
        )
    return tuple(observed)


def _record(dataset: Dataset, observed: Observed) -> dict[str, Any]:
    """What Alyx answers for a registered file (the fields labledger keeps)."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, str(dataset.id))),
        "name": observed.name,
        "collection": observed.collection,
        "revision": None,
        "default": True,
        "dataset_type": observed.dataset_type,
        "data_format": observed.data_format,
        "file_size": observed.size,
        "hash": observed.md5,
        "version": "3.6.1",
        "qc": "NOT_SET",
    }


def record_session(ledger: Ledger, index: int, files: int) -> None:
    """One session scanned, asked, and registered: the events of `labledger register`."""
    day = dt.date(2025, 1, 1) + dt.timedelta(days=index // len(SUBJECTS))
    ref = SessionRef(LAB, SUBJECTS[index % len(SUBJECTS)], day, "001")
    folder = f"/data/{LAB}/Subjects/{ref.key}"
    observed = _observed(files, index)
    session_id = session_id_of(ref)
    dataset_ids = [Dataset.create_id(session_id, o.rel_path) for o in observed]
    with provenance.acting_as(ACTOR.for_operation(str(uuid.uuid4()))):
        ledger.request_registrations(
            [SessionScan(ref, folder, observed)],
            [(ref, folder, {})],
            [(dataset_id, {}) for dataset_id in dataset_ids],
        )
    with provenance.acting_as(ACTOR.for_operation(str(uuid.uuid4()))):
        session: Session = ledger.repository.get(session_id)
        session.record_registered(_open(session), str(uuid.uuid4()), {"id": str(session_id)})
        datasets = []
        for dataset_id, seen in zip(dataset_ids, observed, strict=True):
            dataset: Dataset = ledger.repository.get(dataset_id)
            file_records = [
                {
                    "data_repository": "cortexlab_local",
                    "relative_path": seen.rel_path,
                    "exists": True,
                }
            ]
            dataset.record_registered(
                _open(dataset), str(uuid.uuid4()), "", True, file_records, _record(dataset, seen)
            )
            datasets.append(dataset)
        ledger.save(session, *datasets)


def _open(aggregate: Any) -> str:
    """The open registration's operation id (asked by `request_registrations` just before)."""
    for operation, name in aggregate.open_intents.items():
        if name == "RegistrationRequested":
            return str(operation)
    raise LookupError(f"no open registration on {aggregate.id}")


def fill(settings: Settings, events: int, files: int = FILES_PER_SESSION) -> int:
    """Record sessions into the ledger of `settings` until it holds at least `events` events."""
    ledger = open_ledger(settings)
    try:
        index = 0
        while (recorded := ledger.recorder.max_notification_id() or 0) < events:
            # about 3 events a file and 4 a session: the last session is cut to land near `events`
            record_session(ledger, index, max(1, min(files, (events - recorded - 4 + 2) // 3)))
            index += 1
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()


def sqlite_ledger(cache: Path, events: int, files: int = FILES_PER_SESSION) -> Built:
    """The cached SQLite ledger of `events` events, built now if absent."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"replay-{events}-{files}.sqlite3"
    settings = Settings(store="sqlite", sqlite_path=path)
    took_file = path.with_suffix(".build-seconds")
    if path.is_file():
        took = float(took_file.read_text()) if took_file.is_file() else float("nan")
        return Built(settings, _count(settings), took, cached=True)
    partial = cache / f".building-{os.getpid()}-{path.name}"
    started = time.perf_counter()
    count = fill(Settings(store="sqlite", sqlite_path=partial), events, files)
    took = time.perf_counter() - started
    with contextlib.closing(sqlite3.connect(partial)) as connection:  # the WAL into the file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        if Path(f"{partial}{suffix}").exists():
            raise RuntimeError(f"{partial}{suffix} is still there: the ledger is open elsewhere")
    partial.rename(path)
    took_file.write_text(f"{took:.1f}\n")
    return Built(settings, count, took, cached=False)


def fresh_ledger(settings: Settings, events: int, files: int = FILES_PER_SESSION) -> Built:
    """The empty ledger of `settings` (a new SQLite file, a new PostgreSQL schema) filled with
    `events` events now; the build time is the append rate's measure."""
    started = time.perf_counter()
    count = fill(settings, events, files)
    return Built(settings, count, time.perf_counter() - started, cached=False)


def _count(settings: Settings) -> int:
    ledger = open_ledger(settings)
    try:
        return int(ledger.recorder.max_notification_id() or 0)
    finally:
        ledger.close()
