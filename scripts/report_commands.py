"""`labledger status | audit | pending | replay | project`: the reports and their read models.

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

from ..domain.errors import LabledgerError
from .command_parser import SESSION, examples, unknown
from .options import add_global_options
from .output_flags import add_wide, apply_wide

if TYPE_CHECKING:
    from rich.console import Console

    from ..adapters.database.views import Views
    from ..adapters.settings import Settings
    from ..projections.report_model import Report, Timeline
    from ..projections.rows import AuditEntry, SessionRow


def add_commands(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="per session: files discovered, rejected, registered, protected, moved; Alyx eid, "
        "transfer, pending work and the latest error",
        description="One row per session. discovered: valid files (registered or not); "
        "registered: on Alyx as they are now; protected: files that met a protected revision; "
        "moved: files moved into a revision folder; pending: intents sync has still to perform.",
        epilog=examples(
            "labledger status",
            f"labledger status {SESSION}   # or its key, or its Alyx eid",
            "labledger status --html -o status.html",
        ),
    )
    _sessions_argument(status, "only these sessions (default: all)")
    _output_options(status)
    status.set_defaults(handler=run_status)

    audit = commands.add_parser(
        "audit",
        help="who did what, when and from which host (filter by session, subject, user, time, "
        "kind)",
        description="The audit trail: every event with its Alyx and OS user, host, tool version "
        "and operation. Times are UTC; --since/--until take ISO dates or times (local time "
        "unless an offset is given; a date-only --until includes that day).",
        epilog=examples(
            "labledger audit --subject algernon --since 2026-11-21",
            "labledger audit --kind RegistrationFailed --kind Rejected",
            "labledger audit --user olivier --since 2026-11-21T09:00 --until 2026-11-21T12:00",
            "labledger audit --limit 20 --csv -o audit.csv",
        ),
    )
    audit.add_argument(
        "--session",
        action="append",
        default=[],
        metavar="SESSION",
        help="a session folder, key (lab/subject/date/number) or Alyx eid (repeat for several)",
    )
    audit.add_argument(
        "--subject",
        action="append",
        default=[],
        help="a subject's nickname, e.g. algernon (repeat for several)",
    )
    audit.add_argument(
        "--user", action="append", default=[], help="Alyx or OS user name (repeat for several)"
    )
    audit.add_argument(
        "--since", metavar="TIME", help="from this time, inclusive: 2026-11-21 or 2026-11-21T09:30"
    )
    audit.add_argument(
        "--until", metavar="TIME", help="up to this time, exclusive (a date alone: to its end)"
    )
    audit.add_argument(
        "--kind",
        action="append",
        default=[],
        type=audit_kind,
        help="intent, outcome, fact, or an event name such as Registered or "
        "Session.RegistrationFailed (repeat for several)",
    )
    audit.add_argument("--limit", type=int, metavar="N", help="only the latest N events")
    _output_options(audit)
    audit.set_defaults(handler=run_audit)

    pending = commands.add_parser(
        "pending",
        help="everything `labledger sync` would do, in the order it would do it",
        description="The pending work, numbered in the order sync performs it: Alyx first, "
        "session by session (the session, its moves into revision folders, its files), then "
        "weighings and water, then the watchdog's manifests, a service restart last. Each step "
        "says since when it waits, who asked, failed attempts, what it waits for and the last "
        "error.",
        epilog=examples(
            "labledger pending",
            f"labledger pending {SESSION}",
            "labledger pending --json   # with each step's operation id, for `labledger retry`",
        ),
    )
    _sessions_argument(pending, "only the work of these sessions (default: all)")
    _output_options(pending)
    pending.set_defaults(handler=run_pending)

    replay = commands.add_parser(
        "replay",
        help="rebuild the reports' read models from the first event of the log",
        description="Forgets the read models and folds the whole log again, a page per "
        "transaction. The result equals what the incremental updates built; use it after an "
        "upgrade that changes a report, or to check.",
        epilog=examples("labledger replay", "labledger replay --store postgres"),
    )
    add_global_options(replay)
    replay.set_defaults(handler=run_replay)

    project = commands.add_parser(
        "project",
        help="bring the read models up to date with the log (--follow: keep them current)",
        description="Folds the events recorded since the last update. With --follow (PostgreSQL "
        "only) it keeps doing so as other rigs write, through eventsourcing's projection runner, "
        "until interrupted.",
        epilog=examples(
            "labledger project",
            "labledger project --store postgres --follow   # as a service, until stopped",
            "labledger project --store postgres --follow --timeout 60",
        ),
    )
    project.add_argument(
        "--follow", action="store_true", help="keep following new events (PostgreSQL)"
    )
    project.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="with --follow: stop after this long (default: until Ctrl-C)",
    )
    add_global_options(project)
    project.set_defaults(handler=run_project)


def _sessions_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "sessions",
        nargs="*",
        metavar="SESSION",
        help=f"a session folder, key (lab/subject/date/number) or Alyx eid; {help_text}",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="JSON: every field of every row")
    formats.add_argument("--csv", action="store_true", help="CSV: every field of every row")
    formats.add_argument(
        "--html",
        action="store_true",
        help="one self-contained HTML page with a timeline per session",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of the terminal"
    )
    add_wide(parser)
    add_global_options(parser)


# -- handlers --------------------------------------------------------------------------------


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
        console.print("nothing pending: sync has nothing to do", markup=False)
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
    console.print(
        f"read models rebuilt from the log: position {position}, in {seconds:.2f} s",
        markup=False,
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
    console.print(
        f"read models at position {position} ({position - before} events folded)", markup=False
    )
    if not args.follow:
        return 0
    from ..adapters.database.follow import follow  # imported here: only --follow needs it

    def started(position: int) -> None:
        console.print(
            f"following {describe_store(settings)} from position {position}; stop with Ctrl-C",
            markup=False,
            highlight=False,
        )

    reached = follow(settings, args.timeout, started)
    console.print(f"stopped at position {reached}", markup=False)
    return 0


# -- helpers ---------------------------------------------------------------------------------


def _views(settings: Settings, catch_up: bool = True) -> Views:
    from ..adapters.database.event_store import open_ledger
    from ..adapters.database.views import open_views

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
    paths = [Path(text).expanduser() for text in wanted]
    return select_sessions(every, wanted, [(path.absolute(), path.resolve()) for path in paths])


def _entries(
    views: Views, args: argparse.Namespace, session_ids: Sequence[str]
) -> list[AuditEntry]:
    """The audit entries the HTML timelines need (none for other formats)."""
    from ..projections.audit_query import AuditQuery

    if not args.html or not session_ids:
        return []
    return views.audit(AuditQuery(session_ids=tuple(session_ids)))


def audit_kind(text: str) -> str:
    """A `--kind` value, checked as it is parsed (a usage error, exit 2, when unknown) against
    the kinds and the ledger's event names, by class name or with its aggregate (`Registered`,
    `Session.Registered`). The event classes are imported only when --kind is given."""
    from ..domain.event_catalog import event_classes
    from ..projections.audit_query import KINDS

    events = sorted({cls.__qualname__ for cls in event_classes().values()})
    short = sorted({name.rpartition(".")[2] for name in events})
    if text in KINDS or text in events or text in short:
        return text
    listing = f"{', '.join(KINDS)}, or an event name: {', '.join(short)} (or Aggregate.Name)"
    raise argparse.ArgumentTypeError(unknown("kind", text, [*KINDS, *short, *events], listing))


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
        empty = "nothing matches these filters" if report.filters else "nothing recorded yet"
        name = report.title.removeprefix("labledger ")
        apply_wide(console, args)
        table(console, name, report.rows, report.columns, empty, REPORT_LAYOUTS.get(name))
        return 0
    if args.output is None:
        console.out(text, end="", highlight=False)
    else:
        write_atomically(args.output, text, mode=0o644)
        console.print(f"wrote {args.output} ({len(report.rows)} rows)", markup=False)
    return 0


def _all_columns(report: Report) -> list[str]:
    """The terminal columns first, then every other field the rows carry."""
    columns = list(report.columns)
    for row in report.rows:
        columns.extend(key for key in row if key not in columns)
    return columns
