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
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from .report_model import EventGroup, Report, Timeline, is_failure
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

STEP_COLUMN = "step"
"""A report with this column lists numbered steps in the order they will run (pending): its rows
keep that order. Every other report lists things as they happened, and the page shows them newest
first with a switch to oldest first."""

LONG_TEXT = 120
"""Characters beyond which a cell shows three lines and opens on a click to show the rest."""

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
"""An eid or another id: never broken across lines (it is copied whole)."""

TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d")

SHORT_WORDS = 32
"""Characters of the longest value of a column of words (user, host, state; no path)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and TIME.match(value) is not None


def _is_word(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= SHORT_WORDS and "/" not in value


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and " " not in value


COLUMN_KINDS: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("num", _is_number),
    ("uid", _is_id),
    ("time", _is_time),
    ("word", _is_word),
    ("path", _is_path),
)
"""How a table column is laid out, by what all its (present) values are; the first row that fits
wins, and a column that fits none is text. num: right-aligned digits; id: the first characters
of an eid (uid) on one line, the whole eid selected by one click; time: never wrapped; word: a few
short words (a user, a host, a state), wrapped between words only. Text (paths, errors,
summaries) wraps anywhere it must, so a long word cannot push the table past the window; a path
(no spaces) breaks after its slashes, its file name kept whole when the width allows."""

STYLE = """
:root{--intent:#1d4ed8;--outcome:#15803d;--fact:#6b7280;--fail:#b91c1c;--line:#d1d5db;
--mono:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
body{font:14px/1.45 system-ui,sans-serif;margin:1rem;color:#111827}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:0 0 .2rem}
.meta,.heading{color:#4b5563;margin:.1rem 0}.heading b,.meta b{font-weight:600;color:#111827}
table{border-collapse:separate;border-spacing:0;width:100%;margin:1rem 0 2rem}
th,td{border-bottom:1px solid var(--line);padding:.2rem .4rem;text-align:left;
vertical-align:top;overflow-wrap:break-word}td:is(.text,.path){overflow-wrap:anywhere}
td{font-size:13px}th{background:#f3f4f6;font-size:12px;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.time,time{white-space:nowrap;font-variant-numeric:tabular-nums}
.id{font:13px var(--mono);white-space:nowrap;display:inline-block;max-width:100%;
overflow:hidden;text-overflow:ellipsis;vertical-align:top;user-select:all}
#rows .id{max-width:9ch}.key{white-space:nowrap}
.clip{max-width:32rem}.clip>summary{display:-webkit-box;-webkit-box-orient:vertical;
-webkit-line-clamp:3;overflow:hidden;overflow-wrap:anywhere;cursor:pointer}
.clip[open]>summary{display:block}.error,tr.failed{color:var(--fail)}.error{font-weight:600}
.transfer-confirmed,.outcome-done{color:var(--outcome)}
.transfer-requested,.transfer-emitted,.outcome-queued{color:#b45309}
.transfer-stalled,.outcome-failed{color:var(--fail);font-weight:600}
.order{margin:.4rem 0}.order label{cursor:pointer}
ol.timed,div.timed{display:flex;flex-direction:column}
body:has(#oldest:checked) :is(ol,div).timed{flex-direction:column-reverse}
body:has(#oldest:checked) table.timed>tbody,
body:has(#oldest:checked) table.timed>tbody>tr{transform:scaleY(-1)}
section.timeline{margin:0 0 1.5rem}
ol.files{list-style:none;margin:0;padding:0}
.timeline details>summary{cursor:pointer;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}
table.events{width:auto;margin:.15rem 0 .5rem 1rem;border-left:2px solid var(--line)}
.events td{border:0;padding:0 .4rem}.events td:first-child{white-space:nowrap}
.events td:nth-child(2){font-weight:600}.events td:nth-child(3){overflow-wrap:anywhere}
.events td:last-child{color:#6b7280;font-size:.85rem;white-space:nowrap}
.intent{--c:var(--intent)}.outcome{--c:var(--outcome)}.fact{--c:var(--fact)}
.failed{--c:var(--fail)}
summary>b{display:inline-block;min-width:5rem;text-align:center;border-radius:.6rem;
padding:0 .4rem;font-size:.75rem;font-weight:600;color:#fff;background:var(--c)}
.events td:first-child::before{content:"";display:inline-block;width:.55rem;height:.55rem;
border-radius:50%;margin-right:.4rem;background:var(--c)}
summary>code{font:13px var(--mono)}summary>small{color:#6b7280;font-size:.85rem}
""".strip()


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
        _header(report, switch=timed or bool(report.timelines)),
        "<main>",
        _table(report.columns, report.rows, links, bool(report.filters), timed),
        _timelines(placed, timed),
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


def column_kind(values: Iterable[Any]) -> str:
    """The first kind of COLUMN_KINDS that all present values fit, else 'text'."""
    present = [value for value in values if value is not None]
    for kind, fits in COLUMN_KINDS:
        if present and all(fits(value) for value in present):
            return kind
    return "text"


def _table(
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
    links: dict[str, str],
    filtered: bool,
    timed: bool,
) -> str:
    kinds = {column: column_kind(row.get(column) for row in rows) for column in columns}
    head = "".join(
        f"<th{_class_attribute(['num'] if kinds[column] == 'num' else [])}>{_label(column)}</th>"
        for column in columns
    )
    if rows:
        shown = list(reversed(rows)) if timed else list(rows)  # newest first
        body = "\n".join(
            "<tr>"
            + "".join(_td(column, row.get(column), kinds[column], links) for column in columns)
            + "</tr>"
            for row in shown
        )
    else:
        empty = "Nothing matches these filters." if filtered else "Nothing recorded yet."
        body = f'<tr><td colspan="{max(len(columns), 1)}">{empty}</td></tr>'
    table_class = ' class="timed"' if timed else ""
    return (
        f'<table id="rows"{table_class}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n'
        "</tbody>\n</table>"
    )


def _td(column: str, value: Any, kind: str, links: dict[str, str]) -> str:
    linked = column in LINKED_COLUMNS
    classes = ["key" if linked else kind]  # a session key: on one line, a link
    if column == "last_error" and value:
        classes.append("error")
    if column in VALUE_CLASS_COLUMNS and value is not None:
        classes.append(f"{column}-{_slug(str(value))}")
    if kind in ("text", "word", "path") and not linked:
        text = _prose(_text(value))
    else:
        text = _ids(escape(_text(value)), titled=True)
    if linked and isinstance(value, str) and value in links:
        text = f'<a href="#{links[value]}">{text}</a>'
    return f"<td{_class_attribute(classes)}>{text}</td>"


def _prose(text: str) -> str:
    """Free text for a table cell: breakable, its ids kept whole (with a tooltip), and folded to
    three lines when long (a click on it shows the rest; no script)."""
    shown = _ids(_breakable(text), titled=True)
    if len(text) > LONG_TEXT:
        return f'<details class="clip"><summary>{shown}</summary></details>'
    return shown


def _breakable(text: str) -> str:
    """Escaped text where a line may break after a slash (paths) and before the name of an event
    (`Dataset.<wbr>Registered`)."""
    return re.sub(r"\.(?=[A-Z])", ".<wbr>", escape(text).replace("/", "/<wbr>"))


def _ids(escaped: str, *, titled: bool = False) -> str:
    """Escaped text with each id in a span that keeps it on one line and selects it whole on a
    click, so copying takes all of it; `titled`: where the table shows only its first
    characters, a tooltip shows the whole id too."""

    def span(found: re.Match[str]) -> str:
        title = f' title="{found.group()}"' if titled else ""
        return f'<span class="id"{title}>{found.group()}</span>'

    return UUID.sub(span, escaped)


def _class_attribute(classes: Sequence[str]) -> str:
    return f' class="{" ".join(classes)}"' if classes else ""


def _timelines(placed: Sequence[tuple[Timeline, str]], timed: bool) -> str:
    """The sessions' timelines in the table's order: newest first when it lists things as they
    happened (the switch turns both around), else as given."""
    if not placed:
        return ""
    shown = reversed(placed) if timed else iter(placed)
    sections = "\n".join(_timeline(timeline, anchor) for timeline, anchor in shown)
    return f'<div class="timelines{" timed" if timed else ""}">\n{sections}\n</div>'


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

    The events are rows of a small table (time, event, summary, who): aligned, and a third of the
    bytes of styled spans. Cells and rows are left open, as HTML allows, for the same reason.
    """
    latest = group.latest
    name = latest.event.rpartition(".")[2]
    count = len(group.events)
    noun = "event" if count == 1 else "events"
    rows = "\n".join(_entries(group.events))  # the browser adds the <tbody>
    return (
        f"<details><summary><code>{escape(what)}</code>"
        f' <b class="{_state(latest)}">{escape(name)}</b> {_time(latest.recorded_at)}'
        f" {_ids(escape(latest.summary))} <small>· {count} {noun}</small></summary>\n"
        f'<table class="events timed">\n{rows}\n</table></details>'
    )


def _state(event: AuditEntry) -> str:
    """The classes that colour an event: its kind, and `failed` for a failure."""
    kind = _slug(event.kind)
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
            f"<td>{escape(event.event.rpartition('.')[2])}<td>{_ids(escape(event.summary))}"
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


def _kv(key: str, value: Any, *, error: bool = False) -> str:
    """`name: <b>value</b>`: a label and its value (an error in red)."""
    shown = f"<b>{_ids(_breakable(_text(value)))}</b>"
    if error:
        shown = f'<span class="error">{shown}</span>'
    return f"{_label(key)}: {shown}"


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


def _slug(text: str) -> str:
    """Text made safe as part of a class name: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "none"
