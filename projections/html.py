"""A report as one self-contained HTML file: the table, then a timeline per session.

Why self-contained: the file is mailed to a colleague or archived with a rig's logs, and opened
months later on a machine that may have no network at all (a rig at 2 a.m.). So it carries its
own style, loads nothing (no fonts, CDN, images or scripts; a Content-Security-Policy says so to
the browser too) and needs no JavaScript: `<details>` folds what is long, and a checkbox with CSS
turns the lists from newest first to oldest first.

Why this layout: a person reads it at a glance on a laptop. The page fits 1280 px: eids show
their first characters on one line (one click selects the whole eid, a tooltip shows it), long
errors show three lines and open on a click, paths break at their slashes. A session's timeline
is one line per file with its latest event, its history folded under it. The style is written
once in the head and rows carry only short class names, so 100 sessions stay a small file.

Everything taken from the ledger is escaped: session keys, file names and error messages are
written by people and programs we do not control. The output depends on the `Report` alone, so the
same report renders to the same bytes (tests and archives compare them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from .html_cells import (
    TEXT_KINDS,
    as_text,
    breakable,
    column_kind,
    ids,
    label,
    narrowest,
    prose,
    slug,
)
from .html_style import CSP, STYLE
from .report_model import EventGroup, Report, Timeline, is_failure
from .rows import AuditEntry
from .table_layout import EMPTY as EMPTY_CELLS
from .table_layout import alike

__all__ = ["CSP", "render_html"]

LINKED_COLUMNS = ("session",)
"""Table columns whose cell links to that session's timeline, when the report has one."""

VALUE_CLASS_COLUMNS = ("transfer", "outcome")
"""Table columns whose cells get a class by value (e.g. `transfer-stalled`), for colour."""

PAGE_CHARACTERS = 170
"""Characters of a table's text (13 px, about 7 px each) that a 1280-pixel window holds."""

CELL_PADDING = 2
"""Characters of space a table cell adds around its text."""

STEP_COLUMN = "step"
"""A report with this column lists numbered steps in the order they will run (pending): its rows
keep that order. Every other report lists things as they happened, and the page shows them newest
first with a switch to oldest first."""


def render_html(report: Report) -> str:
    """The whole report as one HTML5 document (a string; the caller writes it where it wants)."""
    placed = list(zip(report.timelines, _anchors(report.timelines), strict=True))
    links: dict[str, str] = {}
    for timeline, anchor in placed:
        links.setdefault(timeline.session, anchor)  # a session listed twice links to the first
    timed = STEP_COLUMN not in report.columns
    parts = [
        _head(report.title),
        "<body>",
        _header(report, switch=(timed and len(report.rows) > 1) or len(report.timelines) > 1),
        "<main>",
        *_table(report.columns, report.rows, links, report.empty, timed),
        _timelines(placed),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP, quote=False)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>\n{STYLE}\n</style>\n</head>"
    )


def _header(report: Report, *, switch: bool) -> str:
    meta = (
        f'<p class="meta">Generated {_time(report.generated_at)}'
        f" from <code>{escape(report.source)}</code>; times are UTC (Z).</p>"
    )
    filters = ""
    if report.filters:
        items = " · ".join(_kv(key, value) for key, value in report.filters.items())
        filters = f'\n<p class="meta filters">Filters: {items}</p>'
    order = ""
    if switch:
        order = (
            '\n<p class="order"><input type="checkbox" id="oldest">'
            ' <label for="oldest">oldest first</label> (otherwise newest first)</p>'
        )
    return f"<header>\n<h1>{escape(report.title)}</h1>\n{meta}{filters}{order}\n</header>"


def _anchors(timelines: Sequence[Timeline]) -> list[str]:
    """An element id per timeline: `t-` and a digest of the key, so any key gives a valid id.

    A session listed twice gets a numbered second id, so ids stay unique whatever the input.
    """
    anchors: list[str] = []
    seen: set[str] = set()
    for timeline in timelines:
        base = "t-" + hashlib.sha256(timeline.session.encode()).hexdigest()[:16]
        anchor, number = base, 1
        while anchor in seen:
            number += 1
            anchor = f"{base}-{number}"
        seen.add(anchor)
        anchors.append(anchor)
    return anchors


