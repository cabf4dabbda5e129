"""Figure: `labledger scan` of a fresh session (every file hashed) vs `md5sum` over the same files.

Why md5sum: scanning is reading and hashing, and `md5sum` is the floor a user compares with. The
session is 784 files from 1 KiB to 512 MiB, 2.3 GiB in all (log-spread sizes, see
alf_sessions.py), kept in the cache folder and read once before timing, so every side reads from
the page cache. Each labledger run scans into a fresh ledger. The references are one `md5sum`
process given every file, and `xargs -0 -P2 -n1 md5sum` (file list on stdin, one md5sum per file,
two at a time: without `-n` xargs hands all the files to a single md5sum and -P2 does nothing).

The ratio is labledger's throughput over md5sum's (md5sum's time over labledger's: the same
bytes); the xargs row is informational, its ratio xargs's throughput over md5sum's.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

from tests.benchmarks.alf_sessions import (
    KIB,
    MIB,
    build_planned,
    files_under,
    human_size,
    scan_plan,
    session_folder,
    warm,
)
from tests.benchmarks.figure_table import Row, Target, interleave, paired_ratios
from tests.benchmarks.processes import clean_env, labledger, timed

SEED = 784


def scan_session(cache: Path, files: int, largest: int, total: int) -> Path:
    """The cached session of the scan figure, written (or completed) now if needed."""
    root = cache / f"scan-{files}-{largest}-{total}"
    folder = session_folder(root, "algernon", dt.date(2026, 3, 2), 1)
    build_planned(folder, scan_plan(files, KIB, largest, total, SEED), SEED)
    return folder


def accepted(folder: Path, scratch: Path) -> dict[str, int]:
    """What `labledger scan --json` says of the session on a fresh ledger: every file must be
    a dataset (none rejected), or the figure would time the rejection path."""
    env = clean_env(scratch / "home", {"LABLEDGER_SQLITE_PATH": str(scratch / "check.sqlite3")})
    env["LABLEDGER_LAB"] = "cortexlab"
    (summary,) = json.loads(labledger(["scan", "--json", folder], env).out)
    return {key: int(value) for key, value in summary.items() if key != "session"}


class ScanRuns:
    """The three sides of the scan figure, on one session."""

    def __init__(self, folder: Path, scratch: Path) -> None:
        self.folder = folder
        self.scratch = scratch
        self.paths = list(files_under(folder))
        self.runs = 0

    def labledger(self) -> float:
        self.runs += 1
        ledger = self.scratch / f"ledger{self.runs}" / "ledger.sqlite3"
        env = clean_env(self.scratch / "home", {"LABLEDGER_SQLITE_PATH": str(ledger)})
        env["LABLEDGER_LAB"] = "cortexlab"
        seconds = labledger(["scan", self.folder], env).seconds
        shutil.rmtree(ledger.parent, ignore_errors=True)
        return seconds

    def md5sum(self) -> float:
        return timed(["md5sum", *self.paths], clean_env(self.scratch / "home")).seconds

    def xargs(self) -> float:
        listed = b"\0".join(str(path).encode() for path in self.paths) + b"\0"
        command = ["xargs", "-0", "-P2", "-n1", "md5sum"]
        return timed(command, clean_env(self.scratch / "home"), stdin=listed).seconds


def scan(cache: Path, files: int, largest: int, total: int, repeat: int) -> list[Row]:
    folder = scan_session(cache, files, largest, total)
    with tempfile.TemporaryDirectory(prefix="labledger-bench-scan-") as tmp:
        runs = ScanRuns(folder, Path(tmp))
        summary = accepted(folder, Path(tmp))
        warm(runs.paths)
        measured = interleave(
            {"labledger": runs.labledger, "md5sum": runs.md5sum, "xargs": runs.xargs}, repeat
        )
    size = sum(path.stat().st_size for path in runs.paths)
    row = Row(
        f"scan of {len(runs.paths)} files, {human_size(size)} (throughput ratio)",
        measured["labledger"],
        measured["md5sum"],
        "md5sum",
        paired_ratios(measured["md5sum"], measured["labledger"]),
        Target(">=", 1.6),
    )
    fastest = min(measured["labledger"])
    row.notes.append(
        f"labledger's best {size / MIB / fastest:.0f} MiB/s; scan --json on a fresh ledger: "
        f"{summary['new_or_changed']} new, {summary['rejected']} rejected; sizes "
        f"1 KiB to {human_size(largest)}"
    )
    if summary["rejected"]:
        row.notes.append("REJECTED files: the names no longer match the dataset types")
    info = Row(
        "xargs -0 -P2 -n1 md5sum vs md5sum (informational; xargs in the labledger column)",
        measured["xargs"],
        measured["md5sum"],
        "md5sum",
        paired_ratios(measured["md5sum"], measured["xargs"]),
        None,
    )
    return [row, info]
