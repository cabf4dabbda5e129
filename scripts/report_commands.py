"""`labledger status | audit | pending | replay | project`: the reports and their read models
(their arguments are in `report_arguments`).

Every report first catches the views up with the log (only the events since the last report are
folded), then prints a terminal table, or writes JSON, CSV or one self-contained HTML page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..adapters.filesystem.user_dirs import expand_user
from ..domain.errors import LabledgerError
from ..projections.words import plural
from .options import say
from .output_flags import apply_wide

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.database.views import Views
    from ..adapters.settings import Settings
    from ..projections.report_model import Report, Timeline
    from ..projections.rows import AuditEntry, SessionRow


def run_status(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..projections.reports import STATUS_COLUMNS, timelines

    _check_output(args)
    views = _views(settings)
    rows = _status_of(views, _chosen(views, args.sessions))
    entries = _entries(views, args, [row["session_id"] for row in rows])
    report = _report(settings, "status", STATUS_COLUMNS, rows, timelines(rows, entries))
    return _emit(console, args, report)


def run_pending(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..projections.reports import PENDING_COLUMNS, pending_rows, timelines

    _check_output(args)
    views = _views(settings)
    all_sessions = views.sessions()
    intents = views.intents()
    if args.sessions:
        wanted = {session.id for session in _chosen(views, args.sessions, all_sessions)}
        intents = [intent for intent in intents if intent.session_id in wanted]
    rows = pending_rows(intents, all_sessions)
    involved = {row["session_id"] for row in rows if row["session_id"]}
    headings = _status_of(views, [s for s in all_sessions if s.id in involved])
    entries = _entries(views, args, sorted(involved))
    report = _report(settings, "pending", PENDING_COLUMNS, rows, timelines(headings, entries))
    if not rows and not (args.json or args.csv or args.html):
        say(console, report.empty)
        return 0
    return _emit(console, args, report)


def run_audit(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..projections.audit_query import AuditQuery
    from ..projections.reports import AUDIT_COLUMNS, audit_rows, timelines

    if args.limit is not None and args.limit < 1:
        raise LabledgerError(f"--limit {args.limit} must be at least 1")
    _check_output(args)
    views = _views(settings)
    all_sessions = views.sessions()
    chosen = _chosen(views, args.session, all_sessions) if args.session else []
    query = AuditQuery(
        session_ids=tuple(session.id for session in chosen),
        subjects=tuple(args.subject),
        users=tuple(args.user),
        since=utc_bound(args.since, "--since", end_of_day=False),
        until=utc_bound(args.until, "--until", end_of_day=True),
        kinds=tuple(args.kind),
        limit=args.limit,
    )
    entries = views.audit(query)
    involved = {entry.session_id for entry in entries if entry.session_id}
    headings = _status_of(views, [s for s in all_sessions if s.id in involved])
    filters = {
        name: ", ".join(values)
        for name, values in (
            ("session", args.session),
            ("subject", args.subject),
            ("user", args.user),
            ("since", [args.since] if args.since else []),
            ("until", [args.until] if args.until else []),
            ("kind", args.kind),
            ("limit", [str(args.limit)] if args.limit else []),
        )
        if values
    }
    report = _report(
        settings,
        "audit",
        AUDIT_COLUMNS,
        audit_rows(entries),
        timelines(headings, entries),
        filters,
    )
    return _emit(console, args, report)


def run_replay(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    views = _views(settings, catch_up=False)
    started = time.perf_counter()
    position = views.replay()
    seconds = time.perf_counter() - started
    say(
        console,
        f"read models rebuilt from the log: position {position}, in {seconds:.2f} s",
    )
    return 0


def run_project(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from ..adapters.database.event_store import describe_store

    if args.follow:
        from ..adapters.database.follow import check_followable  # only --follow needs it

        check_followable(settings)
    views = _views(settings, catch_up=False)
    before = views.position()
    position = views.catch_up()
    folded = plural(position - before, "event")
    say(console, f"read models at position {position} ({folded} folded)")
    if not args.follow:
        return 0
    from ..adapters.database.follow import follow  # imported here: only --follow needs it

    def started(position: int) -> None:
        say(
            console,
            f"following {describe_store(settings)} from position {position}; stop with Ctrl-C",
        )

    reached = follow(settings, args.timeout, started)
    say(console, f"stopped at position {reached.position}")
    return 130 if reached.interrupted else 0  # interrupted, as every command: README's exit codes


# -- helpers ---------------------------------------------------------------------------------

EMPTY = {"pending": "nothing pending: sync has nothing to do"}
"""What a report without rows says (in the terminal and in its HTML page), where "nothing
recorded yet" would mislead: a ledger with nothing pending may hold many events."""
FILTERED = "nothing matches these filters"
"""What a report without rows says when the operator filtered it."""