def _table(
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    links: dict[str, str],
    empty: str,
    timed: bool,
) -> list[str]:
    """The rows' table, and above it what every row holds alike (see `_alike`)."""
    alike_line, columns = _alike(columns, rows, links)
    kinds = {column: column_kind(row.get(column) for row in rows) for column in columns}
    whole = _keys_fit(columns, rows, kinds)
    head = "".join(
        f"<th{_class_attribute(['num'] if kinds[column] == 'num' else [])}>{label(column)}</th>"
        for column in columns
    )
    if rows:
        shown = list(reversed(rows)) if timed else list(rows)  # newest first
        body = "\n".join(
            "<tr>"
            + "".join(
                _td(column, row.get(column), kinds[column], links, whole) for column in columns
            )
            + "</tr>"
            for row in shown
        )
    else:
        said = escape(empty[:1].upper() + empty[1:]) + "."  # the terminal's words, as a sentence
        body = f'<tr><td colspan="{max(len(columns), 1)}">{said}</td></tr>'
    table_class = ' class="timed"' if timed else ""
    table = (
        f'<table id="rows"{table_class}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n'
        "</tbody>\n</table>"
    )
    return [alike_line, table] if alike_line else [table]


def _alike(
    columns: Sequence[str], rows: Sequence[dict[str, Any]], links: dict[str, str]
) -> tuple[str, list[str]]:
    """A line saying once the value every row holds (`session: x · who: y`) and naming the
    columns empty in every row, and the columns left for the table; the terminal tables decide
    the same way (`table_layout.alike`). A column the same in every row tells the rows nothing
    and takes width the names and errors need."""
    cells = [
        ["" if row.get(column) is None else as_text(row.get(column)) for column in columns]
        for row in rows
    ]
    found = alike(cells)
    same = [(columns[index], value) for index, value in found.items() if value not in EMPTY_CELLS]
    empty = [label(columns[index]) for index, value in found.items() if value in EMPTY_CELLS]
    said = [
        _kv(column, value, link=links.get(value) if column in LINKED_COLUMNS else None)
        for column, value in same
    ]
    parts = []
    if said:
        parts.append(f"Every row: {' · '.join(said)}.")
    if empty:
        parts.append(f"Empty in every row: {', '.join(empty)}.")
    line = f'<p class="meta alike">{" ".join(parts)}</p>' if parts else ""
    return line, [column for index, column in enumerate(columns) if index not in found]


def _keys_fit(
    columns: Sequence[str], rows: Sequence[dict[str, Any]], kinds: dict[str, str]
) -> bool:
    """True when the table fits the window with its session keys on one line: the narrowest
    part of every column (`narrowest`; a key whole), with its header, in PAGE_CHARACTERS.
    Otherwise keys break after their lab and subject (the audit's many columns need it)."""
    widths = [
        max(
            [
                len(label(column)),
                *(
                    len(as_text(row.get(column)))
                    if column in LINKED_COLUMNS
                    else narrowest(row.get(column), kinds[column])
                    for row in rows
                ),
            ]
        )
        + CELL_PADDING
        for column in columns
    ]
    return sum(widths) <= PAGE_CHARACTERS


def _td(column: str, value: Any, kind: str, links: dict[str, str], whole: bool) -> str:
    linked = column in LINKED_COLUMNS
    classes = ["key" if linked else kind]  # a session key: a link, broken only after a slash
    if linked and whole:
        classes.append("w")  # on one line, when the table has room
    if column == "last_error" and value:
        classes.append("error")
    if column in VALUE_CLASS_COLUMNS and value is not None:
        classes.append(f"{column}-{slug(str(value))}")
    if linked:
        text = ids(escape(as_text(value))) if whole else _key(as_text(value))
    elif kind in TEXT_KINDS:
        text = prose(as_text(value))
    else:
        text = ids(escape(as_text(value)), titled=True)
    if linked and isinstance(value, str) and value in links:
        text = f'<a href="#{links[value]}">{text}</a>'
    return f"<td{_class_attribute(classes)}>{text}</td>"


def _key(key: str) -> str:
    """A session key that may break after its lab and its subject, never inside its date and
    number (`cortexlab/algernon/` over `2026-11-21/001`): the table's narrowest column of keys."""
    parts = key.rsplit("/", 2)
    if len(parts) < 3:
        return breakable(key)
    date_number = escape(f"{parts[1]}/{parts[2]}")
    return f'{breakable(parts[0] + "/")}<wbr><span class="w">{date_number}</span>'


