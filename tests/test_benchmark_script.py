"""The benchmark command (tests/benchmarks/figures.py) still runs: `--quick` prints a row for
every figure, each with a ratio and a verdict, and exits 0 or 1 as its verdicts say.

Quick sizes are not the targets' sizes, so a FAIL is expected and not asserted either way; what
is checked is that no figure silently stopped working (a changed command, an import moved, a
server that no longer starts). It runs the script as a user does, in a subprocess from the
checkout's root, with its own cache folder.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "benchmarks" / "figures.py"
FIGURES = {
    "scan": "scan of ",
    "xargs": "xargs -0 -P2 -n1 md5sum",
    "re-run": "re-run: ",
    "register+sync": "register + sync, ",
    "resume": "resume: ",
    "ledger-share": "ledger share ",
    "replay": "replay of ",
}
"""Each figure's row, by how its first cell starts."""
ROW = re.compile(
    r"^\| (?P<figure>[^|]+) \| [^|]+ \| [^|]+ \| (?P<ratio>\d+\.\d+) \| [^|]+ "
    r"\| (?P<verdict>PASS|FAIL|info) \|$"
)


def test_quick_prints_every_figure_with_ratio_and_verdict(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--cache", str(tmp_path / "cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    rows = [found for line in done.stdout.splitlines() if (found := ROW.match(line))]
    for name, start in FIGURES.items():
        matching = [row for row in rows if row["figure"].startswith(start)]
        assert len(matching) == 1, f"no row for {name}:\n{done.stdout}\n{done.stderr[-3000:]}"
    verdicts = {row["verdict"] for row in rows}
    assert verdicts <= {"PASS", "FAIL", "info"}
    assert done.returncode == 0, done.stderr[-3000:]  # --quick checks the command, not targets
    info = [row for row in rows if row["verdict"] == "info"]
    assert [row["figure"] for row in info] == [
        row["figure"] for row in rows if row["figure"].startswith(FIGURES["xargs"])
    ]
