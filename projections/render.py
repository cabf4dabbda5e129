"""Renderers: rows of plain values to a terminal table, JSON or CSV (HTML is in `html`)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from .table_layout import Column, plan, resolve, table_width


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as a JSON list; UUIDs and other values as their text.

    Always valid JSON: a non-finite number (inf, nan; refused since, but an old ledger may hold
    one) is written as its text, "inf" or "nan", where Python would write the invalid `Infinity`.
    """
    return json.dumps(
        _finite(list(rows)), indent=2, default=str, ensure_ascii=False, allow_nan=False
    )


def _finite(value: Any) -> Any:
    """`value` with every non-finite float inside it (dicts, lists, tuples) as its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header of the column names, for a spreadsheet or a script.

    None is an empty cell (a spreadsheet's own "nothing"); dicts and lists are compact JSON so a
    script can parse them back; lines end in `\\n` whatever the platform, so files compare.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return json.dumps(
            _finite(value), separators=(",", ":"), default=str, ensure_ascii=False, allow_nan=False
        )
    return str(value)


ALL_COLUMNS = 100_000
"""A console this wide (`--wide`) shows every column of a table, whatever the terminal's width."""


def show_all_columns(console: Console) -> None:
    """`--wide`: tables on this console show every column, each cell whole (lines may be longer
    than the terminal; `less -S` scrolls them)."""
    console.width = ALL_COLUMNS


def table_budget(console: Console) -> int | None:
    """The characters a table may use: the terminal's width (or COLUMNS), None for no limit.

    A pipe or a file has no width (unless COLUMNS gives one): a log or `grep` gets every column
    and each row on one line rather than cells folded to a made-up width.
    """
    if console.width >= ALL_COLUMNS:
        return None
    if not console.is_terminal and "COLUMNS" not in os.environ:
        return None
    return console.width


def table(
    console: Console,
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    empty: str = "nothing recorded yet",
    layout: Mapping[str, Column] | None = None,
    row_line: Callable[[Sequence[str]], str] | None = None,
) -> None:
    """Rows as a terminal table with the given columns; an empty list says `empty`.

    `layout` holds the report's column rules (`table_layout`); a column without one follows the
    common rules. The table fits the terminal without splitting an eid, key, path or time. When
    no table fits, each row is a block of "column value" lines, or, with `row_line` (the row's
    cells -> one line, e.g. `key = value  (source)`), that line, wrapped between words.
    """
    if not rows:
        console.print(f"{title}: {empty}", markup=False)
        return
    rules = resolve(columns, layout)
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    budget = table_budget(console)
    layout_plan = plan(rules, cells, budget)
    if layout_plan.stacked and row_line is not None:
        console.print(title, markup=False)
        print_lines(console, [row_line(row) for row in cells])
        return
    if layout_plan.stacked:
        _stacked(console, title, rules, cells, budget)
        return
    index = {name: position for position, name in enumerate(columns)}
    console.print(title, markup=False)
    if layout_plan.same:  # said once, above the rows they are true of
        alike = [f"{name.replace('_', ' ')} {value}" for name, value in layout_plan.same]
        for line in packed(_listing("every row:", alike, ";", ""), budget):
            console.print(line, markup=False)
    grid = Table(width=table_width(layout_plan.widths))
    for name, width in zip(layout_plan.shown, layout_plan.widths, strict=True):
        numeric = all(_is_count(row.get(name)) for row in rows)
        grid.add_column(
            name.replace("_", " "),
            justify="right" if numeric else "left",
            width=width,
            overflow="fold",  # never reached: a width never cuts a word (see table_layout)
        )
    for row in cells:
        grid.add_row(*(row[index[name]] for name in layout_plan.shown))
    console.print(grid, crop=False)
    for name in layout_plan.below:
        _listed_below(console, name, layout_plan.shown[0], index, cells, budget)
    notes = [
        (what, [name.replace("_", " ") for name in names])
        for what, names in (
            (f"not shown at {budget} columns:", layout_plan.hidden),
            ("empty in every row:", layout_plan.empty),
        )
        if names
    ]
    items = [
        item
        for number, (what, names) in enumerate(notes)
        for item in _listing(what, names, ",", ";" if number < len(notes) - 1 else "")
    ]
    if items:
        for line in packed([*items, "(--wide shows every column)"], budget):
            console.print(line, markup=False, style="dim")


