"""Figure: scan + register again of an unchanged, registered session vs the first run of the same.

Why against labledger's own first run: a rig runs its registration again and again (a cron job,
a retry after an error), and the second time nothing changed, so it should cost next to nothing
beside the first (which hashes every byte and registers every file). The session is 40 files of
256 MiB (10 GiB; `--small` shrinks each file), kept in the cache folder and read once before
timing. Each repetition starts a fresh server and ledger, times `labledger scan` + `labledger
register` (the first run), then the same two commands again (the re-run): first and re-run are
interleaved by construction.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from tests.benchmarks.alf_sessions import (
    Planned,
    build_planned,
    file_names,
    files_under,
    human_size,
    session_folder,
    warm,
)
from tests.benchmarks.figure_table import Row, Target, paired_ratios
from tests.benchmarks.loopback_alyx import LoopbackAlyx
from tests.benchmarks.processes import clean_env, labledger

SEED = 40


def rerun_session(cache: Path, files: int, size: int) -> Path:
    """The cached session of `files` files of `size` bytes, written now if needed."""
    folder = session_folder(cache / f"rerun-{files}-{size}", "algernon", dt.date(2026, 3, 3), 1)
    build_planned(folder, [Planned(rel, size) for rel in file_names(files)], SEED)
    return folder


def rerun(cache: Path, files: int, size: int, repeat: int) -> list[Row]:
    folder = rerun_session(cache, files, size)
    paths = list(files_under(folder))
    first: list[float] = []
    again: list[float] = []
    requests: list[int] = []
    with tempfile.TemporaryDirectory(prefix="labledger-bench-rerun-") as tmp:
        warm(paths)
        for index in range(repeat):
            scratch = Path(tmp) / f"run{index}"
            with LoopbackAlyx(scratch / "server_home") as alyx:
                env = clean_env(scratch / "home", alyx.env(scratch / "ledger.sqlite3"))
                first.append(
                    labledger(["scan", folder], env).seconds
                    + labledger(["register", folder], env).seconds
                )
                alyx.settle()
                before = alyx.count()
                again.append(
                    labledger(["scan", folder], env).seconds
                    + labledger(["register", folder], env).seconds
                )
                alyx.settle()
                requests.append(alyx.count() - before)
            shutil.rmtree(scratch, ignore_errors=True)
    total = sum(path.stat().st_size for path in paths)
    row = Row(
        f"re-run: scan + register of an unchanged registered session, {len(paths)} files, "
        f"{human_size(total)}",
        again,
        first,
        "first scan + register",
        paired_ratios(again, first),
        Target("<=", 0.02),
    )
    row.notes.append(
        f"files of {human_size(size)}; requests of the re-run to the server: {requests}"
    )
    return [row]
