"""How a terminal table fits its width: a rule per column, and the plan a width gives. Pure.

Operators copy eids, session keys, paths and times from the terminal, so those are never split
across lines: a column either shows them whole or leaves the table. Each report declares, per
column, how much it matters (`priority`) and whether its text may wrap between words; when the
terminal is too narrow, the least important columns leave first (named under the table), long
texts may be listed under the table instead, and when even the essential columns cannot fit, each
row is printed as a block of "column value" lines. A pipe has no width: every column, whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len

Wrap = Literal["never", "words"]


@dataclass(frozen=True)
class Column:
    """How one column of a terminal table behaves when the terminal is narrow."""

    name: str
    priority: int = 1
    """1: always shown; 2, 3, ...: left out first (highest number first) when space is short."""
    wrap: Wrap = "never"
    """"never": shown whole on one line (an eid, key, path, time, number or short word);
    "words": may wrap between words, never inside one."""
    min_width: int = 0
    """For a "words" column: the narrowest width worth showing it at."""
    below: bool = False
    """When it does not fit, its values are listed under the table (by row) instead of hidden."""

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")


Rule = tuple[str, int] | tuple[str, int, Wrap, int] | tuple[str, int, Wrap, int, bool]
"""(name, priority[, wrap, min width[, listed below]]): one row of a report's rules."""


def rules(*rows: Rule) -> dict[str, Column]:
    """A report's columns from rows of (name, priority[, wrap, min width[, listed below]])."""
    return {row[0]: _column(row) for row in rows}


def _column(row: Rule) -> Column:
    match row:
        case (name, priority):
            return Column(name, priority)
        case (name, priority, wrap, width):
            return Column(name, priority, wrap, width)
        case (name, priority, wrap, width, below):
            return Column(name, priority, wrap, width, below)
    raise AssertionError(f"not a column rule: {row}")  # pragma: no cover


COMMON = rules(
    # column        priority  wrap     min width  listed below when it does not fit
    ("target", 1),
    ("action", 1, "words", 8),
    ("outcome", 1),
    ("detail", 1, "words", 20),
    ("summary", 1, "words", 24),
    ("last_error", 2, "words", 24, True),
    ("waits_for", 2, "words", 16, True),
    ("value", 1, "words", 24),
)
"""Rules of columns that several tables share (a sync report's four, a long text, an error)."""

STATUS = rules(
    ("session", 1),
    ("alyx_eid", 1),
    ("pending", 2),
    ("transfer", 2),
    ("last_error", 2, "words", 24, True),
    ("registered", 3),
    ("discovered", 4),
    ("rejected", 4),
    ("protected", 5),
    ("moved", 5),
    ("manifest", 5),
)
"""`status`: which session, its eid, what waits, and its latest error come first."""

AUDIT = rules(
    ("when", 1),
    ("session", 1),
    ("event", 1),
    ("summary", 1, "words", 24),
    ("file", 2),
    ("who", 3),
    ("kind", 4),
    ("subject", 4),
    ("host", 4),
)
"""`audit`: when, which session, what happened; the file, who and where if there is room."""

PENDING = rules(
    ("step", 1),
    ("target", 1),
    ("action", 1, "words", 10),
    ("session", 2),
    ("since", 3),
    ("waits_for", 2, "words", 16, True),
    ("last_error", 2, "words", 24, True),
    ("system", 4),
    ("who", 4),
    ("attempts", 4),
)
"""`pending`: the order, the file and what sync will do to it come first; then the session (said
once above the rows when every row holds it; the last of its priority to leave, after the texts
listed below the table), since when, by whom."""

SCAN = rules(
    ("session", 1),
    ("new_or_changed", 1),
    ("rejected", 1),
    ("unchanged", 1),
)

PROTECTION = rules(
    ("session", 2),
    ("file", 1),
    ("protected", 1),
    ("revisions", 1, "words", 12),
    ("row", 3, "words", 12),
    ("would_go", 1),
)
"""`check-protected`: per file, whether it is protected and where registering would put it."""

WATCHDOG_CHECKS = rules(("check", 1), ("result", 1), ("detail", 1, "words", 24))


@dataclass(frozen=True)
class Plan:
    """What a width shows: the columns in the table with their widths, the columns listed under
    it, the columns left out; or `stacked`: no table fits, every row as a block of lines."""

    shown: tuple[str, ...]
    widths: tuple[int, ...]
    below: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    stacked: bool = False
    same: tuple[tuple[str, str], ...] = ()
    """Columns left out because every row holds the same value: (column, that value), said once."""
    empty: tuple[str, ...] = ()
    """Columns left out because no row has a value in them."""