def _views(settings: Settings, catch_up: bool = True) -> Views:
    from ..adapters.database.event_store import open_ledger, settings_to_read
    from ..adapters.database.views import open_views

    settings = settings_to_read(settings)  # a report never creates a ledger
    views = open_views(settings, open_ledger(settings))
    if catch_up:
        views.catch_up()
    return views


def _status_of(views: Views, sessions: list[SessionRow]) -> list[dict[str, Any]]:
    """The status rows of these sessions: the table of `status`, the timelines' headings."""
    from ..projections.reports import status_rows

    ids = [session.id for session in sessions]
    return status_rows(sessions, views.datasets(ids), views.intents()) if ids else []


def _chosen(
    views: Views, wanted: Sequence[str], sessions: list[SessionRow] | None = None
) -> list[SessionRow]:
    from ..projections.selection import select_sessions

    every = views.sessions() if sessions is None else sessions
    if not wanted:
        return every
    paths = [expand_user(Path(text)) for text in wanted]
    folders = frozenset(text for text, path in zip(wanted, paths, strict=True) if path.is_dir())
    chosen = [(path.absolute(), path.resolve()) for path in paths]
    return select_sessions(every, wanted, chosen, folders)


def _entries(
    views: Views, args: argparse.Namespace, session_ids: Sequence[str]
) -> list[AuditEntry]:
    """The audit entries the HTML timelines need (none for other formats)."""
    from ..projections.audit_query import AuditQuery

    if not args.html or not session_ids:
        return []
    return views.audit(AuditQuery(session_ids=tuple(session_ids)))


def utc_bound(text: str | None, option: str, end_of_day: bool) -> str | None:
    """An operator's time (ISO date or date-time; local unless it has an offset) as UTC ISO."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise LabledgerError(
            f"{option} {text!r} is not an ISO date or time; write e.g. 2026-11-21 or "
            "2026-11-21T14:30"
        ) from None
    if end_of_day and len(text) == len("2026-11-21"):
        moment += dt.timedelta(days=1)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the rig's local time zone
    return moment.astimezone(dt.UTC).isoformat()


def _report(
    settings: Settings,
    name: str,
    columns: list[str],
    rows: list[dict[str, Any]],
    timeline_list: list[Timeline],
    filters: dict[str, str] | None = None,
) -> Report:
    from ..adapters.database.event_store import describe_store
    from ..projections.report_model import Report

    return Report(
        title=f"labledger {name}",
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        source=describe_store(settings),
        columns=columns,
        rows=rows,
        timelines=timeline_list,
        filters=filters or {},
        empty=EMPTY.get(name, "nothing recorded yet") if not filters else FILTERED,
    )


def _check_output(args: argparse.Namespace) -> None:
    """Refused before anything is read: a file needs a format."""
    if args.output is not None and not (args.json or args.csv or args.html):
        raise LabledgerError("--output needs a format: add --json, --csv or --html")


def _emit(console: Console, args: argparse.Namespace, report: Report) -> int:
    """The report as asked: terminal table, or JSON / CSV / HTML to the terminal or a file."""
    from ..adapters.filesystem.atomic import write_atomically
    from ..projections.html import render_html
    from ..projections.render import table, to_csv, to_json
    from ..projections.table_layout import REPORT_LAYOUTS

    if args.json:
        text = to_json(report.rows) + "\n"
    elif args.csv:
        text = to_csv(report.rows, _all_columns(report))
    elif args.html:
        text = render_html(report)
    else:
        name = report.title.removeprefix("labledger ")
        apply_wide(console, args)
        table(console, name, report.rows, report.columns, report.empty, REPORT_LAYOUTS.get(name))
        return 0
    if args.output is None:
        console.out(text, end="", highlight=False)
    else:
        write_atomically(args.output, text, mode=0o644)
        say(console, f"wrote {args.output} ({plural(len(report.rows), 'row')})")
    return 0


def _all_columns(report: Report) -> list[str]:
    """The terminal columns first, then every other field the rows carry."""
    columns = list(report.columns)
    for row in report.rows:
        columns.extend(key for key in row if key not in columns)
    return columns
