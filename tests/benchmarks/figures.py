"""The benchmark command: each speed figure of labledger beside its reference, as a table.

Run from the checkout's root (not part of the test run):

    .venv/bin/python tests/benchmarks/figures.py [--only scan,replay] [--repeat 3]
        [--cache DIR] [--small] [--quick] [--scaling] [--user-install]

Every figure makes its own data (in a temporary folder; the big data of the scan, re-run and
replay figures in `--cache`, default ~/.cache/labledger-bench, built once), then runs labledger
and its reference interleaved, `--repeat` times, and prints a markdown table: each side's median
and spread, the median of the per-repetition ratios, the target and PASS/FAIL. The exit status is
1 when a figure fails its target, so the command can gate a script (not with `--quick`, whose
tiny sizes say nothing of the targets). Every labledger run is the
installed `labledger` in a subprocess with a scratch HOME and a fresh ledger of its own, as a user
runs it. `--quick` shrinks everything (a check that the command works, not of the targets);
`--small` shrinks the re-run figure's 10 GiB session; `--scaling` prints the scaling table (see
scaling.py), after the figures named by `--only` if any; `--user-install` measures labledger as
the README's command (a) installs it (a venv in the cache, built once), not the test venv's.

The figures (`--only` names), each beside its reference, with the ratio's target:
  scan           784 files, 2.3 GiB, fresh ledger, vs one md5sum (throughput)   ≥ 1.6
                 (and xargs -P2 md5sum vs md5sum, informational)
  re-run         scan + register of an unchanged 10 GiB session vs its first run ≤ 0.02
  register+sync  20 sessions × 50 files vs ONE's RegistrationClient (wall time)   ≤ 0.5
  resume         sync after a register killed at 90 % vs an uninterrupted run    ≤ 0.15
  ledger-share   the ledger's share of register + sync's working samples         ≤ 0.10
  replay         1 M events (≤ 20 s) vs 100 k: time per event, large over small   ≤ 1.1
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the checkout's root makes `tests.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.alf_sessions import GIB, MIB
from tests.benchmarks.figure_registration import ONE_HASH_BUFFER, register_sync, resume
from tests.benchmarks.figure_replay import replay
from tests.benchmarks.figure_rerun import rerun
from tests.benchmarks.figure_scan import scan
from tests.benchmarks.figure_share import ledger_share
from tests.benchmarks.figure_table import Row, markdown
from tests.benchmarks.processes import MEASURED, user_install
from tests.benchmarks.scaling import QUICK_SCALING, ScalingSizes, scaling


@dataclass(frozen=True)
class Sizes:
    """How big each figure's data is; the defaults are the sizes the targets are set for."""

    scan_files: int = 784
    scan_largest: int = 512 * MIB
    scan_total: int = round(2.3 * GIB)
    rerun_files: int = 40
    rerun_size: int = 256 * MIB
    register_sessions: int = 20
    register_files: int = 50
    replay_events: int = 1_003_300
    replay_small_events: int = 100_330
    replay_files: int = 1000


FULL = Sizes()
SMALL_RERUN_SIZE = 8 * MIB
"""`--small`: the re-run figure's files shrink to this (320 MiB in all instead of 10 GiB)."""
QUICK = Sizes(
    scan_files=40,
    scan_largest=4 * MIB,
    scan_total=16 * MIB,
    rerun_files=4,
    rerun_size=MIB,
    register_sessions=2,
    register_files=5,
    replay_events=3_000,
    replay_small_events=300,
    replay_files=100,
)

Figure = Callable[[Sizes, argparse.Namespace], list[Row]]
FIGURES: dict[str, Figure] = {
    "scan": lambda s, a: scan(a.cache, s.scan_files, s.scan_largest, s.scan_total, a.repeat),
    "re-run": lambda s, a: rerun(a.cache, s.rerun_files, s.rerun_size, a.repeat),
    "register+sync": lambda s, a: register_sync(
        s.register_sessions, s.register_files, a.repeat, a.one_hash_buffer
    ),
    "resume": lambda s, a: resume(s.register_sessions, s.register_files, a.repeat),
    "ledger-share": lambda s, a: ledger_share(
        s.register_sessions, s.register_files, a.repeat, plain=not a.quick
    ),
    "replay": lambda s, a: replay(
        a.cache, s.replay_events, s.replay_small_events, a.repeat, s.replay_files
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="figures.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    known = ", ".join(FIGURES)
    parser.add_argument("--only", default="", help=f"figures, comma-separated: {known}")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each side (≥ 3)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "labledger-bench",
        help="folder for the big data, built once (default ~/.cache/labledger-bench)",
    )
    parser.add_argument(
        "--one-hash-buffer",
        type=int,
        default=ONE_HASH_BUFFER,
        metavar="BYTES",
        help="iblutil's md5 buffer for ONE (default 1 MiB, as the tests set it; 0 keeps ONE's "
        "own 256 MiB, allocated per file: about 0.15 s a file)",
    )
    parser.add_argument(
        "--user-install",
        action="store_true",
        help="measure labledger installed as a user installs it (README command (a), no test "
        "extra), in a venv built once in the cache; without it, the labledger of this "
        "interpreter's venv (whose test extra's trio costs every online command ~0.15 s)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the command runs")
    parser.add_argument("--small", action="store_true", help="shrink the re-run figure's session")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="print the scaling table (alone, unless --only names figures too)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.repeat < 3:
        raise SystemExit("figures.py: --repeat is at least 3 (a median and a spread)")
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    if not chosen and not args.scaling:
        chosen = list(FIGURES)
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        raise SystemExit(f"figures.py: unknown figure {unknown}; known: {', '.join(FIGURES)}")
    sizes = QUICK if args.quick else FULL
    if args.quick:
        args.cache = args.cache / "quick"
    if args.small:
        sizes = replace(sizes, rerun_size=min(sizes.rerun_size, SMALL_RERUN_SIZE))
    if args.user_install:
        MEASURED.python = user_install(args.cache, _log)
    rows: list[Row] = []
    for name in chosen:
        started = time.perf_counter()
        _log(f"running {name} ...")
        rows.extend(FIGURES[name](sizes, args))
        _log(f"  {name}: {time.perf_counter() - started:.0f} s")
    if rows:
        print(markdown(rows), flush=True)
    if args.scaling:
        table = scaling(
            args.cache, QUICK_SCALING if args.quick else ScalingSizes(), args.repeat, _log
        )
        print(("\n" if rows else "") + table, flush=True)
    if args.quick:  # tiny sizes say nothing of the targets: the verdicts are shown, not kept
        return 0
    return 1 if any(row.passed is False for row in rows) else 0


def _log(line: str) -> None:
    """Progress, on stderr: the table alone goes to stdout."""
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