def _class_attribute(classes: Sequence[str]) -> str:
    return f' class="{" ".join(classes)}"' if classes else ""


def _timelines(placed: Sequence[tuple[Timeline, str]]) -> str:
    """The sessions' timelines, newest first (they come oldest first); the switch turns them
    around. Also under pending's numbered steps: sessions are no steps."""
    if not placed:
        return ""
    sections = "\n".join(_timeline(timeline, anchor) for timeline, anchor in reversed(placed))
    return f'<div class="timelines timed">\n{sections}\n</div>'


def _timeline(timeline: Timeline, anchor: str) -> str:
    heading = " · ".join(
        _kv(key, value, error=key == "last_error" and bool(value))
        for key, value in timeline.heading.items()
        if key not in ("session", "key")  # the <h2> already says it
    )
    own, files = timeline.groups()
    parts = []
    if own is not None:
        parts.append(_group(own, "session"))
    if files:
        items = "\n".join(f"<li>{_group(group, group.file)}</li>" for group in files)
        parts.append(f'<ol class="files timed">\n{items}\n</ol>')
    if not parts:
        parts.append('<p class="no-events">No events recorded for this session.</p>')
    heading_line = f'<p class="heading">{heading}</p>\n' if heading else ""
    return (
        f'<section class="timeline" id="{anchor}">\n'
        f"<h2>{escape(timeline.session)}</h2>\n{heading_line}" + "\n".join(parts) + "\n</section>"
    )


def _group(group: EventGroup, what: str) -> str:
    """One line: the file (or session), its latest event and when; its events folded below.

    The events are rows of a small table (time, event, summary, who): aligned, and fewer bytes
    than styled spans. Cells and rows are left open, as HTML allows, for the same reason.
    """
    latest = group.latest
    name = latest.event.rpartition(".")[2]
    count = len(group.events)
    noun = "event" if count == 1 else "events"
    rows = "\n".join(_entries(group.events))  # the browser adds the <tbody>
    return (
        f"<details><summary><code>{escape(what)}</code>"
        f' <b class="{_state(latest)}">{escape(name)}</b> {_time(latest.recorded_at)}'
        f" {ids(escape(latest.summary))} <small>· {count} {noun}</small></summary>\n"
        f'<table class="events timed">\n{rows}\n</table></details>'
    )


def _state(event: AuditEntry) -> str:
    """The classes that colour an event: its kind, and `failed` for a failure."""
    kind = slug(event.kind)
    return f"{kind} failed" if is_failure(event) else kind


def _entries(events: Sequence[AuditEntry]) -> list[str]:
    """A row per event: when, what (the group names the file or session, so `Registered` rather
    than `Dataset.Registered`), its summary, and who: the Alyx user, else the OS user (as the
    audit table says it), the host and the first characters of the operation id. Who is written
    once for the events of one operation that follow each other: they share it."""
    rows = []
    previous = ""
    for event in events:
        who = f"{event.alyx_user or event.os_user}@{event.host} · op {event.operation_id[:8]}"
        rows.append(
            f'<tr class="{_state(event)}"><td>{_stamp(event.recorded_at)}'
            f"<td>{escape(event.event.rpartition('.')[2])}<td>{breakable(event.summary)}"
            f"<td>{escape(who) if who != previous else ''}"
        )
        previous = who
    return rows


def _time(stamp: str) -> str:
    """An instant in a `<time>` element (its text is a valid HTML date-time: no attribute)."""
    return f"<time>{_stamp(stamp)}</time>"


def _stamp(stamp: str) -> str:
    """An ISO 8601 instant as `YYYY-MM-DD HH:MM:SSZ`, as the terminal shows it (the raw text,
    escaped, if it does not parse)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return escape(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the ledger records UTC
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _kv(key: str, value: Any, *, error: bool = False, link: str | None = None) -> str:
    """`name: <b>value</b>`: a label and its value (an error in red; `link`: to that anchor)."""
    shown = f"<b>{breakable(as_text(value))}</b>"
    if link:
        shown = f'<a href="#{link}">{shown}</a>'
    if error:
        shown = f'<span class="error">{shown}</span>'
    return f"{label(key)}: {shown}"
