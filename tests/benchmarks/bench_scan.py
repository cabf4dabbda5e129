"""Benchmark of `labledger scan` against `md5sum`, and of a scan of many small files.

A script, not a test: `python tests/benchmarks/bench_scan.py [--reps N] [--small-files N]`.

It builds, in a temporary folder (or `--keep DIR`, reused when run again), a session of 784 files
with log-spread sizes from 1 KiB to 512 MiB (2.3 GiB) and a session of many 1 KiB files, reads
them once so every run reads from the page cache, then times, interleaved, `reps` times each:

- `md5sum` over every file of the large session (one process), `xargs -0 -P2 -n1 md5sum` (two
  at a time), and the installed `labledger scan` of the session into a fresh ledger: the ratio
  is md5sum's time over labledger's (throughput relative to md5sum, higher is better);
- `labledger scan` of the small-file session into a fresh ledger, and its re-scan (nothing
  changed: nothing is hashed).

Each command runs in a subprocess with a scratch HOME, as a user runs it. Other processes on the
machine add noise: the load average is printed beside each repetition.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
LABLEDGER = Path(sys.executable).parent / "labledger"


def log_spread(count: int, smallest: int, largest: int, total: int) -> list[int]:
    """`count` sizes from `smallest` to `largest`, spread on a log scale bent (by a power found
    by bisection) so that they add up to about `total`."""

    def sizes(power: float) -> list[int]:
        ratio = largest / smallest
        return [int(smallest * ratio ** ((i / (count - 1)) ** power)) for i in range(count)]

    low, high = 1.0, 64.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if sum(sizes(middle)) > total else (low, middle)
    return sizes(high)


def write(path: Path, size: int, block: bytes) -> None:
    if path.is_file() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        written = 0
        while written < size:
            written += file.write(block[: min(len(block), size - written)])


def build(root: Path, small_files: int) -> tuple[Path, Path]:
    """(large session, small-file session) under `root`, written where missing."""
    block = os.urandom(8 * MIB)
    large = root / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "001"
    for index, size in enumerate(log_spread(784, KIB, 512 * MIB, int(2.3 * GIB))):
        write(large / "alf" / "probe00" / f"spikes.times.part{index:04d}.npy", size, block)
    small = root / "cortexlab" / "Subjects" / "algernon" / "2026-11-21" / "002"
    names = ("spikes.times", "spikes.clusters", "clusters.depths", "_iblrig_leftCamera.times")
    for index in range(small_files):
        name = f"{names[index % len(names)]}.part{index:05d}.npy"
        write(small / "alf" / f"probe{index % 4:02d}" / name, KIB, block)
    return large, small


def files_of(folder: Path) -> list[str]:
    return sorted(str(path) for path in folder.rglob("*") if path.is_file())


def timed(command: list[str], **options: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **options)  # type: ignore[call-overload]
    return time.perf_counter() - start


class Scans:
    """`labledger scan` runs, each into a fresh ledger under a scratch HOME."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.runs = 0

    def env(self, ledger: Path) -> dict[str, str]:
        home = self.scratch / "home"
        home.mkdir(exist_ok=True)
        return {**os.environ, "HOME": str(home), "LABLEDGER_SQLITE_PATH": str(ledger)}

    def first(self, session: Path) -> float:
        self.runs += 1
        ledger = self.scratch / f"ledger{self.runs}.sqlite3"
        seconds = timed(
            [str(LABLEDGER), "--lab", "cortexlab", "scan", str(session)], env=self.env(ledger)
        )
        self.last = ledger
        return seconds

    def again(self, session: Path) -> float:
        return timed(
            [str(LABLEDGER), "--lab", "cortexlab", "scan", str(session)], env=self.env(self.last)
        )


def interleave(sides: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for rep in range(reps):
        for name, run in sides.items():
            seconds[name].append(run())
        line = ", ".join(f"{name} {values[-1]:.2f} s" for name, values in seconds.items())
        print(f"  rep {rep + 1}: {line} (load {os.getloadavg()[0]:.1f})", flush=True)
    return seconds


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"
    )


def run() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build the sessions here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        root = args.keep or Path(tmp) / "data"
        large, small = build(root, args.small_files)
        paths = files_of(large)
        subprocess.run(["cat", *paths, *files_of(small)], check=True, stdout=subprocess.DEVNULL)
        size = sum(os.path.getsize(path) for path in paths)
        print(f"{len(paths)} files, {size / GIB:.2f} GiB; {os.cpu_count()} cores")
        scans = Scans(Path(tmp))
        listed = "\0".join(paths).encode()
        big = interleave(
            {
                "md5sum": lambda: timed(["md5sum", *paths]),
                "xargs -P2": lambda: timed(["xargs", "-0", "-P2", "-n1", "md5sum"], input=listed),
                "labledger scan": lambda: scans.first(large),
            },
            args.reps,
        )
        md5sum = statistics.median(big["md5sum"])
        for name, values in big.items():
            ratios = [m / v for m, v in zip(big["md5sum"], values, strict=True)]
            ratio = md5sum / statistics.median(values)
            print(
                f"{name}: {spread(values)}; throughput vs md5sum {ratio:.2f}x "
                f"(paired median {statistics.median(ratios):.2f}x)"
            )
        small_runs = interleave(
            {"first scan": lambda: scans.first(small), "re-scan": lambda: scans.again(small)},
            args.reps,
        )
        for name, values in small_runs.items():
            print(f"{args.small_files} small files, {name}: {spread(values)}")
        shutil.rmtree(Path(tmp) / "home", ignore_errors=True)


if __name__ == "__main__":
    run()
