"""A report as one self-contained HTML file: the table, then a timeline per session.

Why self-contained: the file is mailed to a colleague or archived with a rig's logs, and opened
months later on a machine that may have no network at all (a rig at 2 a.m.). So it carries its
own style, loads nothing (no fonts, CDN, images or scripts; a Content-Security-Policy says so to
the browser too) and needs no JavaScript: `<details>` folds what is long.

Everything taken from the ledger is escaped: session keys, file names and error messages are
written by people and programs we do not control. The output depends on the `Report` alone, so the
same report renders to the same bytes (tests and archives compare them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from .report_model import Report, Timeline
from .rows import AuditEntry

EMPTY = "–"
"""How a missing value (None) shows: an en dash, visibly not the text 'None' nor a blank."""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""Nothing is loaded and no script runs; the inline style applies.

`img-src data:` lets the empty `data:,` favicon through: without it the browser would ask the
server (or file system) for /favicon.ico, and with `default-src 'none'` alone Chromium logs the
blocked favicon as a console error.
"""

LINKED_COLUMNS = ("session",)
"""Table columns whose cell links to that session's timeline, when the report has one."""

VALUE_CLASS_COLUMNS = ("transfer", "outcome")
"""Table columns whose cells get a class by value (e.g. `transfer-stalled`), for colour."""

STYLE = """
:root{--intent:#1d4ed8;--outcome:#15803d;--fact:#6b7280;--fail:#b91c1c;--line:#d1d5db}
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#111827}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:0 0 .2rem}
.meta,.heading{color:#4b5563;margin:.1rem 0}
.kv{margin-right:.9rem}.kv b{font-weight:600}
table{border-collapse:collapse;margin:1rem 0 2rem}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}.num{text-align:right;font-variant-numeric:tabular-nums}
.error{color:var(--fail);font-weight:600}
.transfer-confirmed,.outcome-done{color:var(--outcome)}
.transfer-requested,.transfer-emitted,.outcome-queued{color:#b45309}
.transfer-stalled,.outcome-failed{color:var(--fail);font-weight:600}
section.timeline{margin:0 0 2rem}
ol.events{list-style:none;margin:.6rem 0 0 .4rem;padding:0 0 0 1.1rem;
border-left:2px solid var(--line)}
li.entry{position:relative;margin:0 0 .7rem;--c:var(--fact)}
li.entry::before{content:"";position:absolute;left:-1.55rem;top:.35rem;width:.7rem;
height:.7rem;border-radius:50%;background:var(--c)}
li.kind-intent{--c:var(--intent)}li.kind-outcome{--c:var(--outcome)}
li.entry.failed{--c:var(--fail);color:var(--fail)}
.badge{display:inline-block;min-width:3.6rem;text-align:center;border-radius:.6rem;
padding:0 .4rem;margin:0 .4rem;font-size:.75rem;color:#fff;background:var(--c)}
time,.op{font-variant-numeric:tabular-nums;color:#4b5563}
.event{font-weight:600}.file{font-family:ui-monospace,monospace}
.summary{margin-left:.2rem}.who{display:block;color:#6b7280;font-size:.85rem}
details.more{font-size:.85rem}details.more summary{color:#6b7280;cursor:pointer}
details.more code{white-space:pre-wrap}
""".strip()


def render_html(report: Report) -> str:
    """The whole report as one HTML5 document (a string; the caller writes it where it wants)."""
    placed = list(zip(report.timelines, _anchors(report.timelines), strict=True))
    links: dict[str, str] = {}
    for timeline, anchor in placed:
        links.setdefault(timeline.session, anchor)  # a session listed twice links to the first
    parts = [
        _head(report.title),
        "<body>",
        _header(report),
        "<main>",
        _table(report.columns, report.rows, links, bool(report.filters)),
        *(_timeline(timeline, anchor) for timeline, anchor in placed),
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


def _header(report: Report) -> str:
    meta = (
        f'<p class="meta">Generated {_time(report.generated_at)}'
        f" from <code>{escape(report.source)}</code></p>"
    )
    filters = ""
    if report.filters:
        items = "".join(_kv(key, value) for key, value in report.filters.items())
        filters = f'\n<p class="meta filters">Filters: {items}</p>'
    return f"<header>\n<h1>{escape(report.title)}</h1>\n{meta}{filters}\n</header>"


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
    columns: Sequence[str], rows: Sequence[dict[str, Any]], links: dict[str, str], filtered: bool
) -> str:
    numeric = {column for column in columns if _is_numeric(row.get(column) for row in rows)}
    head = "".join(
        f"<th{_class_attribute(['num'] if column in numeric else [])}>{_label(column)}</th>"
        for column in columns
    )
    if rows:
        body = "\n".join(
            "<tr>"
            + "".join(_td(column, row.get(column), numeric, links) for column in columns)
            + "</tr>"
            for row in rows
        )
    else:
        empty = "Nothing matches these filters." if filtered else "Nothing recorded yet."
        body = f'<tr><td colspan="{max(len(columns), 1)}">{empty}</td></tr>'
    return f'<table id="rows">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _is_numeric(values: Iterable[Any]) -> bool:
    """True for a column of numbers (missing cells aside), which then aligns right."""
    present = [value for value in values if value is not None]
    return bool(present) and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in present
    )