def _listed_below(
    console: Console,
    name: str,
    key: str,
    index: dict[str, int],
    cells: list[list[str]],
    budget: int | None,
) -> None:
    """A long text column that did not fit: its values under the table, by the row's key."""
    values = [(row[index[key]], row[index[name]]) for row in cells if row[index[name]] != "-"]
    if not values:
        return
    console.print(f"{name.replace('_', ' ')}:", markup=False)
    for row_key, value in values:
        for line in wrap_words(f"{row_key}: {value}", budget, indent=2, hanging=4):
            console.print(line, markup=False)


def _stacked(
    console: Console,
    title: str,
    rules: Sequence[Column],
    cells: list[list[str]],
    budget: int | None,
) -> None:
    """No table fits: every row as a block of "column  value" lines (empty values left out); a
    table of two columns (an item and its value) as one "item: value" line per row."""
    console.print(title, markup=False)
    if len(rules) == 2:
        for key, value in cells:
            for line in wrap_words(f"{key}: {value}", budget, indent=0, hanging=2):
                console.print(line, markup=False)
        return
    label_width = max(cell_len(rule.label) for rule in rules)
    for number, row in enumerate(cells, start=1):
        console.print(f"── {number} of {len(cells)} ──", markup=False, style="dim")
        for rule, value in zip(rules, row, strict=True):
            if value in ("-", ""):
                continue
            text = f"{rule.label.ljust(label_width)}  {value}"
            for line in wrap_words(text, budget, indent=0, hanging=label_width + 2):
                console.print(line, markup=False)


def print_lines(console: Console, lines: Sequence[str]) -> None:
    """Indented lines of text, each wrapped between words to the terminal (a pipe: unwrapped),
    continuing two columns further in than it starts."""
    budget = table_budget(console)
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        for part in wrap_words(line.lstrip(" "), budget, indent, indent + 2):
            console.print(part, markup=False)


def packed(items: Sequence[str], width: int | None) -> list[str]:
    """Items (a column's name and value, say) on as few lines as fit `width`, a space between
    them, never broken inside one (a time's date and hour, a column named in two words stay
    together) unless it is wider than a line on its own, and then only between its words;
    further lines are indented."""
    lines = [items[0]]
    for item in items[1:]:
        joined = f"{lines[-1]} {item}"
        if width is None or cell_len(joined) <= width:
            lines[-1] = joined
        elif cell_len(item) + 2 <= width:
            lines.append(f"  {item}")
        else:  # wider than a line on its own (a long error): between its words
            lines.extend(wrap_words(item, width, indent=2, hanging=4))
    return lines


def _listing(lead: str, items: Sequence[str], between: str, end: str) -> list[str]:
    """`lead` then the items, each but the last followed by `between`, the last by `end`."""
    return [lead, *(f"{item}{between}" for item in items[:-1]), f"{items[-1]}{end}"]


def wrap_words(text: str, width: int | None, indent: int, hanging: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken between words only: a word longer
    than a line (a long path) stays whole on a line of its own."""
    first = " " * indent
    if width is None:
        return [first + text]
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=" " * hanging,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first]
    # a word too long for an indented line starts at the first column: it may then still fit
    return [line.lstrip(" ") if cell_len(line) > width else line for line in lines]


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_cell(item)}" for key, item in value.items())
    return " ".join(str(value).split())


def history_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Events as one readable line each: when (UTC, as `audit` shows it), the file, what
    happened in words (the audit's summary of the event), who (OS user@host, Alyx user) and the
    operation. Every field of the event is in `history --json`; a line never dumps them."""
    from .reports import short_time  # the reports' domain imports only when history prints

    lines = []
    for row in rows:
        who = f"{row['os_user']}@{row['host']}"
        if row["alyx_user"]:
            who += f" (alyx {row['alyx_user']})"
        file = f"{row['file']}  " if row.get("file") else ""
        lines.append(
            f"{short_time(row['timestamp'])}  {file}{row['event']} [{row['kind']}]: "
            f"{row['summary']}  by {who}, op {row['operation_id'][:8]}"
        )
    return lines
