"""The reliability figures: kill points, chaos seeds, racing rigs, bad-input examples and storage
faults, each run at its full size and counted as passed / total, in one table.

Run from the checkout's root (not part of the test run):

    .venv/bin/python tests/reliability_figures.py [--only crash,chaos] [--quick] [--seeds 50]
        [--examples 2000]

Each figure is the project's own tests of it, run by pytest at the size the figure names (the
test run uses smaller ones): every kill point of the crash tests (`LABLEDGER_TEST_CRASH_EVERY_
POINT=1`), 50 chaos seeds at 30 % faults, 10,000 bad-input examples (2,000 per fuzzing test),
the racing rigs (2 and 4 processes, SQLite and PostgreSQL) and the storage faults. A figure
counts its test cases (a kill point, a seed, a race, a fault); for fuzzing, a test passes only
when all its examples did. `--quick` runs the test run's sizes, to check the command works. The
exit status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    name: str
    what: str
    """What one case is, for the table."""
    tests: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    quick_env: dict[str, str] = field(default_factory=dict)


def figures(seeds: int, examples: int) -> dict[str, Figure]:
    return {
        "crash": Figure(
            "crash matrix",
            "kill points (SIGKILL at a side-effect boundary, then sync)",
            ("tests/test_crash_matrix.py", "tests/test_alyx_crash.py"),
            {"LABLEDGER_TEST_CRASH_EVERY_POINT": "1"},
        ),
        "chaos": Figure(
            "chaos",
            f"seeded days with 30 % of requests failing ({seeds} seeds)",
            ("tests/test_chaos.py",),
            {"LABLEDGER_TEST_CHAOS_SEEDS": str(seeds)},
            {"LABLEDGER_TEST_CHAOS_SEEDS": "3"},
        ),
        "races": Figure(
            "racing rigs",
            "races of 2 and 4 processes, SQLite and PostgreSQL",
            ("tests/test_races.py",),
        ),
        "fuzz": Figure(
            "bad input",
            f"fuzzing tests of {examples:,} examples each ({5 * examples:,} in all)",
            ("tests/test_fuzzing.py",),
            {"LABLEDGER_TEST_FUZZ_EXAMPLES": str(examples)},
            {"LABLEDGER_TEST_FUZZ_EXAMPLES": "60"},
        ),
        "storage": Figure(
            "storage faults",
            "full disk, read-only and damaged ledger, PostgreSQL cut; found defects",
            ("tests/test_storage_faults.py", "tests/test_found_defects.py"),
        ),
    }


@dataclass(frozen=True)
class Counted:
    passed: int
    failed: int
    skipped: int
    seconds: float
    failures: list[str]

    @property
    def total(self) -> int:
        return self.passed + self.failed


def run(figure: Figure, quick: bool, report: Path) -> Counted:
    """The figure's tests, by pytest in a subprocess; what its report counts."""
    env = {**os.environ, **(figure.quick_env if quick else figure.env)}
    if quick:
        env.pop("LABLEDGER_TEST_CRASH_EVERY_POINT", None)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            *figure.tests,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    seconds = time.monotonic() - started
    passed = failed = skipped = 0
    failures: list[str] = []
    if not report.exists():  # pytest itself ended abnormally: nothing of it counts as passed
        return Counted(0, 1, 0, seconds, [f"pytest ended with exit {done.returncode}, no report"])
    for case in ElementTree.parse(report).iter("testcase"):
        outcome = {child.tag for child in case}
        if outcome & {"failure", "error"}:
            failed += 1
            failures.append(case.get("name", "?"))
        elif "skipped" in outcome:
            skipped += 1
        else:
            passed += 1
    return Counted(passed, failed, skipped, seconds, failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--only", help="figures, comma-separated: crash, chaos, races, fuzz, storage"
    )
    parser.add_argument("--quick", action="store_true", help="the test run's sizes")
    parser.add_argument("--seeds", type=int, default=50, help="chaos seeds (default 50)")
    parser.add_argument(
        "--examples", type=int, default=2000, help="examples per fuzzing test (default 2000)"
    )
    args = parser.parse_args(argv)
    chosen = figures(args.seeds, args.examples)
    names = args.only.split(",") if args.only else list(chosen)
    unknown = [name for name in names if name not in chosen]
    if unknown:
        parser.error(f"unknown figures {unknown}; choose from {', '.join(chosen)}")
    rows = ["| figure | cases | passed / total | skipped | time |", "|---|---|---|---|---|"]
    failed = False
    with tempfile.TemporaryDirectory(prefix="labledger-reliability-") as tmp:
        for name in names:
            figure = chosen[name]
            print(f"running {figure.name} ...", file=sys.stderr, flush=True)
            counted = run(figure, args.quick, Path(tmp) / f"{name}.xml")
            failed = failed or counted.failed > 0 or counted.total == 0
            rows.append(
                f"| {figure.name} | {figure.what} | {counted.passed} / {counted.total} | "
                f"{counted.skipped} | {counted.seconds / 60:.1f} min |"
            )
            for failure in counted.failures:
                rows.append(f"|  | failed: {failure} |  |  |  |")
            print(rows[-1 - len(counted.failures)], file=sys.stderr, flush=True)
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