def _td(column: str, value: Any, numeric: set[str], links: dict[str, str]) -> str:
    classes = []
    if column in numeric:
        classes.append("num")
    if column == "last_error" and value:
        classes.append("error")
    if column in VALUE_CLASS_COLUMNS and value is not None:
        classes.append(f"{column}-{_slug(str(value))}")
    text = escape(_text(value))
    if column in LINKED_COLUMNS and isinstance(value, str) and value in links:
        text = f'<a href="#{links[value]}">{text}</a>'
    return f"<td{_class_attribute(classes)}>{text}</td>"


def _class_attribute(classes: Sequence[str]) -> str:
    return f' class="{" ".join(classes)}"' if classes else ""


def _timeline(timeline: Timeline, anchor: str) -> str:
    heading = "".join(
        _kv(key, value, error=key == "last_error" and bool(value))
        for key, value in timeline.heading.items()
        if key not in ("session", "key")  # the <h2> already says it
    )
    if timeline.events:
        events = "\n".join(_entry(event) for event in timeline.events)
        body = f'<ol class="events">\n{events}\n</ol>'
    else:
        body = '<p class="no-events">No events recorded for this session.</p>'
    heading_line = f'<p class="heading">{heading}</p>\n' if heading else ""
    return (
        f'<section class="timeline" id="{anchor}">\n'
        f"<h2>{escape(timeline.session)}</h2>\n{heading_line}{body}\n</section>"
    )


def _entry(event: AuditEntry) -> str:
    """One event as a line of the timeline: when, what kind, what, which file, who."""
    failed = event.kind == "outcome" and event.event.endswith("Failed")
    kind = _slug(event.kind)
    classes = f"entry kind-{kind}" + (" failed" if failed else "")
    badge = "failure" if failed else event.kind
    file = f' <span class="file">{escape(event.file)}</span>' if event.file else ""
    who = f"{event.os_user}@{event.host}"
    if event.alyx_user:
        who = f"alyx {event.alyx_user} · {who}"
    more = ""
    if event.details:
        more = (
            '\n<details class="more"><summary>details</summary>'
            f"<code>{escape(_compact_json(event.details))}</code></details>"
        )
    return (
        f'<li class="{classes}">{_time(event.recorded_at)}'
        f'<span class="badge">{escape(badge)}</span>'
        f'<span class="event">{escape(event.event)}</span>{file}'
        f' <span class="summary">{escape(event.summary)}</span>'
        f'<span class="who">{escape(who)}'
        f' · <span class="op">op {escape(event.operation_id[:8])}</span></span>{more}</li>'
    )


def _time(stamp: str) -> str:
    """An ISO 8601 instant as `YYYY-MM-DD HH:MM:SS UTC` (the raw text if it does not parse)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return f"<time>{escape(stamp)}</time>"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the ledger records UTC
    shown = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f'<time datetime="{escape(stamp)}">{shown}</time>'


def _kv(key: str, value: Any, *, error: bool = False) -> str:
    css = "kv error" if error else "kv"
    return f'<span class="{css}"><b>{_label(key)}:</b> {escape(_text(value))}</span>'


def _label(column: str) -> str:
    return escape(column.replace("_", " "))


def _text(value: Any) -> str:
    """A value as short text: None as a dash, dicts as `k=v, …`, lists comma-separated."""
    if value is None:
        return EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{key}={_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), default=str, ensure_ascii=False)


def _slug(text: str) -> str:
    """Text made safe as part of a class name: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "none"
