"""The rows the benchmark command prints, and how it runs the arms of a figure interleaved.

Why interleaved: the machine has 2 cores and other work runs beside the benchmark, so a burst of
load would hit one side only if all of labledger's runs came before all of the reference's.
Running labledger, reference, labledger, reference, ... spreads the noise over both, and each
repetition gives a ratio of two runs made side by side; the row shows the median of those ratios.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Arm = Callable[[], float]
"""One run of one side of a figure: returns its measure (seconds, unless the row says)."""


def interleave(arms: Mapping[str, Arm], repeat: int) -> dict[str, list[float]]:
    """Run every arm once per repetition, in the order given, `repeat` times over."""
    measured: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(repeat):
        for name, arm in arms.items():
            measured[name].append(arm())
    return measured


@dataclass(frozen=True)
class Target:
    """What the ratio must reach: `ratio <= value` (lower is better) or `ratio >= value`."""

    op: str
    value: float

    def met(self, ratio: float) -> bool:
        return ratio <= self.value if self.op == "<=" else ratio >= self.value

    def __str__(self) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {self.value:g}"


@dataclass
class Row:
    """One figure as printed: both sides' measures, their ratios per repetition, the target.

    `extra_check` is a second condition of the same row (replay: at most 20 s as well as
    linear), given as its text and whether it holds. An informational row has no target."""

    figure: str
    labledger: Sequence[float]
    reference: Sequence[float]
    reference_name: str
    ratios: Sequence[float]
    target: Target | None
    unit: str = "s"
    extra_check: tuple[str, bool] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        ok = self.target.met(self.ratio)
        return ok and (self.extra_check is None or self.extra_check[1])

    @property
    def verdict(self) -> str:
        return {None: "info", True: "PASS", False: "FAIL"}[self.passed]


def paired_ratios(top: Sequence[float], bottom: Sequence[float]) -> list[float]:
    """The ratio of each repetition's two runs (made side by side)."""
    return [a / b if b else float("inf") for a, b in zip(top, bottom, strict=True)]


def spread(values: Sequence[float], unit: str) -> str:
    """Median and min–max of the repetitions, e.g. `3.21 s (3.10–3.52)`."""
    if not values:
        return "—"
    median = statistics.median(values)
    return f"{_num(median)} {unit} ({_num(min(values))}–{_num(max(values))})"


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.01:
        return f"{value:.2f}"
    return f"{value:.4f}"


def markdown(rows: Sequence[Row]) -> str:
    """The figures as a markdown table, then each row's notes as a list below it."""
    lines = [
        "| figure | labledger (median, min–max) | reference (median, min–max) "
        "| ratio (median) | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        target = "—" if row.target is None else f"ratio {row.target}"
        if row.extra_check is not None:
            target += f"; {row.extra_check[0]}"
        lines.append(
            f"| {row.figure} | {spread(row.labledger, row.unit)} "
            f"| {row.reference_name}: {spread(row.reference, row.unit)} "
            f"| {row.ratio:.3f} | {target} | {row.verdict} |"
        )
    notes = [f"- {row.figure}: {note}" for row in rows for note in row.notes]
    return "\n".join(lines + (["", *notes] if notes else []))
