"""Benchmark of `labledger scan`: first scan (hash everything), re-scan (hash nothing), by workers.

A script, not a test: `python tests/benchmarks/bench_scan.py [--files N] [--mb-per-file M]`.
It builds a synthetic session in a temporary folder, scans it into a fresh SQLite ledger with
1 and with all cores, and prints seconds, MB/s and events recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from labledger.scripts.cli import main


def build_session(root: Path, files: int, mb_per_file: float) -> Path:
    session = root / "cortexlab" / "Subjects" / "bench" / "2026-11-21" / "001"
    probe = session / "alf" / "probe00"
    probe.mkdir(parents=True)
    size = int(mb_per_file * (1 << 20))
    block = os.urandom(min(size, 1 << 20))
    for index in range(files):
        name = ["spikes.times", "spikes.clusters", "clusters.depths"][index % 3]
        path = probe / f"{name}.part{index:05d}.npy"
        with path.open("wb") as file:
            written = 0
            while written < size:
                chunk = block[: size - written]
                file.write(chunk)
                written += len(chunk)
    return session


def events(ledger: Path) -> int:
    with sqlite3.connect(ledger) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def timed_scan(session: Path, ledger: Path, workers: int) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(
            [
                "--lab",
                "cortexlab",
                "--ledger",
                str(ledger),
                "scan",
                str(session),
                "--workers",
                str(workers),
                "--json",
            ]
        )
    assert code == 0
    return time.perf_counter() - start


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--mb-per-file", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        session = build_session(root, args.files, args.mb_per_file)
        total_mb = args.files * args.mb_per_file
        print(f"session: {args.files} files, {total_mb:.0f} MB; cores: {os.cpu_count()}")
        for workers in sorted({1, os.cpu_count() or 1}):
            ledger = root / f"ledger-{workers}.sqlite3"
            first = timed_scan(session, ledger, workers)
            again = timed_scan(session, ledger, workers)
            print(
                f"workers={workers}: first scan {first:.2f} s ({total_mb / first:.0f} MB/s), "
                f"re-scan {again:.2f} s, {events(ledger)} events"
            )


if __name__ == "__main__":
    run()