EDGES = 1
"""Characters of a table outside its columns (the left border)."""
PER_COLUMN = 3
"""Characters each column adds besides its text: a space each side and its right border."""


def resolve(names: Iterable[str], layout: Mapping[str, Column] | None = None) -> list[Column]:
    """The rule of each column: the report's own, else the common one, else always shown whole."""
    return [(layout or {}).get(name) or COMMON.get(name) or Column(name) for name in names]


def _words(text: str) -> list[str]:
    return text.split() or [""]


@dataclass(frozen=True)
class _Measure:
    narrowest: int
    natural: int


def _measure(column: Column, cells: Sequence[str]) -> _Measure:
    header = max(cell_len(word) for word in _words(column.label))
    natural = max([cell_len(column.label), *(cell_len(cell) for cell in cells)])
    if column.wrap == "never":
        return _Measure(max([header, *(cell_len(cell) for cell in cells)]), natural)
    longest = max([header, *(cell_len(word) for cell in cells for word in _words(cell))])
    return _Measure(max(longest, min(column.min_width, natural)), natural)


def table_width(widths: Iterable[int]) -> int:
    """Characters of a table whose columns have these text widths."""
    widths = list(widths)
    return sum(widths) + PER_COLUMN * len(widths) + EDGES


def plan(columns: Sequence[Column], cells: Sequence[Sequence[str]], width: int | None) -> Plan:
    """The layout of rows of `cells` (one string per column) at `width` characters (None: no
    limit, every column at its natural width)."""
    measures = {
        column.name: _measure(column, [row[index] for row in cells])
        for index, column in enumerate(columns)
    }
    names = [column.name for column in columns]
    if width is None:
        return Plan(tuple(names), tuple(measures[name].natural for name in names))
    shown = list(columns)
    same: list[tuple[str, str]] = []
    if table_width(measures[c.name].narrowest for c in shown) > width:
        for index, value in alike(cells).items():  # a value every row holds is said once
            shown.remove(columns[index])
            if value not in EMPTY:
                same.append((columns[index].name, value))
    while table_width(measures[c.name].narrowest for c in shown) > width:
        droppable = [c for c in shown if c.priority > 1]
        if not droppable or not shown:
            return Plan(tuple(names), tuple(measures[name].natural for name in names), stacked=True)
        last = max(droppable, key=lambda c: (c.priority, shown.index(c)))
        shown.remove(last)
    if not shown:  # every row alike: nothing tells them apart in a table
        return Plan(tuple(names), tuple(measures[name].natural for name in names), stacked=True)
    widths = {c.name: measures[c.name].narrowest for c in shown}
    spare = width - table_width(widths.values())
    growing = [c.name for c in shown if c.wrap == "never"] + [c.name for c in shown]
    for name in growing:  # whole columns first (their headers unwrapped), then texts
        grow = min(spare, measures[name].natural - widths[name])
        if grow > 0:
            widths[name] += grow
            spare -= grow
    empty = [c.name for c in columns if c not in shown and _empty(c, columns, cells)]
    gone = {name for name, _ in same} | set(empty)
    left = [c for c in columns if c not in shown and c.name not in gone]
    return Plan(
        tuple(c.name for c in shown),
        tuple(widths[c.name] for c in shown),
        below=tuple(c.name for c in left if c.below),
        hidden=tuple(c.name for c in left if not c.below),
        same=tuple(same),
        empty=tuple(empty),
    )


EMPTY = frozenset({"", "-"})
"""What an empty cell shows."""


def alike(cells: Sequence[Sequence[str]]) -> dict[int, str]:
    """The columns (by position) in which every row holds the same value, with that value: a
    table says such a value once, above its rows, and leaves out a column whose value is empty
    (in EMPTY). A single row is alike only in its empty columns (its values are its own)."""
    found: dict[int, str] = {}
    for index in range(len(cells[0]) if cells else 0):
        values = {row[index] for row in cells}
        if len(values) == 1 and (len(cells) > 1 or values <= EMPTY):
            found[index] = values.pop()
    return found


def _empty(column: Column, columns: Sequence[Column], cells: Sequence[Sequence[str]]) -> bool:
    index = list(columns).index(column)
    return all(row[index] in EMPTY for row in cells)


REPORT_LAYOUTS = {"status": STATUS, "audit": AUDIT, "pending": PENDING}
"""The rules of each report's table, by the report's command."""
