"""Renderers: rows of plain values to a terminal table, JSON or CSV (HTML is in `html`)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


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


KEEP_WHOLE = frozenset({"session", "when", "since", "step"})
"""Columns never folded across lines: a session key or a time must stay greppable in a log."""


def table(
    console: Console,
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    empty: str = "nothing recorded yet",
) -> None:
    """Rows as a terminal table with the given columns; an empty list says `empty`."""
    if not rows:
        console.print(f"{title}: {empty}", markup=False)
        return
    grid = Table(title=title, title_justify="left")
    for column in columns:
        numeric = all(isinstance(row.get(column), int) for row in rows)
        widest = max(len(_cell(row.get(column))) for row in rows)
        grid.add_column(
            column.replace("_", " "),
            justify="right" if numeric else "left",
            overflow="fold",  # never truncate a key or an error: a log must keep it all
            min_width=widest if column in KEEP_WHOLE else None,
        )
    for row in rows:
        grid.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(grid)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_cell(item)}" for key, item in value.items())
    return str(value)


def history_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Events as one readable line each: when, file, what, who@where, operation, details."""
    lines = []
    for row in rows:
        who = f"{row['os_user']}@{row['host']}"
        if row["alyx_user"]:
            who += f" (alyx {row['alyx_user']})"
        file = f"{row['file']}  " if row.get("file") else ""
        details = _cell(row["details"])
        lines.append(
            f"{row['timestamp'][:19]}  {file}{row['event']} [{row['kind']}]  {who}  "
            f"op {row['operation_id'][:8]}  {details}".rstrip()
        )
    return lines
